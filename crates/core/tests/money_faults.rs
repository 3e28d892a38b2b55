//! Money under faults, each defect found from outside reproduced here: a capture whose
//! answer is lost is never taken twice, refunds are held to what was captured, a partial
//! capture is not booked as paid, a wrong transaction number never locks a payment out,
//! and a sale whose link was never recorded gets it back. Real HTTP to the sandbox's
//! PayKKa on 127.0.0.1, a real ledger (SQLite, or PostgreSQL with PAYDESK_TEST_ENGINE).

mod support;
use paydesk_core::{AppError, CreatePayment, Paydesk};
use paydesk_sandbox::Fault;
use support::{demo_paydesk_quiet as demo_paydesk, sandbox};

fn authorised_sale(amount: &str) -> CreatePayment {
    CreatePayment {
        profile: "demo-paykka".into(),
        amount: amount.into(),
        currency: "USD".into(),
        method: Some("link".into()),
        capture: Some("manual".into()),
        ..Default::default()
    }
}

/// A sale the shopper authorised (nothing captured yet).
async fn authorised(paydesk: &Paydesk, amount: &str) -> String {
    let sale = paydesk.create_payment(&authorised_sale(amount)).await.unwrap();
    sandbox(paydesk).settle_paykka(&sale.reference, true, false).unwrap();
    assert_eq!(paydesk.refresh(&sale.reference).await.unwrap().status.as_str(), "authorized");
    sale.reference
}

/// What the provider itself says it captured and refunded (minor units).
fn at_provider(paydesk: &Paydesk, reference: &str) -> (i64, i64, String) {
    let o = sandbox(paydesk).paykka_order(reference).unwrap();
    (o.balances["captured_amount"].as_i64().unwrap(), o.balances["refunded_amount"].as_i64().unwrap(), o.status)
}

fn movement_statuses(paydesk: &Paydesk, reference: &str) -> Vec<(String, String)> {
    paydesk.payment_detail(reference).unwrap().movements.into_iter().map(|m| (m.kind, m.status.to_string())).collect()
}

