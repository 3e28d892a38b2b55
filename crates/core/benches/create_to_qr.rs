//! Create → QR PNG against the loopback sandbox: what the shop owner waits for after Enter,
//! and whether it stays the same as history grows, beside its anchor in the same run: the
//! client's bare signed create call to the same sandbox (no ledger, no QR). Prints figures
//! and ratios; asserts nothing.
//!
//! `cargo bench -p paydesk-core --bench create_to_qr` measures, each on a fresh home:
//! - the demo sandbox (embedded, its state in SQLite beside the ledger), after 200 and
//!   after 10,000 existing sales;
//! - a standalone sandbox (a separate `paydesk sandbox` process with its own state file),
//!   after 200 and after 10,000 existing sales (needs `target/release/paydesk`, which
//!   `cargo build --release -p paydesk-cli` makes; skipped without it).
//!
//! BENCH_ITERATIONS (default 200) and BENCH_HISTORY (default 10000) change the sizes.

use paydesk_core::demo;
use paydesk_core::{qr, CreatePayment, Paydesk};
use paydesk_gateways::pockyt::{test_merchant, CounterQrRequest, PockytClient};
use paydesk_gateways::{ApiSecret, Currency, Money};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn summary(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name:<44} n={:<4} median={:>7.3} ms  p90={:>7.3} ms  min={:>7.3} ms  max={:>7.3} ms",
        samples.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.9).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
    pct(0.5)
}

fn request() -> CreatePayment {
    CreatePayment {
        profile: "demo".into(),
        amount: "13.00".into(),
        currency: "USD".into(),
        wallet: "alipay".into(),
        terminal: None,
        os_type: None,
        description: None,
        method: Some("qr".into()),
        customer_no: None,
        ..Default::default()
    }
}

/// Sells `history` times, then measures `iterations` sales; returns the two medians' ratio.
fn run(rt: &tokio::runtime::Runtime, label: &str, sandbox_url: Option<String>, iterations: usize, history: usize) {
    let home = tempfile::tempdir().unwrap();
    let paydesk = Arc::new(Paydesk::open(home.path()).unwrap());
    let options = paydesk_sandbox::demo::DemoSandboxOptions { external_url: sandbox_url, ..Default::default() };
    let setup = rt.block_on(paydesk_sandbox::demo::start(home.path(), &options)).unwrap();
    // The anchor: the client's own signed create call and the parse of its answer, to the
    // same sandbox, with no ledger and no QR.
    let bare = PockytClient::new(
        &setup.sandbox_url,
        test_merchant::MERCHANT_NO,
        test_merchant::STORE_NO,
        ApiSecret::new(test_merchant::TOKEN),
    );
    let setup = setup.with_listener("127.0.0.1:0".parse().unwrap());
    rt.block_on(demo::enable(&paydesk, setup)).unwrap();
    let req = request();
    let mut sold = 0;
    let mut medians = Vec::new();
    for target in [200, history] {
        while sold < target {
            rt.block_on(paydesk.create_payment(&req)).unwrap();
            sold += 1;
        }
        let mut end_to_end = Vec::with_capacity(iterations);
        let mut qr_only = Vec::with_capacity(iterations);
        let mut bare_calls = Vec::with_capacity(iterations);
        for i in 0..iterations {
            // Alternating with the full path, so both see the same machine and sandbox.
            let call = CounterQrRequest {
                amount: Money::new(1300, Currency::from_code("USD").unwrap()),
                vendor: "alipay".into(),
                reference: format!("bare-{label_tag}-{target}-{i}", label_tag = label.len()),
                ipn_url: "http://127.0.0.1:9/ipn".into(),
                need_qrcode: false,
                timeout_minutes: None,
                description: None,
            };
            let t = Instant::now();
            let answer = rt.block_on(bare.counter_qr(&call));
            bare_calls.push(t.elapsed());
            assert!(answer.result.is_ok(), "the bare create call was answered: {:?}", answer.result.err());

            let t0 = Instant::now();
            let payment = rt.block_on(paydesk.create_payment(&req)).unwrap();
            let t1 = Instant::now();
            // As the window draws it: one pixel per module, scaled by the page.
            let png = qr::png(payment.link.as_deref().unwrap(), 0).unwrap();
            let t2 = Instant::now();
            assert!(png.len() > 100);
            end_to_end.push(t2 - t0);
            qr_only.push(t2 - t1);
        }
        sold += iterations;
        let full = summary(&format!("{label}, after {target} sales: create + QR"), end_to_end);
        medians.push(full);
        summary(&format!("{label}, after {target} sales: QR PNG only"), qr_only);
        let anchor = summary(&format!("{label}, anchor: bare signed create call"), bare_calls);
        let commit = durable_commit(home.path(), iterations);
        println!(
            "{label}, after {target} sales: create + QR = {:.2}x the bare signed create call (goal <= 1.5); \
             the rules' floor, the bare call + one durable commit (the row on disk before sending) = {:.2}x",
            full.as_secs_f64() / anchor.as_secs_f64(),
            (anchor + commit).as_secs_f64() / anchor.as_secs_f64()
        );
    }
    let ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    println!("{label}: median after {history} / after 200 = {ratio:.2} (goal: within 1.10)\n");
}

/// The least a sale's first write can cost: one row, one transaction, on disk (WAL,
/// synchronous=FULL, as the ledger) beside the ledger, with no index, trigger or chain.
fn durable_commit(dir: &std::path::Path, iterations: usize) -> Duration {
    let db = rusqlite::Connection::open(dir.join("floor.sqlite3")).unwrap();
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    let samples = (0..iterations)
        .map(|i| {
            let t = Instant::now();
            db.execute("INSERT INTO t (v) VALUES (?1)", [format!("sale-{i}")]).unwrap();
            t.elapsed()
        })
        .collect();
    summary("floor: one durable one-row commit", samples)
}

fn standalone_sandbox() -> Option<(std::process::Child, String, tempfile::TempDir)> {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/paydesk");
    if !bin.exists() {
        println!("standalone sandbox: skipped ({} is not built)\n", bin.display());
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .args(["--json", "sandbox", "--bind", "127.0.0.1:0", "--state-file"])
        .arg(dir.path().join("standalone.sqlite3"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
    Some((child, doc["base_url"].as_str().unwrap().to_string(), dir))
}

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let history: usize = std::env::var("BENCH_HISTORY").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("Create (counter QR) -> QR PNG against a loopback sandbox (real SQLite ledger, WAL, synchronous=FULL; real HTTP)\n");
    run(&rt, "demo sandbox (embedded)", None, iterations, history);
    if let Some((mut child, url, _dir)) = standalone_sandbox() {
        run(&rt, "standalone sandbox (own process)", Some(url), iterations, history);
        let _ = child.kill();
        let _ = child.wait();
    }
}
