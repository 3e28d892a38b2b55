//! Create → QR PNG against the loopback sandbox: what the shop owner waits for after Enter.
//! Prints figures; asserts nothing. Run: `cargo bench -p paydesk-core --bench create_to_qr`.

use paydesk_core::demo::{self, DemoOptions};
use paydesk_core::{qr, CreatePayment, Paydesk};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name:<28} n={:<4} median={:>8.3} ms  p90={:>8.3} ms  min={:>8.3} ms  max={:>8.3} ms",
        samples.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.9).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
}

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let home = tempfile::tempdir().unwrap();
    let paydesk = Arc::new(Paydesk::open(home.path()).unwrap());
    rt.block_on(demo::start(
        &paydesk,
        DemoOptions { ipn_bind: Some("127.0.0.1:0".parse().unwrap()), ..Default::default() },
    ))
    .unwrap();
    let request = CreatePayment {
        profile: "demo".into(),
        amount: "13.00".into(),
        currency: "USD".into(),
        vendor: "alipay".into(),
        terminal: None,
        description: None,
        method: Some("qr".into()),
        customer_no: None,
    };
    // Warm-up: connection pool, page cache.
    for _ in 0..5 {
        rt.block_on(paydesk.create_payment(&request)).unwrap();
    }
    let mut end_to_end = Vec::with_capacity(iterations);
    let mut qr_only = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t0 = Instant::now();
        let payment = rt.block_on(paydesk.create_payment(&request)).unwrap();
        let t1 = Instant::now();
        let png = qr::png(payment.link.as_deref().unwrap(), 480).unwrap();
        let t2 = Instant::now();
        assert!(png.len() > 100);
        end_to_end.push(t2 - t0);
        qr_only.push(t2 - t1);
    }
    println!("Create (counter QR) -> QR PNG against the loopback sandbox (real SQLite file, real HTTP, WAL, synchronous=FULL)");
    summary("create + QR PNG (480 px)", end_to_end);
    summary("QR PNG render only", qr_only);
}
