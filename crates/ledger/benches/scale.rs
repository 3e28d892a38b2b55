//! The accountant's ledger at scale, printed (asserts nothing): a generated ledger of
//! 1,000,000 payments with refunds and events (sealed in the hash chain like any write),
//! then page-of-50 latency under each single filter (p99), text search by reference or
//! transaction number (p99), one month's totals, a CSV export of every row beside
//! `sqlite3 -csv` dumping the same columns, and an XLSX of every row with its peak memory.
//!
//! Run: `cargo bench -p paydesk-ledger --bench scale` (PAYDESK_BENCH_ROWS to change the
//! size; the generated file is kept in target/bench-ledger and reused).

use paydesk_ledger::export::{ExportFormat, ExportOptions, ExportTarget};
use paydesk_ledger::query::local_day_bounds;
use paydesk_ledger::{Ledger, PaymentFilter};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn rows() -> i64 {
    std::env::var("PAYDESK_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

fn dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("bench-ledger").join(rows().to_string())
}

/// Makes (once) the ledger: payments over 2026, 3 providers, 4 profiles, 3 currencies,
/// mostly paid; one in 20 refunded in part; an event per payment.
fn generate(home: &Path) -> Ledger {
    let ledger = Ledger::open_in(home).unwrap();
    if ledger.count_payments().unwrap() >= rows() {
        return ledger;
    }
    let started = Instant::now();
    let conn = rusqlite::Connection::open(ledger.path().unwrap()).unwrap();
    paydesk_ledger::chain::register(&conn).unwrap();
    conn.execute_batch("PRAGMA synchronous = OFF;").unwrap();
    let n = rows();
    conn.execute_batch(&format!(
        "BEGIN;
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
         INSERT INTO payments (reference, profile, provider, method, wallet, amount_minor, currency, transaction_no,
                               status, created_at, updated_at, customer_no)
         SELECT printf('PD2026%08d-%06X', i, (i * 2654435761) % 16777216),
                'shop-' || (i % 4),
                CASE i % 3 WHEN 0 THEN 'pockyt' WHEN 1 THEN 'paykka' ELSE 'vexora' END,
                CASE WHEN i % 5 = 0 THEN 'link' ELSE 'qr' END,
                CASE i % 3 WHEN 0 THEN (CASE WHEN i % 2 = 0 THEN 'alipay' ELSE 'wechatpay' END) ELSE NULL END,
                100 + (i * 7919) % 50000,
                CASE i % 3 WHEN 0 THEN 'USD' WHEN 1 THEN 'EUR' ELSE 'TWD' END,
                printf('TX%010d', i),
                CASE WHEN i % 10 < 7 THEN 'paid' WHEN i % 10 = 7 THEN 'failed' WHEN i % 10 = 8 THEN 'pending' ELSE 'partially_refunded' END,
                strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i * (31536000 / {n}), 'unixepoch'),
                strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i * (31536000 / {n}), 'unixepoch'),
                CASE WHEN i % 7 = 0 THEN printf('C%07d', i % 5000) END
         FROM k;
         INSERT INTO refunds (payment_id, refund_reference, amount_minor, currency, status, refund_transaction_no, created_at, updated_at)
         SELECT id, 'RF' || id, amount_minor / 2, currency, 'succeeded', 'RT' || id, created_at, created_at
         FROM payments WHERE status = 'partially_refunded';
         INSERT INTO events (payment_id, at, kind, detail)
         SELECT id, created_at, 'request', '{{\"path\":\"/query\"}}' FROM payments;
         COMMIT;"
    ))
    .unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;").unwrap();
    println!(
        "generated {n} payments (with refunds, events and their chain) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ledger
}

