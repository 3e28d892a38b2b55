//! Bulk refresh of 10,000 pending payments against the loopback sandbox, printed (asserts
//! nothing): the payments are sold through the core first (not timed), then every one is
//! asked about, with the concurrency and per-provider rate given.
//! Run: `cargo bench -p paydesk-core --bench bulk_refresh`
//! (BULK_PAYMENTS, BULK_CONCURRENCY, BULK_RATE to change them).

use futures_util::stream::{self, StreamExt};
use paydesk_core::books::TxQuery;
use paydesk_core::bulk::BulkOptions;
use paydesk_core::{demo, CreatePayment, Paydesk};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let (n, concurrency, rate) = (env("BULK_PAYMENTS", 10_000), env("BULK_CONCURRENCY", 16), env("BULK_RATE", 10_000));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let paydesk = Arc::new(Paydesk::open(dir.path()).unwrap());
        let setup = paydesk_sandbox::demo::start(dir.path(), &Default::default()).await.unwrap();
        demo::enable(&paydesk, setup).await.unwrap();
        let started = Instant::now();
        stream::iter(0..n)
            .for_each_concurrent(16, |i| {
                let paydesk = paydesk.clone();
                async move {
                    let req = CreatePayment {
                        profile: "demo".into(),
                        amount: format!("{}.{:02}", 1 + i % 500, i % 100),
                        currency: "USD".into(),
                        wallet: "alipay".into(),
                        ..CreatePayment::default()
                    };
                    paydesk.create_payment(&req).await.unwrap();
                }
            })
            .await;
        println!("sold {n} pending payments in {:.1} s (setup, not timed)", started.elapsed().as_secs_f64());
        let options = BulkOptions { concurrency, per_provider_rate: rate as u32 };
        let summary = paydesk.refresh_all(&TxQuery::default(), options, &|_| {}, &AtomicBool::new(false)).await.unwrap();
        println!(
            "bulk refresh of {} pending payments (concurrency {concurrency}, {rate}/s per provider) against the loopback sandbox: {:.2} s (goal <= 5 s); {} changed, {} unchanged, {} unreachable, {} failed",
            summary.total,
            summary.elapsed_ms as f64 / 1000.0,
            summary.changed,
            summary.unchanged,
            summary.unreachable,
            summary.failed
        );
    });
}
