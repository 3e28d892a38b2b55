//! Refreshing every unsettled payment of a filter against the embedded sandbox over HTTP:
//! progress reported as it goes, a stop honoured, and a provider outage counted as
//! unreachable without touching those payments.

mod support;

use paydesk_core::books::TxQuery;
use paydesk_core::bulk::{BulkOptions, BulkProgress};
use paydesk_core::{CreatePayment, Paydesk};
use paydesk_gateways::PaymentStatus;
use paydesk_sandbox::Fault;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

fn sale(amount: &str) -> CreatePayment {
    CreatePayment {
        profile: "demo".into(),
        amount: amount.into(),
        currency: "USD".into(),
        wallet: "alipay".into(),
        ..CreatePayment::default()
    }
}

async fn sell(paydesk: &Paydesk, n: usize) -> Vec<String> {
    let mut refs = Vec::new();
    for i in 0..n {
        refs.push(paydesk.create_payment(&sale(&format!("{}.00", i + 1))).await.unwrap().reference);
    }
    refs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_refresh_reports_progress_stops_and_counts_outages() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = support::demo_paydesk_quiet(&dir).await;
    let sandbox = support::sandbox(&paydesk);
    let refs = sell(&paydesk, 12).await;
    for r in &refs[..5] {
        let no = paydesk.payment(r).unwrap().transaction_no.unwrap();
        sandbox.settle(&no, true).unwrap();
    }
    let seen: Mutex<Vec<BulkProgress>> = Mutex::default();
    let record = |p: BulkProgress| seen.lock().unwrap().push(p);
    let options = BulkOptions { concurrency: 4, per_provider_rate: 1000 };
    let summary = paydesk.refresh_all(&TxQuery::default(), options, &record, &AtomicBool::new(false)).await.unwrap();
    assert_eq!((summary.total, summary.changed, summary.unchanged, summary.unreachable), (12, 5, 7, 0), "{summary:?}");
    assert_eq!(summary.outcomes, [("paid".to_string(), 5)].into(), "the changed ones by where they went");
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.first().map(|p| (p.done, p.total)), Some((0, 12)));
    assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((12, 12)));
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done), "progress only grows");
    for r in &refs[..5] {
        assert_eq!(paydesk.payment(r).unwrap().status, PaymentStatus::Paid);
    }

    // Paid ones are settled: the next round asks only about the 7 still open. A stop
    // after the first answer leaves the rest unasked.
    let stop = AtomicBool::new(false);
    let stopper = |p: BulkProgress| {
        if p.done >= 1 {
            stop.store(true, Ordering::Relaxed);
        }
    };
    let options = BulkOptions { concurrency: 1, per_provider_rate: 1000 };
    let summary = paydesk.refresh_all(&TxQuery::default(), options, &stopper, &stop).await.unwrap();
    assert_eq!(summary.total, 7);
    assert!(summary.cancelled);
    assert!(summary.changed + summary.unchanged < 7, "stopped early: {summary:?}");

    // The provider is down: every payment counted unreachable, none touched.
    sandbox.set_fault("*", Fault::Unreachable, None);
    let before: Vec<_> = refs.iter().map(|r| paydesk.payment(r).unwrap()).collect();
    let options = BulkOptions { concurrency: 4, per_provider_rate: 1000 };
    let summary = paydesk.refresh_all(&TxQuery::default(), options, &|_| {}, &AtomicBool::new(false)).await.unwrap();
    assert_eq!((summary.total, summary.unreachable, summary.changed), (7, 7, 0), "{summary:?}");
    let after: Vec<_> = refs.iter().map(|r| paydesk.payment(r).unwrap()).collect();
    assert_eq!(before, after, "an outage leaves every payment as it was");
    sandbox.clear_faults();

    // A filter narrows it: only the first payment's amount range.
    let q = TxQuery { min_amount: Some("6.00".into()), max_amount: Some("6.00".into()), ..TxQuery::default() };
    let summary = paydesk.refresh_all(&q, BulkOptions::default(), &|_| {}, &AtomicBool::new(false)).await.unwrap();
    assert_eq!(summary.total, 1);
}
