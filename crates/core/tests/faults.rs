//! Every way a provider's answer can go wrong, against create, query, refund and cancel:
//! the payment is kept, the error says what happened, and nothing wrong is applied.
//! Real HTTP to the embedded sandbox on 127.0.0.1, a real SQLite file.

mod support;
use paydesk_core::{AppError, CreatePayment, Paydesk};
use paydesk_gateways::PaymentStatus;
use paydesk_sandbox::Fault;
use support::{demo_paydesk_quiet as demo_paydesk, sandbox};

fn counter(amount: &str) -> CreatePayment {
    CreatePayment {
        profile: "demo".into(),
        amount: amount.into(),
        currency: "USD".into(),
        wallet: "alipay".into(),
        terminal: None,
        os_type: None,
        description: None,
        method: None,
        customer_no: None,
        ..Default::default()
    }
}

/// The faults that spoil an answer, with the error kind each must give.
fn spoilers() -> Vec<(Fault, &'static str)> {
    vec![
        (Fault::NoAnswer, "provider_unreachable"),
        (Fault::Http500, "provider_protocol"),
        (Fault::MalformedJson, "provider_protocol"),
        (Fault::Truncated, "provider_unreachable"),
        (Fault::Oversized, "provider_protocol"),
        (Fault::WrongTransaction, "provider_protocol"),
    ]
}

