//! Selling through a shared-ledger outage: create → QR on a counter journaling offline
//! beside the same on its own SQLite file (goal: within 1.2×), and the replay of the journal
//! (BENCH_REPLAY sales, default 10,000) into the shared ledger once the server is back: time
//! and sales/s. Prints figures; asserts nothing.
//!
//! `cargo bench -p paydesk-core --bench offline` starts a throwaway PostgreSQL cluster of its
//! own (scripts/lib/postgres.sh), since it stops and resumes the server.

use paydesk_core::{demo, qr, CreatePayment, Paydesk};
use paydesk_ledger::Location;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn postgres(call: &str, dir: &Path) -> String {
    let lib = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/lib/postgres.sh");
    let out = std::process::Command::new("bash")
        .args(["-c", &format!(". '{lib}' && {call} \"$1\" && echo \"${{PAYDESK_TEST_POSTGRES:-}}\""), "_"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{call}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn sale() -> CreatePayment {
    CreatePayment {
        profile: "demo".into(),
        amount: "13.00".into(),
        currency: "USD".into(),
        wallet: "alipay".into(),
        method: Some("qr".into()),
        ..Default::default()
    }
}

fn demo_counter(rt: &tokio::runtime::Runtime, home: &Path, at: &Location) -> Arc<Paydesk> {
    let paydesk = Arc::new(Paydesk::open_at(home, at).unwrap());
    let setup = rt.block_on(paydesk_sandbox::demo::start(home, &Default::default())).unwrap();
    rt.block_on(demo::enable(&paydesk, setup)).unwrap();
    paydesk
}

/// Median create → QR PNG over `n` sales.
fn create_to_qr(rt: &tokio::runtime::Runtime, paydesk: &Paydesk, n: usize) -> Duration {
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let t0 = Instant::now();
            let p = rt.block_on(paydesk.create_payment(&sale())).unwrap();
            qr::png(p.link.as_deref().unwrap(), 480).unwrap();
            t0.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let n: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let replay: usize = std::env::var("BENCH_REPLAY").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cluster = tempfile::tempdir().unwrap();
    let pg = cluster.path().join("pg");
    let server = postgres("start_test_postgres", &pg);
    let url = paydesk_ledger::postgres::create_database(&server, "offline_bench").unwrap();

    // The same counter on its own file, then journaling while the shared ledger is away
    // (it has worked on that ledger before, so it knows its profiles).
    let alone = tempfile::tempdir().unwrap();
    let file_counter = demo_counter(&rt, alone.path(), &Location::File(alone.path().join("ledger.sqlite3")));
    create_to_qr(&rt, &file_counter, 50);
    let on_file = create_to_qr(&rt, &file_counter, n);
    drop(file_counter);

    let home = tempfile::tempdir().unwrap();
    drop(Paydesk::open_at(home.path(), &Location::Shared(url.clone())).unwrap());
    postgres("stop_test_postgres", &pg);
    let offline = demo_counter(&rt, home.path(), &Location::Shared(url.clone()));
    assert!(offline.offline_waiting().is_some(), "journaling");
    create_to_qr(&rt, &offline, 50);
    let journaling = create_to_qr(&rt, &offline, n);
    println!("create -> QR, own SQLite file        median {:>7.3} ms", on_file.as_secs_f64() * 1e3);
    println!(
        "create -> QR, journaling offline     median {:>7.3} ms   ({:.2}x the file; goal <= 1.2x)",
        journaling.as_secs_f64() * 1e3,
        journaling.as_secs_f64() / on_file.as_secs_f64()
    );

    let already = offline.offline_waiting().unwrap() as usize;
    for _ in already..replay {
        rt.block_on(offline.create_payment(&sale())).unwrap();
    }
    let waiting = offline.offline_waiting().unwrap();
    postgres("resume_test_postgres", &pg);
    let started = Instant::now();
    let report = offline.sync_ledger().unwrap();
    let took = started.elapsed();
    println!(
        "replay of {waiting} journaled sales       {:>7.2} s   {:.0} sales/s   (replayed {}, already there {})",
        took.as_secs_f64(),
        waiting as f64 / took.as_secs_f64(),
        report.replayed,
        report.already_there
    );
    drop(offline);
    postgres("stop_test_postgres", &pg);
}