const LOST: [Fault; 3] = [Fault::NoAnswer, Fault::Http500, Fault::Truncated];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paykka_capture_whose_answer_is_lost_is_taken_once_when_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    for fault in LOST {
        let reference = authorised(&paydesk, "25.00").await;
        sandbox(&paydesk).set_fault("capture", fault.clone(), Some(1));
        let lost = paydesk.capture(&reference, Some("5.00"), false).await.unwrap_err();
        assert_eq!(lost.kind(), "provider_unreachable", "{fault:?}: {lost}");
        assert_eq!(at_provider(&paydesk, &reference).0, 500, "{fault:?}: the provider did capture");
        assert_eq!(movement_statuses(&paydesk, &reference), [("capture".into(), "unknown".into())], "{fault:?}");
        // While it is unknown, nothing else moves the money.
        let other = paydesk.capture(&reference, Some("3.00"), false).await.unwrap_err();
        assert!(matches!(other, AppError::NotAllowed { .. }), "{fault:?}: {other:?}");
        assert!(matches!(paydesk.void(&reference, None).await, Err(AppError::NotAllowed { .. })));
        assert!(!paydesk.payment_detail(&reference).unwrap().actions.contains(&"capture"));
        // The same command again settles it by the provider's balances: not sent again.
        let view = paydesk.capture(&reference, Some("5.00"), false).await.unwrap();
        assert_eq!(view.status.as_str(), "partially_captured", "{fault:?}");
        assert_eq!(view.paid_amount.as_deref(), Some("5.00"));
        assert_eq!(at_provider(&paydesk, &reference).0, 500, "{fault:?}: captured exactly once");
        assert_eq!(movement_statuses(&paydesk, &reference), [("capture".into(), "succeeded".into())]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_capture_is_settled_by_a_refresh_and_a_void_or_refund_asked_again_moves_money_once() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    for fault in LOST {
        // Capture lost, then `tx status`: settled, nothing sent again.
        let reference = authorised(&paydesk, "20.00").await;
        sandbox(&paydesk).set_fault("capture", fault.clone(), Some(1));
        paydesk.capture(&reference, None, true).await.unwrap_err();
        let view = paydesk.refresh(&reference).await.unwrap();
        assert_eq!(view.status.as_str(), "paid", "{fault:?}");
        assert_eq!(movement_statuses(&paydesk, &reference), [("capture".into(), "succeeded".into())]);
        assert_eq!(at_provider(&paydesk, &reference).0, 2000);

        // Refund lost, asked again: the same refund reference, paid out once.
        sandbox(&paydesk).set_fault("refund", fault.clone(), Some(1));
        paydesk.refund(&reference, Some("3.00")).await.unwrap_err();
        let done = paydesk.refund(&reference, Some("3.00")).await.unwrap();
        assert_eq!(done.refund.status, "succeeded", "{fault:?}");
        assert_eq!(at_provider(&paydesk, &reference).1, 300, "{fault:?}: refunded exactly once");
        assert_eq!(paydesk.payment_detail(&reference).unwrap().refunds.len(), 1);

        // Void lost, asked again: settled as done.
        let reference = authorised(&paydesk, "20.00").await;
        sandbox(&paydesk).set_fault("void", fault.clone(), Some(1));
        paydesk.void(&reference, None).await.unwrap_err();
        assert_eq!(movement_statuses(&paydesk, &reference), [("void".into(), "unknown".into())]);
        let view = paydesk.void(&reference, None).await.unwrap();
        assert_eq!(view.status.as_str(), "cancelled", "{fault:?}");
        assert_eq!(at_provider(&paydesk, &reference).2, "CANCELED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_that_never_arrived_is_sent_again_with_its_own_reference() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let reference = authorised(&paydesk, "10.00").await;
    sandbox(&paydesk).set_fault("capture", Fault::Unreachable, Some(1));
    paydesk.capture(&reference, Some("4.00"), false).await.unwrap_err();
    assert_eq!(at_provider(&paydesk, &reference).0, 0, "it never arrived");
    let view = paydesk.capture(&reference, Some("4.00"), false).await.unwrap();
    assert_eq!(view.status.as_str(), "partially_captured");
    assert_eq!(at_provider(&paydesk, &reference).0, 400);
    let movements = paydesk.payment_detail(&reference).unwrap().movements;
    assert_eq!(movements.len(), 1, "one capture, one reference: {movements:?}");
    assert_eq!(movements[0].reference, format!("{reference}-C1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_are_checked_against_what_was_captured_not_the_amount() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let reference = authorised(&paydesk, "13.00").await;
    paydesk.capture(&reference, Some("8.00"), false).await.unwrap();
    let too_much = paydesk.refund(&reference, Some("9.00")).await.unwrap_err();
    assert_eq!(too_much.kind(), "invalid_input", "{too_much}");
    // Two at once: one refund is recorded; the other either waits for it and finds it
    // unconfirmed (then resends that one, under its own reference) or is refused.
    let (a, b) = tokio::join!(paydesk.refund(&reference, Some("5.00")), paydesk.refund(&reference, Some("5.00")));
    let named: std::collections::BTreeSet<_> =
        [a, b].into_iter().flatten().map(|r| r.refund.refund_reference).collect();
    assert_eq!(named.len(), 1, "{named:?}");
    let over = paydesk.refund(&reference, Some("5.00")).await.unwrap_err();
    assert_eq!(over.kind(), "invalid_input", "3.00 of the 8.00 captured is left: {over}");
    let detail = paydesk.payment_detail(&reference).unwrap();
    assert_eq!(detail.refunded, "5.00");
    assert_eq!(detail.refundable, "3.00", "what was captured, less what was refunded");
    assert_eq!(at_provider(&paydesk, &reference).1, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_captured_payment_is_not_booked_as_paid() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let reference = authorised(&paydesk, "25.00").await;
    let view = paydesk.capture(&reference, Some("15.00"), false).await.unwrap();
    assert_eq!((view.status.as_str(), view.paid_amount.as_deref()), ("partially_captured", Some("15.00")));
    let detail = paydesk.payment_detail(&reference).unwrap();
    assert_eq!((detail.captured.as_str(), detail.capturable.as_str()), ("15.00", "10.00"));
    assert!(detail.actions.contains(&"void") && detail.actions.contains(&"capture"), "{:?}", detail.actions);
    let q = paydesk_core::books::TxQuery { text: Some(reference.clone()), ..Default::default() };
    let totals = paydesk.tx_totals(&q).unwrap();
    assert_eq!(totals[0].takings.gross, "15.00", "gross is money taken");
    // A refresh (the provider says SUCCESS with the balances) keeps it partly captured.
    assert_eq!(paydesk.refresh(&reference).await.unwrap().status.as_str(), "partially_captured");
    // The rest released: paid, for what was captured.
    let view = paydesk.void(&reference, None).await.unwrap();
    assert_eq!((view.status.as_str(), view.paid_amount.as_deref()), ("paid", Some("15.00")));
    assert_eq!(paydesk.tx_totals(&q).unwrap()[0].takings.gross, "15.00");
    let (captured, _, status) = at_provider(&paydesk, &reference);
    assert_eq!((captured, status.as_str()), (1500, "SUCCESS"));
    // Daily report: money taken, refunds and net, and a total row.
    let days = paydesk.daily_report(&q, false).unwrap();
    let total = days.iter().find(|d| d.day == "total").unwrap();
    assert_eq!((total.takings.gross.as_str(), total.takings.net.as_str(), total.count), ("15.00", "15.00", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_transaction_number_never_locks_a_payment_out() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let reference = authorised(&paydesk, "7.00").await;
    let right = paydesk.payment(&reference).unwrap().transaction_no.unwrap();
    {
        // As if a foreign answer's order id had been stored.
        let ledger = paydesk_ledger::Ledger::open_at(&paydesk.ledger_location()).unwrap();
        let id = ledger.payment_by_reference(&reference).unwrap().unwrap().id;
        ledger.record_provider_ids(id, "GWSOMEONEELSE", None).unwrap();
    }
    let view = paydesk.refresh(&reference).await.unwrap();
    assert_eq!(view.transaction_no.as_deref(), Some(right.as_str()), "asked by our reference and corrected");
    assert_eq!(view.status.as_str(), "authorized");
    let events = paydesk.payment_detail(&reference).unwrap().events;
    assert!(events.iter().any(|e| e.kind == "suspicious" && e.detail["kept"] == "GWSOMEONEELSE"));
    assert_eq!(paydesk.capture(&reference, None, true).await.unwrap().status.as_str(), "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovered_sale_gets_its_link_back() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    // The provider made the session; its answer never arrived.
    sandbox(&paydesk).set_fault("session", Fault::NoAnswer, Some(1));
    let e = paydesk.create_payment(&authorised_sale("9.00")).await.unwrap_err();
    let reference = serde_json::to_value(&e).unwrap()["reference"].as_str().unwrap().to_string();
    assert!(paydesk.payment(&reference).unwrap().link.is_none());
    let summary = paydesk.recover(None).await.unwrap();
    assert_eq!(summary.payments_settled, 1, "{summary:?}");
    let view = paydesk.payment(&reference).unwrap();
    assert_eq!(view.status.as_str(), "pending");
    let session = sandbox(&paydesk).paykka_order(&reference).unwrap().session_id;
    assert!(view.link.as_deref().is_some_and(|l| l.ends_with(&session)), "{:?} / {session}", view.link);
    assert_eq!(view.session_id.as_deref(), Some(session.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_settles_unconfirmed_captures_by_the_providers_balances() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let taken = authorised(&paydesk, "12.00").await;
    sandbox(&paydesk).set_fault("capture", Fault::NoAnswer, Some(1));
    paydesk.capture(&taken, Some("2.00"), false).await.unwrap_err();
    let never = authorised(&paydesk, "12.00").await;
    sandbox(&paydesk).set_fault("capture", Fault::Unreachable, Some(1));
    paydesk.capture(&never, Some("2.00"), false).await.unwrap_err();
    let summary = paydesk.recover(None).await.unwrap();
    assert_eq!((summary.movements_found, summary.movements_settled), (2, 2), "{summary:?}");
    assert!(summary.left.is_empty(), "{summary:?}");
    for r in [&taken, &never] {
        assert_eq!(at_provider(&paydesk, r).0, 200, "{r}: captured once");
        assert_eq!(paydesk.payment(r).unwrap().status.as_str(), "partially_captured");
    }
    assert_eq!(paydesk.recover(None).await.unwrap().movements_found, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_another_process_is_still_sending_is_never_judged_or_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let reference = authorised(&paydesk, "10.00").await;
    // Another window of this (live) process recorded and sent it; no answer yet.
    let ledger = paydesk_ledger::Ledger::open_at(&paydesk.ledger_location()).unwrap();
    let id = ledger.payment_by_reference(&reference).unwrap().unwrap().id;
    let m = ledger.insert_movement(id, paydesk_gateways::MovementKind::Capture, 400, false).unwrap();
    ledger.finish_movement(m.id, paydesk_gateways::MovementStatus::Sent, None, None).unwrap();
    // The provider has not captured yet: judging now would send it a second time.
    let busy = paydesk.capture(&reference, Some("4.00"), false).await.unwrap_err();
    assert!(matches!(&busy, AppError::NotAllowed { message } if message.contains("right now")), "{busy:?}");
    assert_eq!(paydesk.refresh(&reference).await.unwrap().status.as_str(), "authorized", "a refresh leaves it be");
    assert_eq!(at_provider(&paydesk, &reference).0, 0, "nothing sent");
    // Its sender gave up waiting (unknown): now the provider's balances settle it.
    ledger.finish_movement(m.id, paydesk_gateways::MovementStatus::Unknown, None, None).unwrap();
    assert_eq!(paydesk.capture(&reference, Some("4.00"), false).await.unwrap().status.as_str(), "partially_captured");
    assert_eq!(at_provider(&paydesk, &reference).0, 400, "sent once, after it was known not to have arrived");
}
