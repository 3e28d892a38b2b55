//! Two counters on one ledger (run on both engines: one SQLite file, or one PostgreSQL
//! database with PAYDESK_TEST_ENGINE=postgres): capture, void and refund rules hold across
//! them, and a sale at one reaches the other.

mod support;

use paydesk_core::{AppError, CreatePayment};
use std::time::Duration;
use support::{demo_paydesk_quiet, sandbox, second_counter};

fn authorised_sale() -> CreatePayment {
    CreatePayment {
        profile: "demo-paykka".into(),
        amount: "13.00".into(),
        currency: "USD".into(),
        method: Some("link".into()),
        capture: Some("manual".into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_void_and_refunds_hold_across_two_counters() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = demo_paydesk_quiet(&dir_a).await;
    let b = second_counter(&dir_b, &a).await;

    // A sale at A is seen at B, by its reference.
    let sale = a.create_payment(&authorised_sale()).await.unwrap();
    assert_eq!(b.payment(&sale.reference).unwrap().amount_minor, 1300);
    sandbox(&a).settle_paykka(&sale.reference, true, false).unwrap();
    assert_eq!(b.refresh(&sale.reference).await.unwrap().status.as_str(), "authorized");

    // Both press Capture (all of it) and Void at once: exactly one goes through; the other
    // is told plainly, and nothing is captured twice.
    let (captured, voided) = tokio::join!(a.capture(&sale.reference, None, true), b.void(&sale.reference, None));
    let outcomes = [captured.is_ok(), voided.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{captured:?} / {voided:?}");
    for refused in [&captured.as_ref().err(), &voided.as_ref().err()].into_iter().flatten() {
        assert!(matches!(refused, AppError::NotAllowed { .. } | AppError::ProviderRejected { .. }), "{refused:?}");
    }
    let now = a.payment(&sale.reference).unwrap();
    assert!(matches!(now.status.as_str(), "paid" | "cancelled"), "{:?}", now.status);

    // Refunds racing from both counters for one remainder: never above it.
    let sale = a
        .create_payment(&CreatePayment {
            profile: "demo".into(),
            amount: "10.00".into(),
            currency: "USD".into(),
            wallet: "alipay".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    sandbox(&a).settle(sale.transaction_no.as_deref().unwrap(), true).unwrap();
    a.refresh(&sale.reference).await.unwrap();
    let (r1, r2, r3) = tokio::join!(
        a.refund(&sale.reference, Some("6.00")),
        b.refund(&sale.reference, Some("6.00")),
        b.refund(&sale.reference, Some("6.00"))
    );
    // One 6.00 fits in 10.00: the others are refused for the remainder, or (pressed while
    // the first was on its way) given that same refund back, never a second one.
    let mut made: Vec<String> = Vec::new();
    for r in [&r1, &r2, &r3] {
        match r {
            Ok(outcome) => made.push(outcome.refund.refund_reference.clone()),
            Err(e) => assert!(matches!(e, AppError::InvalidInput { field, .. } if field == "amount"), "{e:?}"),
        }
    }
    made.dedup();
    assert_eq!(made.len(), 1, "{r1:?} {r2:?} {r3:?}");
    let detail = b.payment_detail(&sale.reference).unwrap();
    let committed: i64 = detail.refunds.iter().filter(|r| r.status != "failed").map(|r| r.amount_minor).sum();
    assert_eq!(committed, 600);
    assert!(a.verify_ledger().unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_at_one_counter_is_pushed_to_the_other_on_a_shared_ledger() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = demo_paydesk_quiet(&dir_a).await;
    let b = second_counter(&dir_b, &a).await;
    let mut heard = b.status_changes();
    let sale = a
        .create_payment(&CreatePayment {
            profile: "demo".into(),
            amount: "2.00".into(),
            currency: "USD".into(),
            wallet: "alipay".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Read at the other counter at once, on either engine.
    assert_eq!(b.payment(&sale.reference).unwrap().amount_minor, 200);
    if !a.ledger_is_shared() {
        // One SQLite file on one machine has no server to push through: the other window
        // follows by its slow poll, which the read above stands for. Nothing arrives early.
        assert!(heard.try_recv().is_err(), "no push between two SQLite counters");
        return;
    }
    let id = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let id = heard.recv().await.unwrap();
            if b.payment_by_id(id).unwrap().is_some_and(|p| p.reference == sale.reference) {
                return id;
            }
        }
    })
    .await
    .expect("pushed to the other counter within a second");
    assert!(id > 0);
}
