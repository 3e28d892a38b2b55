//! The accountant's ledger on a real SQLite file: keyset pages through more rows than one
//! page, totals from SQL equal to a direct sum, local-day filters at the borders of a
//! non-UTC day, exports whose counts and sums equal the totals (CSV with formulas
//! neutralised, an XLSX whose cells are numbers, JSON Lines), and a hash chain that finds
//! edits, deletions and reordering made with plain SQL.

use paydesk_ledger::export::{ExportFormat, ExportOptions, ExportTarget};
use paydesk_ledger::query::local_day_bounds;
use paydesk_ledger::{Ledger, NewPayment, PaymentFilter, StatusChange};
use paydesk_types::PaymentStatus;

fn payment(reference: &str, amount_minor: i64, currency: &str) -> NewPayment {
    NewPayment {
        reference: reference.into(),
        profile: "shop".into(),
        provider: "pockyt".into(),
        method: "qr".into(),
        wallet: Some("alipay".into()),
        amount_minor,
        currency: currency.into(),
        customer_no: None,
        checkout_options: None,
    }
}

/// Plain SQL on the file, as another tool would run it.
fn set(ledger_path: &std::path::Path, sql: &str) {
    let conn = rusqlite::Connection::open(ledger_path).unwrap();
    conn.execute_batch(sql).unwrap();
}

/// 130 payments in two currencies, most paid, some refunded in part.
fn filled(dir: &tempfile::TempDir) -> Ledger {
    let ledger = Ledger::open_in(dir.path()).unwrap();
    for i in 0..130i64 {
        let currency = if i % 3 == 0 { "JPY" } else { "USD" };
        let p = ledger.insert_payment(&payment(&format!("PD-{i:04}"), 100 + i, currency)).unwrap();
        let status = if i % 10 == 0 { PaymentStatus::Failed } else { PaymentStatus::Paid };
        ledger.apply_status(p.id, &StatusChange { status, raw_status: None, source: "test" }).unwrap();
        // Only what was paid can be refunded (as the app allows).
        if i % 7 == 1 && status == PaymentStatus::Paid {
            let r = ledger.insert_refund(p.id, &format!("RF-{i}"), 10).unwrap();
            ledger.finish_refund(r.id, paydesk_types::RefundStatus::Succeeded, Some("T")).unwrap();
        }
    }
    ledger
}

