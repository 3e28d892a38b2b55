//! Vexora through the core against the embedded sandbox over HTTP, with the notification
//! listener as the window runs it: a store sale paid by notification, a partial payment
//! kept as partly paid with what arrived, a declined one, the same sale resent exactly as
//! asked (payer included) after no answer, and what Vexora lacks refused before anything
//! is recorded.

mod support;

use paydesk_core::{AppError, CreatePayment, Payer};
use paydesk_gateways::PaymentStatus;
use paydesk_sandbox::Fault;
use std::time::Duration;

fn store_sale(amount: &str, ip: &str) -> CreatePayment {
    CreatePayment {
        profile: "demo-vexora".into(),
        amount: amount.into(),
        currency: "TWD".into(),
        method: Some("qr".into()),
        payer: Some(Payer {
            channel: Some("STORE".into()),
            mobile: Some("0912345678".into()),
            first_name: Some("Mei".into()),
            last_name: Some("Lin".into()),
            email: Some("mei@example.com".into()),
            ip_address: Some(ip.into()),
            postcode: Some("100".into()),
            address: Some("1 Zhongshan Rd".into()),
            ..Payer::default()
        }),
        ..CreatePayment::default()
    }
}

/// Waits for the listener to apply what the sandbox notified.
async fn status_of(
    paydesk: &paydesk_core::Paydesk,
    reference: &str,
    wanted: PaymentStatus,
) -> paydesk_core::PaymentView {
    for _ in 0..100 {
        let view = paydesk.payment(reference).unwrap();
        if view.status == wanted {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    paydesk.payment(reference).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vexora_sales_through_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = support::demo_paydesk(&dir).await;
    let sandbox = support::sandbox(&paydesk);

    let sale = paydesk.create_payment(&store_sale("300", "203.0.113.30")).await.unwrap();
    assert_eq!(sale.status, PaymentStatus::Pending);
    assert_eq!(sale.provider, "vexora");
    assert!(sale.link.as_deref().unwrap().contains("/vexora/pay/"));
    sandbox.settle_vexora(&sale.reference, "pay").unwrap();
    let paid = status_of(&paydesk, &sale.reference, PaymentStatus::Paid).await;
    assert_eq!(paid.status, PaymentStatus::Paid, "the notification turned it paid");
    let detail = paydesk.payment_detail(&sale.reference).unwrap();
    assert!(detail.events.iter().any(|e| e.kind == "ipn"), "applied from the notification");
    assert!(!detail.actions.contains(&"refund"), "Vexora offers no refund: {:?}", detail.actions);

    let part = paydesk.create_payment(&store_sale("500", "203.0.113.31")).await.unwrap();
    sandbox.settle_vexora(&part.reference, "partial").unwrap();
    let view = status_of(&paydesk, &part.reference, PaymentStatus::PartiallyPaid).await;
    assert_eq!(view.status, PaymentStatus::PartiallyPaid);
    assert_eq!(view.paid_amount.as_deref(), Some("250.00"));
    assert_eq!(view.amount, "500.00", "the sale's amount stays what was asked");

    // The rest: at most what is due, in the same currency, linked both ways, the payer reused.
    let rest = |amount: &str| CreatePayment {
        profile: "demo-vexora".into(),
        amount: amount.into(),
        currency: "TWD".into(),
        method: Some("qr".into()),
        rest_of: Some(part.reference.clone()),
        ..CreatePayment::default()
    };
    let too_much = paydesk.create_payment(&rest("251")).await.unwrap_err();
    assert!(matches!(&too_much, AppError::InvalidInput { field, .. } if field == "amount"), "{too_much:?}");
    assert!(too_much.to_string().contains("at most the 250.00 TWD still due"), "{too_much}");
    let not_partial = paydesk
        .create_payment(&CreatePayment { rest_of: Some(sale.reference.clone()), ..rest("10") })
        .await
        .unwrap_err();
    assert!(matches!(&not_partial, AppError::InvalidInput { field, .. } if field == "rest_of"), "{not_partial:?}");
    let second = paydesk.create_payment(&rest("250")).await.unwrap();
    assert_eq!((second.amount.as_str(), second.status), ("250.00", PaymentStatus::Pending));
    let first_history = paydesk.payment_detail(&part.reference).unwrap().events;
    assert!(
        first_history.iter().any(|e| e.kind == "rest_requested" && e.detail["reference"] == second.reference.as_str()),
        "the first names the sale collecting its rest"
    );
    let second_history = paydesk.payment_detail(&second.reference).unwrap().events;
    assert!(second_history.iter().any(|e| e.kind == "rest_of" && e.detail["reference"] == part.reference.as_str()));
    sandbox.settle_vexora(&second.reference, "pay").unwrap();
    assert_eq!(status_of(&paydesk, &second.reference, PaymentStatus::Paid).await.status, PaymentStatus::Paid);

    let declined = paydesk.create_payment(&store_sale("120", "203.0.113.32")).await.unwrap();
    sandbox.settle_vexora(&declined.reference, "decline").unwrap();
    assert_eq!(status_of(&paydesk, &declined.reference, PaymentStatus::Failed).await.status, PaymentStatus::Failed);

    // No answer to the checkout: kept, and resent with the same reference and payer.
    sandbox.set_fault("checkout", Fault::NoAnswer, Some(1));
    let err = paydesk.create_payment(&store_sale("80", "203.0.113.33")).await.unwrap_err();
    let AppError::ProviderUnreachable { reference: Some(kept), .. } = &err else { panic!("{err:?}") };
    let resent = paydesk.retry_payment(kept).await.unwrap();
    assert_eq!(resent.status, PaymentStatus::Pending, "the payer was sent again with it");
    assert_eq!(&resent.reference, kept);

    // What Vexora does not offer is refused before anything is recorded.
    let refused = paydesk.refund(&sale.reference, Some("100")).await.unwrap_err();
    assert!(matches!(refused, AppError::NotAllowed { .. }), "{refused:?}");
    assert!(paydesk.payment_detail(&sale.reference).unwrap().refunds.is_empty());
    let refused = paydesk.cancel(&resent.reference).await.unwrap_err();
    assert!(refused.to_string().contains("does not offer cancel"), "{refused}");
}
