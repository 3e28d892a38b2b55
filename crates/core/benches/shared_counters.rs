//! Four counters × N sales on one ledger: create → QR at each counter (p50/p99) on one
//! shared PostgreSQL ledger beside the same four on one SQLite file, and how long a sale
//! takes to reach another counter (pushed by LISTEN/NOTIFY). Prints figures; asserts nothing.
//!
//! `cargo bench -p paydesk-core --bench shared_counters`. The PostgreSQL server is the one
//! named by PAYDESK_BENCH_POSTGRES (or PAYDESK_TEST_POSTGRES), else a throwaway cluster
//! started with scripts/lib/postgres.sh. BENCH_SALES (default 1000) sales per counter,
//! BENCH_COUNTERS (default 4).

use paydesk_core::demo;
use paydesk_core::{qr, CreatePayment, Paydesk};
use paydesk_ledger::Location;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn percentiles(name: &str, mut samples: Vec<Duration>) {
    if samples.is_empty() {
        println!("{name:<58} no samples");
        return;
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name:<58} n={:<5} p50={:>7.2} ms  p90={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        samples.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
}

fn throughput(name: &str, sales: usize, elapsed: Duration, counters: usize) {
    println!("{name:<58} {:.0} sales/s over {counters} counters", sales as f64 / elapsed.as_secs_f64());
}

fn request() -> CreatePayment {
    CreatePayment {
        profile: "demo".into(),
        amount: "13.00".into(),
        currency: "USD".into(),
        wallet: "alipay".into(),
        method: Some("qr".into()),
        ..Default::default()
    }
}

/// The counters, each its own core on `location` (as separate machines would be), all
/// selling against one sandbox.
fn counters(
    rt: &tokio::runtime::Runtime,
    location: &Location,
    n: usize,
) -> (Vec<Arc<Paydesk>>, Vec<tempfile::TempDir>) {
    let mut homes = Vec::new();
    let mut cores = Vec::new();
    let mut sandbox_url = None;
    for _ in 0..n {
        let home = tempfile::tempdir().unwrap();
        let core = Arc::new(Paydesk::open_at(home.path(), location).unwrap());
        let options =
            paydesk_sandbox::demo::DemoSandboxOptions { external_url: sandbox_url.clone(), ..Default::default() };
        let setup = rt.block_on(paydesk_sandbox::demo::start(home.path(), &options)).unwrap();
        let url = rt.block_on(demo::enable(&core, setup)).unwrap().base_url().to_string();
        sandbox_url.get_or_insert(url);
        cores.push(core);
        homes.push(home);
    }
    (cores, homes)
}

/// Every counter sells `sales` times at once; returns each sale's create → QR time, and
/// when each finished (by reference).
fn sell_everywhere(
    rt: &tokio::runtime::Runtime,
    cores: &[Arc<Paydesk>],
    sales: usize,
) -> (Vec<Duration>, HashMap<String, (Instant, Instant)>) {
    let finished = Arc::new(Mutex::new(HashMap::new()));
    let tasks: Vec<_> = cores
        .iter()
        .map(|core| {
            let core = core.clone();
            let finished = finished.clone();
            rt.spawn(async move {
                let req = request();
                let mut times = Vec::with_capacity(sales);
                for _ in 0..sales {
                    let t0 = Instant::now();
                    let payment = core.create_payment(&req).await.unwrap();
                    let png = qr::png(payment.link.as_deref().unwrap(), 480).unwrap();
                    let done = Instant::now();
                    assert!(png.len() > 100);
                    times.push(done - t0);
                    finished.lock().unwrap().insert(payment.reference, (t0, done));
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(rt.block_on(t).unwrap());
    }
    let finished = std::mem::take(&mut *finished.lock().unwrap());
    (all, finished)
}

fn postgres_server() -> (String, Option<tempfile::TempDir>) {
    if let Some(url) = ["PAYDESK_BENCH_POSTGRES", "PAYDESK_TEST_POSTGRES"].iter().find_map(|k| std::env::var(k).ok()) {
        return (url, None);
    }
    let dir = tempfile::tempdir().unwrap();
    let lib = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/lib/postgres.sh");
    let out = std::process::Command::new("bash")
        .args(["-c", &format!(". '{lib}' && start_test_postgres \"$1\" && echo \"$PAYDESK_TEST_POSTGRES\""), "_"])
        .arg(dir.path().join("pg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).unwrap().trim().to_string(), Some(dir))
}

fn main() {
    let sales: usize = std::env::var("BENCH_SALES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let n: usize = std::env::var("BENCH_COUNTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("{n} counters x {sales} sales at once, create (counter QR) -> QR PNG, against a loopback sandbox\n");

    // SQLite: the four share one file (WAL, synchronous=FULL), as four windows on one machine.
    let shared_file = tempfile::tempdir().unwrap();
    let file = Location::File(shared_file.path().join("ledger.sqlite3"));
    let (cores, _homes) = counters(&rt, &file, n);
    let started = Instant::now();
    let (times, _) = sell_everywhere(&rt, &cores, sales);
    let elapsed = started.elapsed();
    percentiles("SQLite, one file: create -> QR at each counter", times);
    throughput("SQLite throughput", n * sales, elapsed, n);
    drop(cores);

    let (server, stop) = postgres_server();
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let url = paydesk_ledger::postgres::create_database(&server, &format!("bench_{stamp}")).unwrap();
    let shared = Location::Shared(url);
    let (cores, _homes) = counters(&rt, &shared, n);
    // Another counter (the accountant's screen) hears every sale as it is written.
    let observer = Paydesk::open_at(tempfile::tempdir().unwrap().path(), &shared).unwrap();
    let mut pushed = observer.status_changes();
    let seen: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let hearing = {
        let seen = seen.clone();
        rt.spawn(async move {
            while let Ok(id) = pushed.recv().await {
                seen.lock().unwrap().entry(id).or_insert_with(Instant::now);
            }
        })
    };
    let started = Instant::now();
    let (times, finished) = sell_everywhere(&rt, &cores, sales);
    let elapsed = started.elapsed();
    percentiles("PostgreSQL, one shared ledger: create -> QR at each counter", times);
    throughput("PostgreSQL throughput", n * sales, elapsed, n);
    std::thread::sleep(Duration::from_millis(500));
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    // Visibility: from the moment a counter starts a sale (Enter; the sale is recorded at
    // once, before the provider is asked) to another counter hearing of it; and how many
    // were heard before the seller's own QR was on screen.
    let mut delays = Vec::new();
    let mut before_qr = 0;
    let mut heard_sales = 0;
    for (id, heard) in &seen {
        let Some(view) = observer.payment_by_id(*id).unwrap() else { continue };
        let Some((started, done)) = finished.get(&view.reference) else { continue };
        heard_sales += 1;
        delays.push(heard.saturating_duration_since(*started));
        if heard < done {
            before_qr += 1;
        }
    }
    percentiles("sale started at one counter -> heard at another", delays);
    println!(
        "{:<58} {before_qr} of {} heard before the seller's own QR was drawn; {} never heard",
        "",
        finished.len(),
        finished.len() - heard_sales
    );
    hearing.abort();
    drop(cores);
    drop(stop);
}