#[test]
fn pages_and_totals_cover_the_whole_filter() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = filled(&dir);
    let mut seen = Vec::new();
    let mut filter = PaymentFilter { limit: Some(50), ..Default::default() };
    loop {
        let page = ledger.page(&filter).unwrap();
        seen.extend(page.rows.iter().map(|r| r.reference.clone()));
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 130, "three pages, every row once");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 130);

    let totals = ledger.totals(&PaymentFilter::default()).unwrap();
    let conn = rusqlite::Connection::open(ledger.path().unwrap()).unwrap();
    for t in &totals {
        let (count, gross): (i64, i64) = conn
            .query_row(
                "SELECT count(*), coalesce(sum(CASE WHEN status = 'paid' OR status LIKE '%refunded' THEN amount_minor END), 0)
                 FROM payments WHERE currency = ?1",
                [&t.currency],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let refunded: i64 = conn
            .query_row(
                "SELECT coalesce(sum(r.amount_minor), 0) FROM refunds r JOIN payments p ON p.id = r.payment_id
                 WHERE r.status = 'succeeded' AND p.currency = ?1",
                [&t.currency],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!((t.count, t.gross_minor, t.refunded_minor), (count, gross, refunded), "{t:?}");
        assert_eq!(t.net_minor, gross - refunded);
    }
    assert_eq!(totals.iter().map(|t| t.count).sum::<i64>(), 130);

    // Filters narrow the totals too, not only the page.
    let usd_paid = PaymentFilter { currency: Some("USD".into()), status: Some("paid".into()), ..Default::default() };
    assert_eq!(ledger.totals(&usd_paid).unwrap().len(), 1);
    assert_eq!(ledger.count(&usd_paid).unwrap(), ledger.totals(&usd_paid).unwrap()[0].count);
    let by_text = PaymentFilter { text: Some("pd-012".into()), ..Default::default() };
    assert_eq!(ledger.count(&by_text).unwrap(), 10, "PD-0120..PD-0129 by the start of the reference");
}

#[test]
fn local_days_are_cut_at_the_shops_midnight() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_in(dir.path()).unwrap();
    let late = ledger.insert_payment(&payment("PD-LATE", 500, "TWD")).unwrap();
    let early = ledger.insert_payment(&payment("PD-EARLY", 700, "TWD")).unwrap();
    // 23:59:59.9 on 1 November and 00:00:00 on 2 November in Taipei (UTC+8).
    set(
        ledger.path().unwrap(),
        &format!(
            "DROP TRIGGER chain_payments_update;
             UPDATE payments SET created_at = '2026-11-01T15:59:59.9Z' WHERE id = {};
             UPDATE payments SET created_at = '2026-11-01T16:00:00Z' WHERE id = {};",
            late.id, early.id
        ),
    );
    let taipei = jiff::tz::TimeZone::get("Asia/Taipei").unwrap();
    let (from, to) = local_day_bounds("2026-11-02", &taipei).unwrap();
    assert_eq!((from.as_str(), to.as_str()), ("2026-11-01T16:00:00", "2026-11-02T16:00:00"));
    let day = |d: &str| {
        let (from_utc, to_utc) = local_day_bounds(d, &taipei).unwrap();
        let f = PaymentFilter { from_utc: Some(from_utc), to_utc: Some(to_utc), ..Default::default() };
        ledger.payments(&f).unwrap().into_iter().map(|p| p.reference).collect::<Vec<_>>()
    };
    assert_eq!(day("2026-11-01"), vec!["PD-LATE"]);
    assert_eq!(day("2026-11-02"), vec!["PD-EARLY"]);
    for id in [late.id, early.id] {
        let paid = StatusChange { status: PaymentStatus::Paid, raw_status: None, source: "test" };
        ledger.apply_status(id, &paid).unwrap();
    }
    let report = ledger.daily(&PaymentFilter::default(), &taipei, false).unwrap();
    let days: Vec<(&str, i64)> = report.iter().map(|d| (d.day.as_str(), d.gross_minor)).collect();
    assert_eq!(days, vec![("2026-11-01", 500), ("2026-11-02", 700)]);
}