fn percentile(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1e3
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// Every row exported to `home/file` (written afresh), timed.
fn export_all(
    ledger: &Ledger,
    home: &Path,
    format: ExportFormat,
    file: &str,
) -> (paydesk_ledger::export::ExportSummary, Duration) {
    let out = home.join(file);
    let _ = std::fs::remove_file(&out);
    time(|| {
        ledger
            .export(
                &PaymentFilter::default(),
                format,
                &ExportOptions::default(),
                ExportTarget::File(out),
                &jiff::tz::TimeZone::UTC,
                &mut |_, _| true,
            )
            .unwrap()
    })
}

/// `sqlite3 -csv -header` of `sql` on the ledger into `home/file`, timed; false when sqlite3
/// is missing or failed.
fn sqlite3_csv(ledger: &Ledger, home: &Path, sql: &str, file: &str) -> (bool, Duration) {
    let (status, took) = time(|| {
        std::process::Command::new("sqlite3")
            .args(["-csv", "-header", ledger.path().unwrap().to_str().unwrap(), sql])
            .stdout(std::fs::File::create(home.join(file)).unwrap())
            .status()
    });
    (matches!(status, Ok(s) if s.success()), took)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let home = dir();
    // The XLSX runs in a child process of its own, so its peak memory is its own.
    if args.iter().any(|a| a == "--xlsx-child") {
        let ledger = Ledger::open_in(&home).unwrap();
        let (summary, took) = export_all(&ledger, &home, ExportFormat::Xlsx, "all.xlsx");
        let out = home.join("all.xlsx");
        println!(
            "XLSX export of {} rows: {:.1} s, peak memory (VmHWM) {:.0} MB, file {:.0} MB",
            summary.payments,
            took.as_secs_f64(),
            peak_rss_mb(),
            std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
        );
        return;
    }
    std::fs::create_dir_all(&home).unwrap();
    let ledger = generate(&home);
    let n = ledger.count_payments().unwrap();
    println!("ledger: {n} payments at {}", ledger.path().unwrap().display());
    let utc = jiff::tz::TimeZone::UTC;
    let (march_from, _) = local_day_bounds("2026-03-01", &utc).unwrap();
    let (_, march_to) = local_day_bounds("2026-03-31", &utc).unwrap();

    // A page of 50 under each single filter, first pages and pages deep in the list.
    let filters: Vec<(&str, PaymentFilter)> = vec![
        ("none", PaymentFilter::default()),
        ("status", PaymentFilter { status: Some("failed".into()), ..Default::default() }),
        ("provider", PaymentFilter { provider: Some("paykka".into()), ..Default::default() }),
        ("profile", PaymentFilter { profile: Some("shop-2".into()), ..Default::default() }),
        ("wallet", PaymentFilter { method: Some("wechatpay".into()), ..Default::default() }),
        ("currency", PaymentFilter { currency: Some("TWD".into()), ..Default::default() }),
        (
            "month",
            PaymentFilter { from_utc: Some(march_from.clone()), to_utc: Some(march_to.clone()), ..Default::default() },
        ),
        ("amount", PaymentFilter { min_minor: Some(1000), max_minor: Some(2000), ..Default::default() }),
    ];
    for (name, base) in &filters {
        let mut samples = Vec::new();
        let mut f = PaymentFilter { limit: Some(50), ..base.clone() };
        for _ in 0..200 {
            let (page, took) = time(|| ledger.page(&f).unwrap());
            samples.push(took);
            f.after = page.next.clone();
            if f.after.is_none() {
                f.after = None;
            }
        }
        println!(
            "page of 50, filter {name:<8}: p50 {:.3} ms  p99 {:.3} ms (goal p99 <= 5 ms)",
            percentile(samples.clone(), 0.5),
            percentile(samples, 0.99)
        );
    }

    // Text search: a reference's start, or a transaction number.
    let mut samples = Vec::new();
    for k in 0..200i64 {
        let i = 1 + (k * 48271) % n;
        let text = if k % 2 == 0 { format!("PD2026{i:08}") } else { format!("TX{i:010}") };
        let f = PaymentFilter { text: Some(text), limit: Some(50), ..Default::default() };
        let (page, took) = time(|| ledger.page(&f).unwrap());
        assert_eq!(page.rows.len(), 1, "found by its start");
        samples.push(took);
    }
    println!(
        "text search (reference or transaction no.): p50 {:.3} ms  p99 {:.3} ms (goal p99 <= 10 ms)",
        percentile(samples.clone(), 0.5),
        percentile(samples, 0.99)
    );

    let month = PaymentFilter { from_utc: Some(march_from), to_utc: Some(march_to), ..Default::default() };
    let mut samples = Vec::new();
    for _ in 0..10 {
        samples.push(time(|| ledger.totals(&month).unwrap()).1);
    }
    println!("totals for one month: median {:.1} ms (goal <= 100 ms)", percentile(samples, 0.5));

    // CSV of every row, beside sqlite3 dumping the same columns.
    let (summary, ours) = export_all(&ledger, &home, ExportFormat::Csv, "all.csv");
    let sql = "SELECT p.reference, p.created_at, p.created_at, p.profile, p.provider, p.method, p.wallet, p.status, p.raw_status, \
               p.currency, printf('%.2f', p.amount_minor / 100.0), p.amount_minor, p.paid_minor, p.paid_minor, \
               (SELECT coalesce(sum(r.amount_minor), 0) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded'), \
               (SELECT coalesce(sum(r.amount_minor), 0) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded'), \
               p.transaction_no, p.customer_no FROM payments p ORDER BY p.created_at, p.id";
    let (compared, theirs) = sqlite3_csv(&ledger, &home, sql, "sqlite3.csv");
    match compared {
        true => println!(
            "CSV export of {} rows: {:.2} s; sqlite3 -csv of the same columns: {:.2} s; ratio {:.2} (goal <= 1.5)",
            summary.payments,
            ours.as_secs_f64(),
            theirs.as_secs_f64(),
            ours.as_secs_f64() / theirs.as_secs_f64()
        ),
        false => println!(
            "CSV export of {} rows: {:.2} s; sqlite3 not available to compare",
            summary.payments,
            ours.as_secs_f64()
        ),
    }

    // The floor: sqlite3 writing the raw payments table as CSV (every column, no
    // computing), beside our CSV and JSON lines of the same rows.
    let (raw_ok, floor) = sqlite3_csv(&ledger, &home, "SELECT * FROM payments", "sqlite3-raw.csv");
    let (_, jsonl) = export_all(&ledger, &home, ExportFormat::Jsonl, "all.jsonl");
    if raw_ok {
        let floor_s = floor.as_secs_f64();
        println!(
            "anchor: sqlite3 -csv of the raw payments table (SELECT * FROM payments, {} rows): {:.2} s\n\
             CSV export {:.2} s = {:.2}x the anchor (goal <= 1.3); JSON lines {:.2} s = {:.2}x (goal <= 2)",
            summary.payments,
            floor_s,
            ours.as_secs_f64(),
            ours.as_secs_f64() / floor_s,
            jsonl.as_secs_f64(),
            jsonl.as_secs_f64() / floor_s
        );
    }
    drop(ledger);
    let child = std::process::Command::new(&args[0]).arg("--xlsx-child").output().unwrap();
    print!("{}", String::from_utf8_lossy(&child.stdout));
}