fn events_text(paydesk: &Paydesk, reference: &str) -> String {
    serde_json::to_string(&paydesk.payment_detail(reference).unwrap().events).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_keeps_the_payment_whatever_the_answer_and_a_retry_finds_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    for (fault, kind) in spoilers() {
        sandbox(&paydesk).set_fault("create-trans-qrcode", fault.clone(), Some(1));
        let e = paydesk.create_payment(&counter("2.50")).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        let json = serde_json::to_value(&e).unwrap();
        let reference = json["reference"].as_str().unwrap_or_else(|| panic!("{fault:?} names the payment: {json}"));
        let kept = paydesk.payment(reference).unwrap();
        assert_eq!(kept.status, PaymentStatus::Created, "{fault:?} leaves it created");
        assert!(kept.link.is_none(), "{fault:?}: no link from a spoiled answer");
        let text = events_text(&paydesk, reference);
        assert!(text.len() < 64 * 1024, "{fault:?}: events stay small ({} bytes)", text.len());
        if fault == Fault::WrongTransaction {
            assert!(text.contains("suspicious") && text.contains("PD-SOMEONE-ELSE"), "{text}");
        }
        // The provider did create it; the retry (same reference) gets that transaction.
        let retried = paydesk.retry_payment(reference).await.unwrap();
        assert_eq!(retried.status, PaymentStatus::Pending, "{fault:?}");
        let at_provider = sandbox(&paydesk).payment(reference).unwrap();
        assert_eq!(retried.transaction_no.as_deref(), Some(at_provider.transaction_no.as_str()), "{fault:?}");
    }
    // A slow provider is only slow.
    sandbox(&paydesk).set_fault("create-trans-qrcode", Fault::Delay { ms: 300 }, Some(1));
    assert_eq!(paydesk.create_payment(&counter("2.50")).await.unwrap().status, PaymentStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoiled_query_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let sale = paydesk.create_payment(&counter("1.00")).await.unwrap();
    sandbox(&paydesk).settle(&sale.reference, true).unwrap();
    for (fault, kind) in spoilers() {
        sandbox(&paydesk).set_fault("tran-query", fault.clone(), Some(1));
        let e = paydesk.refresh(&sale.reference).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        assert_eq!(paydesk.payment(&sale.reference).unwrap().status, PaymentStatus::Pending, "{fault:?}");
    }
    // The answer about another sale (0.01 CNY for a 1.00 USD sale) was evidence, not news.
    let detail = paydesk.payment_detail(&sale.reference).unwrap();
    assert!(detail.events.iter().any(|e| e.kind == "suspicious"));
    assert_eq!(paydesk.refresh(&sale.reference).await.unwrap().status, PaymentStatus::Paid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoiled_refund_stays_unconfirmed_and_is_resent_never_paid_twice() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    for (fault, kind) in spoilers() {
        let sale = paydesk.create_payment(&counter("10.00")).await.unwrap();
        sandbox(&paydesk).settle(&sale.reference, true).unwrap();
        paydesk.refresh(&sale.reference).await.unwrap();
        sandbox(&paydesk).set_fault("refund", fault.clone(), Some(1));
        let e = paydesk.refund(&sale.reference, Some("4.00")).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        let detail = paydesk.payment_detail(&sale.reference).unwrap();
        assert_eq!(detail.payment.status, PaymentStatus::Paid, "{fault:?}");
        assert_eq!(detail.refunds[0].status, "created", "{fault:?}: outcome unknown, kept");
        assert_eq!(detail.refundable, "6.00", "{fault:?}: the unconfirmed refund counts");
        // `tx status` settles it: the provider made it once; resending finds that one.
        let refreshed = paydesk.refresh(&sale.reference).await.unwrap();
        assert_eq!(refreshed.status, PaymentStatus::PartiallyRefunded, "{fault:?}");
        let at_provider = sandbox(&paydesk).payment(&sale.reference).unwrap();
        assert_eq!(at_provider.refunds.len(), 1, "{fault:?}: paid out once");
        assert_eq!(paydesk.payment_detail(&sale.reference).unwrap().refunds[0].status, "succeeded");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoiled_cancel_is_not_taken_as_a_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    for (fault, kind) in spoilers() {
        let sale = paydesk.create_payment(&counter("3.00")).await.unwrap();
        sandbox(&paydesk).set_fault("cancel", fault.clone(), Some(1));
        let e = paydesk.cancel(&sale.reference).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        assert!(matches!(
            &e,
            AppError::ProviderUnreachable { reference: Some(_), .. }
                | AppError::ProviderProtocol { reference: Some(_), .. }
        ));
        assert_eq!(paydesk.payment(&sale.reference).unwrap().status, PaymentStatus::Pending, "{fault:?}");
        // Asking again settles it: the provider did close it.
        assert_eq!(paydesk.refresh(&sale.reference).await.unwrap().status, PaymentStatus::Expired, "{fault:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_resends_only_what_the_provider_never_saw_and_cancel_ends_what_never_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    // One request the provider never saw, one it acted on without our hearing the answer.
    sandbox(&paydesk).set_fault("create-trans-qrcode", Fault::Unreachable, Some(1));
    let never_seen = paydesk.create_payment(&counter("1.10")).await.unwrap_err();
    let never_seen = serde_json::to_value(&never_seen).unwrap()["reference"].as_str().unwrap().to_string();
    assert!(sandbox(&paydesk).payment(&never_seen).is_none());
    sandbox(&paydesk).set_fault("create-trans-qrcode", Fault::NoAnswer, Some(1));
    let unheard = paydesk.create_payment(&counter("1.20")).await.unwrap_err();
    let unheard = serde_json::to_value(&unheard).unwrap()["reference"].as_str().unwrap().to_string();
    let at_provider = sandbox(&paydesk).payment(&unheard).unwrap().transaction_no;

    let summary = paydesk.recover(None).await.unwrap();
    assert_eq!((summary.payments_found, summary.payments_settled, summary.payments_resent), (2, 1, 1), "{summary:?}");
    assert!(summary.left.is_empty());
    assert_eq!(
        paydesk.payment(&unheard).unwrap().transaction_no.as_deref(),
        Some(at_provider.as_str()),
        "found, not resent"
    );
    assert_eq!(paydesk.payment(&never_seen).unwrap().status, PaymentStatus::Pending, "sent once, now");
    assert_eq!(paydesk.recover(None).await.unwrap().payments_found, 0);

    // Abandoned before it ever arrived: cancel ends it here, and recovery leaves it alone.
    sandbox(&paydesk).set_fault("create-trans-qrcode", Fault::Unreachable, Some(1));
    let abandoned = paydesk.create_payment(&counter("1.30")).await.unwrap_err();
    let abandoned = serde_json::to_value(&abandoned).unwrap()["reference"].as_str().unwrap().to_string();
    assert_eq!(paydesk.cancel(&abandoned).await.unwrap().status, PaymentStatus::Cancelled);
    assert_eq!(paydesk.recover(None).await.unwrap().payments_found, 0);
    assert!(sandbox(&paydesk).payment(&abandoned).is_none(), "never sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_no_phone_should_open_never_becomes_a_qr() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    sandbox(&paydesk).set_fault("create-trans-qrcode", Fault::HostileLink, Some(1));
    let e = paydesk.create_payment(&counter("4.00")).await.unwrap_err();
    assert_eq!(e.kind(), "provider_protocol", "{e}");
    assert!(e.to_string().contains("javascript:"), "{e}");
    let reference = serde_json::to_value(&e).unwrap()["reference"].as_str().unwrap().to_string();
    let kept = paydesk.payment(&reference).unwrap();
    assert_eq!((kept.status, kept.link), (PaymentStatus::Created, None), "kept, without the link");
    assert!(kept.transaction_no.is_some(), "the provider's id is kept, so cancel finds it");
    assert!(paydesk.qr_png(&reference, 300).is_err(), "no QR of it");
    assert!(events_text(&paydesk, &reference).contains("suspicious"));
    assert_eq!(paydesk.cancel(&reference).await.unwrap().status, PaymentStatus::Cancelled);
}