#[test]
fn exports_add_up_to_the_totals() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = filled(&dir);
    // Text a spreadsheet would run as a formula.
    set(
        ledger.path().unwrap(),
        "DROP TRIGGER chain_payments_update;
         UPDATE payments SET customer_no = '=HYPERLINK(\"http://x\")', raw_status = '+1' WHERE reference = 'PD-0005';",
    );
    let tz = jiff::tz::TimeZone::UTC;
    let filter = PaymentFilter { currency: Some("USD".into()), ..Default::default() };
    let totals = &ledger.totals(&filter).unwrap()[0];
    let export = |path: &std::path::Path, format| {
        let mut calls = 0;
        let options = ExportOptions { with_refunds: true, ..Default::default() };
        let summary = ledger
            .export(&filter, format, &options, ExportTarget::File(path.into()), &tz, &mut |_, _| {
                calls += 1;
                true
            })
            .unwrap();
        assert!(calls >= 1, "progress is reported");
        summary
    };

    let csv_path = dir.path().join("usd.csv");
    let summary = export(&csv_path, ExportFormat::Csv);
    assert_eq!(summary.payments as i64, totals.count);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (mut rows, mut sum) = (0i64, 0i64);
    let mut neutralised = false;
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        let minor: i64 = record[col("amount_minor")].parse().unwrap();
        sum += minor;
        assert_eq!(
            record[col("amount")],
            format!("{}.{:02}", minor / 100, minor % 100),
            "exact decimal beside minor units"
        );
        if &record[col("reference")] == "PD-0005" {
            assert_eq!(&record[col("customer_no")], "'=HYPERLINK(\"http://x\")");
            assert_eq!(&record[col("provider_status")], "'+1");
            neutralised = true;
        }
    }
    assert!(neutralised);
    assert_eq!(rows, totals.count);
    assert_eq!(sum, summary.sums[0].2);
    assert!(summary.files.iter().any(|f| f.to_string_lossy().ends_with("usd.refunds.csv")));
    let refunds = csv::Reader::from_path(dir.path().join("usd.refunds.csv")).unwrap().records().count() as u64;
    assert_eq!(refunds, summary.refunds);

    let jsonl = dir.path().join("usd.jsonl");
    export(&jsonl, ExportFormat::Jsonl);
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as i64, totals.count);
    assert_eq!(lines.iter().map(|l| l["amount_minor"].as_i64().unwrap()).sum::<i64>(), sum);
    let refunded: i64 = lines.iter().map(|l| l["refunded_minor"].as_i64().unwrap()).sum();
    assert_eq!(refunded, totals.refunded_minor, "refunds of the filter, as in the totals");

    let xlsx = dir.path().join("usd.xlsx");
    export(&xlsx, ExportFormat::Xlsx);
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let sheet = book.worksheet_range("Payments").unwrap();
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    let minor_col = header.iter().position(|h| h == "amount_minor").unwrap();
    let amount_col = header.iter().position(|h| h == "amount").unwrap();
    let mut xl_sum = 0i64;
    for row in sheet.rows().skip(1) {
        match (&row[minor_col], &row[amount_col]) {
            (Data::Float(m), Data::Float(a)) => {
                xl_sum += *m as i64;
                assert_eq!((a * 100.0).round() as i64, *m as i64);
            }
            other => panic!("amounts are numbers, not text: {other:?}"),
        }
    }
    assert_eq!(xl_sum, sum);
    assert!(book.worksheet_range("Refunds").is_ok(), "refunds on their own sheet");

    // Stopped part way: nothing half-written is left.
    let stopped = dir.path().join("stopped.csv");
    let err = ledger
        .export(
            &PaymentFilter::default(),
            ExportFormat::Csv,
            &ExportOptions::default(),
            ExportTarget::File(stopped.clone()),
            &tz,
            &mut |_, _| false,
        )
        .unwrap_err();
    assert!(matches!(err, paydesk_ledger::LedgerError::Cancelled), "{err}");
    assert!(!stopped.exists(), "a stopped export leaves no file");
}

#[test]
fn the_chain_finds_what_was_changed_behind_the_apps_back() {
    let fresh = || {
        let dir = tempfile::tempdir().unwrap();
        let ledger = filled(&dir);
        ledger.append_event(Some(1), "note", &serde_json::json!({"x": 1})).unwrap();
        let report = ledger.verify().unwrap();
        assert!(report.ok, "an untouched ledger verifies: {report:?}");
        assert!(report.entries > 130);
        let path = ledger.path().unwrap().to_path_buf();
        drop(ledger);
        (dir, path)
    };
    let verify_after = |sql: &str| {
        let (dir, path) = fresh();
        // Another tool has no Paydesk function: the app's triggers go first.
        let mut drop_triggers = String::new();
        for table in ["payments", "refunds", "events"] {
            for what in ["insert", "update", "delete"] {
                drop_triggers.push_str(&format!("DROP TRIGGER chain_{table}_{what}; "));
            }
        }
        set(&path, &format!("{drop_triggers}{sql}"));
        let report = Ledger::open(&path).unwrap().verify().unwrap();
        drop(dir);
        report
    };
    let r = verify_after("UPDATE payments SET amount_minor = 1 WHERE reference = 'PD-0042';");
    assert!(!r.ok);
    assert!(r.problem.as_deref().unwrap().contains("amount_minor 142 → 1"), "{r:?}");
    assert_eq!(r.at.as_deref(), Some("payment:43"));
    let r = verify_after("UPDATE payments SET status = 'refunded' WHERE reference = 'PD-0009';");
    assert!(r.problem.as_deref().unwrap().contains("status"), "{r:?}");
    let r = verify_after("UPDATE payments SET currency = 'EUR', reference = 'PD-X' WHERE reference = 'PD-0011';");
    assert!(r.problem.as_deref().unwrap().contains("currency"), "{r:?}");
    let r = verify_after("DELETE FROM chain WHERE seq = 50;");
    assert!(r.problem.as_deref().unwrap().contains("missing"), "{r:?}");
    assert_eq!(r.at.as_deref(), Some("chain:51"));
    let r = verify_after(
        "UPDATE chain SET seq = -1 WHERE seq = 60; UPDATE chain SET seq = 60 WHERE seq = 61; UPDATE chain SET seq = 61 WHERE seq = -1;",
    );
    assert!(r.problem.as_deref().unwrap().contains("reordered"), "{r:?}");
    let r = verify_after("UPDATE chain SET state = replace(state, '\"amount_minor\":120', '\"amount_minor\":1') WHERE subject = 'payment:21';");
    assert!(!r.ok, "{r:?}");
    let r = verify_after("DELETE FROM refunds WHERE refund_reference = 'RF-8';");
    assert!(r.problem.as_deref().unwrap().contains("deleted"), "{r:?}");
}

/// Four sellers write while the accountant verifies: every verify reads one snapshot and
/// never cries tamper that did not happen.
#[test]
fn verify_while_four_sellers_write_never_cries_tamper() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = filled(&dir);
    let path = ledger.path().unwrap().to_path_buf();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sellers: Vec<_> = (0..4)
        .map(|seller| {
            let (path, stop, written) = (path.clone(), stop.clone(), written.clone());
            std::thread::spawn(move || {
                let ledger = Ledger::open(&path).unwrap();
                let mut sold = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let p = ledger.insert_payment(&payment(&format!("PD-{seller}-{sold}"), 1300, "USD")).unwrap();
                    ledger
                        .apply_status(
                            p.id,
                            &StatusChange { status: PaymentStatus::Paid, raw_status: None, source: "test" },
                        )
                        .unwrap();
                    ledger.append_event(Some(p.id), "note", &serde_json::json!({"sold": sold})).unwrap();
                    sold += 1;
                    written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                sold
            })
        })
        .collect();
    while written.load(std::sync::atomic::Ordering::Relaxed) < 4 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut entries = Vec::new();
    for _ in 0..50 {
        let report = ledger.verify().unwrap();
        assert!(report.ok, "a false alarm while others write: {report:?}");
        entries.push(report.entries);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sold: i32 = sellers.into_iter().map(|s| s.join().unwrap()).sum();
    assert!(entries.first() < entries.last(), "the sellers wrote while it verified: {entries:?}");
    assert!(sold > 0);
    assert!(ledger.verify().unwrap().ok);
}

/// A head kept from an earlier verify proves later that nothing was cut off: a ledger cut
/// back and rebuilt verifies against itself but no longer holds the kept head.
#[test]
fn a_kept_head_finds_a_ledger_cut_back_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_in(dir.path()).unwrap();
    for i in 0..5 {
        ledger.insert_payment(&payment(&format!("PD-{i}"), 100, "USD")).unwrap();
    }
    let early = ledger.verify().unwrap();
    for i in 5..10 {
        ledger.insert_payment(&payment(&format!("PD-{i}"), 100, "USD")).unwrap();
    }
    let kept = ledger.verify().unwrap();
    let report = ledger.verify_against(&kept.head).unwrap();
    assert!(report.ok && report.extends_kept_head == Some(true), "{report:?}");
    let report = ledger.verify_against(&early.head.to_uppercase()).unwrap();
    assert!(report.ok && report.extends_kept_head == Some(true), "an earlier head is still held: {report:?}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["kept_head"], early.head.as_str());
    assert_eq!(json["extends_kept_head"], true);
    assert!(serde_json::to_value(ledger.verify().unwrap()).unwrap().get("kept_head").is_none());
    let path = ledger.path().unwrap().to_path_buf();
    drop(ledger);

    // Cut back to the early head with another tool, then one sale written again.
    set(
        &path,
        &format!(
            "PRAGMA foreign_keys = OFF; DROP TRIGGER chain_payments_delete; DROP TRIGGER chain_events_delete; \
             DROP TRIGGER events_no_delete; DELETE FROM events WHERE payment_id > 5; DELETE FROM payments WHERE id > 5; \
             DELETE FROM chain WHERE seq > {};",
            early.entries
        ),
    );
    let ledger = Ledger::open(&path).unwrap();
    ledger.insert_payment(&payment("PD-NEW", 100, "USD")).unwrap();
    assert!(ledger.verify().unwrap().ok, "the cut ledger is consistent in itself");
    let report = ledger.verify_against(&kept.head).unwrap();
    assert!(!report.ok, "{report:?}");
    assert_eq!(report.extends_kept_head, Some(false));
    assert!(report.problem.as_deref().unwrap().contains("cut off or rewritten"), "{report:?}");
}

/// Guards dropped behind the app's back (the chain's triggers, the events' append-only
/// rule) are put back the next time the ledger opens.
#[test]
fn dropped_guards_are_put_back_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = filled(&dir);
    let path = ledger.path().unwrap().to_path_buf();
    drop(ledger);
    set(&path, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; DROP TRIGGER chain_payments_update;");
    drop(Ledger::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    paydesk_ledger::chain::register(&conn).unwrap();
    let err = conn.execute_batch("DELETE FROM events WHERE id = 1").unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn.execute_batch("UPDATE events SET kind = 'x' WHERE id = 1").unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let triggers: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'chain_payments_update'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 1);
}

/// A ledger sealed before schema 18 (fewer fields per payment, no profiles) is sealed again
/// in full when it opens: it verifies, method, link and times are sealed from then on, and
/// a row changed behind the app's back before the upgrade is still named.
#[test]
fn a_ledger_sealed_before_18_is_sealed_again_in_full() {
    let build = |tamper: bool| {
        let dir = tempfile::tempdir().unwrap();
        let ledger = filled(&dir);
        ledger
            .save_profile(&paydesk_ledger::ProfileRow {
                name: "shop".into(),
                provider: "pockyt".into(),
                environment: "sandbox".into(),
                base_url: "https://mapi.yuansferdev.com".into(),
                settings: Default::default(),
                ipn_url: None,
                callback_url: None,
                ipn_listen: None,
                private_network: false,
                shop: paydesk_ledger::MAIN_SHOP.into(),
            })
            .unwrap();
        let path = ledger.path().unwrap().to_path_buf();
        drop(ledger);
        // Back to how schema 17 sealed: each payment's last entry in the old, shorter state,
        // profiles not in the chain.
        let conn = rusqlite::Connection::open(&path).unwrap();
        paydesk_ledger::chain::register(&conn).unwrap();
        let old = "json_object('reference', t.reference, 'profile', t.profile, 'provider', t.provider, \
            'amount_minor', t.amount_minor, 'currency', t.currency, 'status', t.status, 'transaction_no', t.transaction_no, \
            'paid_minor', t.paid_minor, 'customer_no', t.customer_no, 'created_at', t.created_at)";
        conn.execute_batch(&format!(
            "DROP TRIGGER chain_payments_update; DROP TRIGGER chain_profiles_insert; DROP TRIGGER chain_profiles_update;
             DELETE FROM chain WHERE subject LIKE 'profile:%';
             UPDATE chain SET state = (SELECT {old} FROM payments t WHERE 'payment:' || t.id = chain.subject)
               WHERE subject LIKE 'payment:%' AND state <> 'deleted';
             DROP INDEX payments_transaction_no; DROP INDEX payments_customer;
             CREATE INDEX payments_transaction ON payments(provider, transaction_no);
             CREATE INDEX payments_transaction_no ON payments(transaction_no);
             CREATE INDEX payments_customer ON payments(customer_no);
             DROP TABLE payers;
             DROP INDEX profiles_shop;
             ALTER TABLE profiles DROP COLUMN shop;
             ALTER TABLE tokens DROP COLUMN card_brand;
             ALTER TABLE tokens DROP COLUMN last4;
             ALTER TABLE tokens DROP COLUMN expiry;
             DROP TRIGGER chain_payments_insert; DROP TRIGGER chain_payments_delete;
             DROP INDEX payments_wallet;
             ALTER TABLE payments RENAME COLUMN wallet TO vendor;
             CREATE INDEX payments_vendor ON payments(vendor, created_at, id);
             PRAGMA user_version = 17;"
        ))
        .unwrap();
        // Re-hash the chain as schema 17 would have written it.
        let rows: Vec<(i64, String, String)> = conn
            .prepare("SELECT seq, subject, state FROM chain ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let (mut prev, mut seq) = (String::new(), 0);
        conn.execute_batch("DELETE FROM chain").unwrap();
        for (_, subject, state) in rows {
            seq += 1;
            let hash = paydesk_ledger::chain::entry_hash(&prev, seq, &subject, &state);
            conn.execute(
                "INSERT INTO chain (seq, at, subject, state, prev, hash) VALUES (?1, 'then', ?2, ?3, ?4, ?5)",
                rusqlite::params![seq, subject, state, prev, hash],
            )
            .unwrap();
            prev = hash;
        }
        if tamper {
            conn.execute_batch("UPDATE payments SET amount_minor = 1 WHERE id = 5").unwrap();
        }
        drop(conn);
        let ledger = Ledger::open(&path).unwrap();
        assert!(ledger.schema_version().unwrap() >= 18);
        (dir, ledger)
    };
    let (_dir, ledger) = build(false);
    let report = ledger.verify().unwrap();
    assert!(report.ok, "{report:?}");
    ledger.save_customer("shop", "C1", &serde_json::json!({"customerCode": "K1", "email": "a@example.com"})).unwrap();
    assert!(ledger.verify().unwrap().ok);
    let path = ledger.path().unwrap().to_path_buf();
    drop(ledger);
    // From now on the method, the link and the profile are sealed too.
    for (sql, at) in [
        ("DROP TRIGGER chain_payments_update; UPDATE payments SET method = 'link' WHERE id = 3;", "payment:3"),
        (
            "DROP TRIGGER chain_payments_update; UPDATE payments SET link = 'https://evil.example/' WHERE id = 4;",
            "payment:4",
        ),
        (
            "DROP TRIGGER chain_profiles_update; UPDATE profiles SET base_url = 'http://attacker.example';",
            "profile:shop",
        ),
        ("DROP TRIGGER chain_customers_update; UPDATE customers SET customer_code = 'K2';", "customer:shop/C1"),
    ] {
        let copy = path.with_file_name(format!("copy-{}.sqlite3", at.replace([':', '/'], "-")));
        std::fs::copy(&path, &copy).unwrap();
        set(&copy, sql);
        let report = Ledger::open(&copy).unwrap().verify().unwrap();
        assert!(!report.ok, "{sql}: {report:?}");
        assert_eq!(report.at.as_deref(), Some(at), "{report:?}");
    }
    let (_dir, tampered) = build(true);
    let report = tampered.verify().unwrap();
    assert!(!report.ok);
    assert_eq!(report.at.as_deref(), Some("payment:5"), "a change from before the upgrade is still named: {report:?}");
}

/// Counters started at once on a ledger that does not exist yet all open it: the one making
/// it turns it to WAL while the others ask, and SQLite answers them BUSY at once (no busy
/// handler for a journal-mode change) unless they ask again. Found by the four-counters test.
#[test]
fn counters_opening_a_new_ledger_at_once_all_get_it() {
    for _ in 0..25 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(paydesk_ledger::FILE_NAME);
        let together = std::sync::Arc::new(std::sync::Barrier::new(6));
        let opened: Vec<_> = (0..6)
            .map(|_| {
                let (path, together) = (path.clone(), together.clone());
                std::thread::spawn(move || {
                    together.wait();
                    Ledger::open(&path).map(drop)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        for result in opened {
            assert!(result.is_ok(), "{result:?}");
        }
    }
}
