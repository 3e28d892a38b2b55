//! The accountant's CLI on a real ledger file: local-day filters in a non-UTC time zone,
//! totals over the whole filter, exports (CSV, XLSX, JSON Lines to standard output) that
//! add up to those totals with no provider reachable, the daily report, a bulk refresh
//! whose provider is down, and `ledger verify`, `backup` and `restore` against edits made
//! with plain SQL.

use paydesk_e2e::{paydesk, run, Run};
use paydesk_gateways::{PaymentStatus, RefundStatus};
use paydesk_ledger::{Ledger, NewPayment, StatusChange};
use std::path::Path;

fn cli(home: &Path, args: &[&str]) -> Run {
    let mut c = paydesk(home);
    c.env("TZ", "Asia/Taipei").arg("--json").args(args);
    run(c, None)
}

/// A shop's ledger: nine sales over two Taipei days (some at the borders), one refunded in
/// part, one declined, one still waiting, all on a profile whose provider is unreachable.
fn shop(home: &Path) -> Ledger {
    let added = cli(
        home,
        &[
            "profile",
            "add",
            "tw-shop",
            "--provider",
            "pockyt",
            "--base-url",
            "http://127.0.0.1:9",
            "--merchant-no",
            "200043",
            "--store-no",
            "300014",
            "--ipn-url",
            "https://shop.example/ipn",
            "--callback-url",
            "https://shop.example/done",
        ],
    );
    assert_eq!(added.code, 0, "{}", added.stdout);
    let ledger = Ledger::open_in(home).unwrap();
    // (created_at UTC, amount, status)
    let sales = [
        ("2026-11-01T02:00:00Z", 1000, PaymentStatus::Paid),
        ("2026-11-01T15:59:59.5Z", 2000, PaymentStatus::Paid), // 23:59:59 on 1 Nov in Taipei
        ("2026-11-01T16:00:00Z", 3000, PaymentStatus::Paid),   // 00:00 on 2 Nov in Taipei
        ("2026-11-02T01:00:00Z", 4000, PaymentStatus::Paid),
        ("2026-11-02T02:00:00Z", 500, PaymentStatus::Failed),
        ("2026-11-02T03:00:00Z", 600, PaymentStatus::Pending),
        ("2026-11-02T04:00:00Z", 700, PaymentStatus::Paid),
        ("2026-11-02T05:00:00Z", 800, PaymentStatus::Paid),
        ("2026-11-02T15:59:59Z", 900, PaymentStatus::Paid),
    ];
    for (i, (at, amount, status)) in sales.iter().enumerate() {
        let p = ledger
            .insert_payment(&NewPayment {
                reference: format!("PD-TW-{i}"),
                profile: "tw-shop".into(),
                provider: "pockyt".into(),
                method: "qr".into(),
                wallet: Some("alipay".into()),
                amount_minor: *amount,
                currency: "USD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        ledger.record_provider_ids(p.id, &format!("TX{i}"), None).unwrap();
        ledger.apply_status(p.id, &StatusChange { status: *status, raw_status: None, source: "test" }).unwrap();
        if i == 3 {
            let r = ledger.insert_refund(p.id, "RF-TW-3", 1500).unwrap();
            ledger.finish_refund(r.id, RefundStatus::Succeeded, Some("RTX")).unwrap();
        }
        // Back-dated as if sold then, sealed like any write (the trigger, with the app's
        // hash function on this connection).
        let conn = rusqlite::Connection::open(ledger.path().unwrap()).unwrap();
        paydesk_ledger::chain::register(&conn).unwrap();
        conn.execute("UPDATE payments SET created_at = ?1 WHERE id = ?2", rusqlite::params![at, p.id]).unwrap();
    }
    ledger
}

#[test]
fn the_accountants_cli_filters_totals_exports_and_reports() {
    let home = tempfile::tempdir().unwrap();
    let _ledger = shop(home.path());

    // Local days in Taipei, cut at its midnight.
    let day1 = cli(home.path(), &["tx", "list", "--from", "2026-11-01", "--to", "2026-11-01"]).json();
    let refs: Vec<&str> = day1.as_array().unwrap().iter().map(|p| p["reference"].as_str().unwrap()).collect();
    assert_eq!(refs, vec!["PD-TW-1", "PD-TW-0"], "newest first, the 23:59:59 sale on its own day");
    let day2 =
        cli(home.path(), &["tx", "list", "--from", "2026-11-02", "--to", "2026-11-02", "--status", "paid"]).json();
    assert_eq!(day2.as_array().unwrap().len(), 5, "{day2}");
    // More rows than one page: the cursor goes on.
    let text = {
        let mut c = paydesk(home.path());
        c.env("TZ", "Asia/Taipei").args(["tx", "list", "--limit", "4"]);
        run(c, None).stdout
    };
    let after = text.lines().last().unwrap().trim_start_matches("more: --after ").to_string();
    let rest = cli(home.path(), &["tx", "list", "--limit", "10", "--after", &after]).json();
    assert_eq!(rest.as_array().unwrap().len(), 5, "the other five: {rest}");

    // Totals over the whole filter.
    let totals = cli(home.path(), &["tx", "totals", "--from", "2026-11-02", "--to", "2026-11-02"]).json();
    let usd = &totals[0];
    assert_eq!(usd["count"], 7);
    assert_eq!(usd["gross"], "94.00", "30 + 40 + 7 + 8 + 9: {usd}");
    assert_eq!(usd["refunded"], "15.00");
    assert_eq!(usd["net"], "79.00");

    // Exports add up to the totals; the provider is unreachable and never asked.
    let csv = home.path().join("day2.csv");
    let exported = cli(
        home.path(),
        &[
            "ledger",
            "export",
            "--format",
            "csv",
            "-o",
            csv.to_str().unwrap(),
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-02",
        ],
    );
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert_eq!(exported.json()["payments"], 7);
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = header.iter().position(|h| h == "amount_minor").unwrap();
    let local = header.iter().position(|h| h == "created_local").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 7);
    assert_eq!(
        rows.iter().map(|r| r[col].parse::<i64>().unwrap()).sum::<i64>(),
        3000 + 4000 + 500 + 600 + 700 + 800 + 900
    );
    assert_eq!(&rows[0][local], "2026-11-02 00:00:00", "local time beside UTC");
    let xlsx = home.path().join("all.xlsx");
    let x = cli(home.path(), &["ledger", "export", "--format", "xlsx", "-o", xlsx.to_str().unwrap(), "--refunds"]);
    assert_eq!(x.code, 0, "{}", x.stderr);
    assert_eq!((x.json()["payments"].as_i64(), x.json()["refunds"].as_i64()), (Some(9), Some(1)));
    let lines = {
        let mut c = paydesk(home.path());
        c.env("TZ", "Asia/Taipei").args(["ledger", "export", "--format", "jsonl", "-o", "-", "--status", "paid"]);
        run(c, None)
    };
    assert_eq!(lines.code, 0, "{}", lines.stderr);
    let docs: Vec<serde_json::Value> = lines.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs.len(), 7, "only the data on standard output");
    assert!(lines.stderr.contains("exported 7 payments"), "{}", lines.stderr);

    // Daily report by the shop's days: money taken, refunded and net per day and currency,
    // exact decimals beside minor units, and a total row.
    let report = cli(home.path(), &["report", "daily", "--from", "2026-11-01", "--to", "2026-11-02"]).json();
    let rows = report.as_array().unwrap();
    let day = |d: &str| rows.iter().find(|r| r["day"] == d).unwrap_or_else(|| panic!("{d}: {report}"));
    assert_eq!(
        (day("2026-11-01")["gross_minor"].as_i64(), day("2026-11-02")["gross_minor"].as_i64()),
        (Some(3000), Some(9400))
    );
    let total = day("total");
    assert_eq!(
        (total["gross"].as_str(), total["refunded"].as_str(), total["net"].as_str()),
        (Some("124.00"), Some("15.00"), Some("109.00")),
        "{report}"
    );
    assert_eq!(total["net_minor"], 10900);
    let by_provider =
        cli(home.path(), &["report", "daily", "--from", "2026-11-01", "--to", "2026-11-02", "--by", "provider"]).json();
    assert!(
        by_provider.as_array().unwrap().iter().filter(|r| r["day"] != "total").all(|r| r["provider"].is_string()),
        "{by_provider}"
    );
    assert_eq!(by_provider.as_array().unwrap().iter().find(|r| r["day"] == "total").unwrap()["gross_minor"], 12400);

    // The provider is down: the one waiting payment is counted unreachable, untouched.
    let name = paydesk_e2e::unique_name("tw-shop");
    let conn = rusqlite::Connection::open(home.path().join("ledger.sqlite3")).unwrap();
    paydesk_ledger::chain::register(&conn).unwrap();
    conn.execute("UPDATE profiles SET name = ?1 WHERE name = 'tw-shop'", [&name]).unwrap();
    conn.execute("UPDATE payments SET profile = ?1", [&name]).unwrap();
    drop(conn);
    let mut c = paydesk(home.path());
    c.args(["--json", "secret", "set", &name]);
    assert_eq!(run(c, Some("5cbfb079f15b150122261c8537086d77a")).code, 0);
    let refresh = cli(home.path(), &["tx", "refresh", "--profile", &name]);
    let _ = cli(home.path(), &["secret", "delete", &name]);
    assert_eq!(refresh.code, 0, "{}", refresh.stderr);
    let summary = refresh.json();
    assert_eq!((summary["total"].as_i64(), summary["unreachable"].as_i64()), (Some(1), Some(1)), "{summary}");
    assert!(refresh.stderr.contains("refreshing 1/1"), "a progress line on stderr: {}", refresh.stderr);
    let waiting = cli(home.path(), &["tx", "show", "PD-TW-5"]).json();
    assert_eq!(waiting["payment"]["status"], "pending");

    // A receipt laid out for a 58 mm printer, through the same page the window prints.
    let receipt = home.path().join("receipt.html");
    let r = cli(home.path(), &["tx", "receipt", "PD-TW-0", "--paper", "58mm", "-o", receipt.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&receipt).unwrap();
    for shown in [
        "size: 58mm auto",
        "width: 48mm",
        "10.00 USD",
        "PD-TW-0",
        "Alipay (counter QR)",
        "2026-11-01 10:00:00",
        "tw-shop",
    ] {
        assert!(html.contains(shown), "{shown} on the receipt: {html}");
    }
    let a4 = cli(home.path(), &["tx", "receipt", "PD-TW-1", "--paper", "a4", "--profile", &name]).json();
    assert!(a4["html"].as_str().unwrap().contains("size: A4"));
    let other = cli(home.path(), &["tx", "receipt", "PD-TW-1", "--profile", "another-shop"]);
    assert_ne!(other.code, 0, "--profile must be the payment's own");
    let declined = cli(home.path(), &["tx", "receipt", "PD-TW-4"]);
    assert_eq!(declined.json()["error"]["kind"], "not_allowed", "a declined sale has no receipt");
}

#[test]
fn ledger_verify_backup_and_restore() {
    let home = tempfile::tempdir().unwrap();
    let ledger = shop(home.path());
    let path = ledger.path().unwrap().to_path_buf();
    drop(ledger);
    let ok = cli(home.path(), &["ledger", "verify"]);
    assert_eq!(ok.code, 0, "an untouched ledger verifies: {}", ok.stdout);
    assert_eq!(ok.json()["ok"], true);

    let backup = home.path().join("backup.sqlite3");
    let b = cli(home.path(), &["ledger", "backup", backup.to_str().unwrap()]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert!(cli(home.path(), &["ledger", "backup", backup.to_str().unwrap()]).code != 0, "never over an existing file");

    // Another tool edits an amount (its triggers dropped first, as such a tool would).
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER chain_payments_update; UPDATE payments SET amount_minor = 1 WHERE reference = 'PD-TW-7';",
    )
    .unwrap();
    drop(conn);
    let bad = cli(home.path(), &["ledger", "verify"]);
    assert_eq!(bad.code, 1, "a tampered ledger fails: {}", bad.stdout);
    let report = bad.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["at"], "payment:8", "names the first bad row: {report}");
    assert!(report["problem"].as_str().unwrap().contains("amount_minor 800 → 1"), "{report}");

    // A tampered file is never restored over a good one; the good backup is.
    let r = cli(home.path(), &["ledger", "restore", backup.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(cli(home.path(), &["ledger", "verify"]).code, 0, "restored and verified");
    let tampered = home.path().join("tampered.sqlite3");
    std::fs::copy(&path, &tampered).unwrap();
    let conn = rusqlite::Connection::open(&tampered).unwrap();
    conn.execute_batch("DROP TRIGGER chain_payments_update; UPDATE payments SET status = 'refunded' WHERE id = 1;")
        .unwrap();
    drop(conn);
    let refused = cli(home.path(), &["ledger", "restore", tampered.to_str().unwrap()]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("does not verify"), "{}", refused.stderr);
    let ok = cli(home.path(), &["ledger", "verify"]);
    assert_eq!(ok.code, 0, "nothing changed");

    // The head printed is kept elsewhere: later, verify says the ledger still holds it.
    let head = ok.json()["head"].as_str().unwrap().to_string();
    assert!(ok.stdout.contains(&head) || ok.json()["head"] == head.as_str());
    let held = cli(home.path(), &["ledger", "verify", "--head", &head]);
    assert_eq!(held.code, 0, "{}", held.stdout);
    assert_eq!(
        (held.json()["kept_head"].as_str(), held.json()["extends_kept_head"].as_bool()),
        (Some(head.as_str()), Some(true))
    );
    let text = run(
        {
            let mut c = paydesk(home.path());
            c.args(["ledger", "verify", "--head", &head]);
            c
        },
        None,
    );
    assert!(text.stdout.contains("it still holds the kept head"), "{}", text.stdout);
    let lost = cli(home.path(), &["ledger", "verify", "--head", &"0".repeat(64)]);
    assert_eq!(lost.code, 1, "a head the ledger no longer holds: {}", lost.stdout);
    assert_eq!(lost.json()["extends_kept_head"], false);
    assert!(lost.json()["problem"].as_str().unwrap().contains("cut off or rewritten"));
    let typo = cli(home.path(), &["ledger", "verify", "--head", "abc"]);
    assert_eq!(typo.json()["error"]["field"], "head", "{}", typo.stdout);
}

/// A restore never replaces the books while another process has them open (a sale it
/// recorded meanwhile would be lost): it is refused, naming the process, until it ends.
#[test]
fn restore_waits_for_nobody_else_to_hold_the_ledger() {
    let home = tempfile::tempdir().unwrap();
    drop(shop(home.path()));
    let backup = home.path().join("backup.sqlite3");
    assert_eq!(cli(home.path(), &["ledger", "backup", backup.to_str().unwrap()]).code, 0);
    let port = paydesk_e2e::free_port();
    let listener =
        paydesk_e2e::NotificationListenerProcess::start(home.path(), &["--bind", &format!("127.0.0.1:{port}")]);
    let refused = cli(home.path(), &["ledger", "restore", backup.to_str().unwrap()]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(refused.stderr.contains("the ledger is open in pid"), "{}", refused.stderr);
    assert!(refused.stderr.contains("paydesk"), "names the process: {}", refused.stderr);
    assert!(refused.stderr.contains("nothing was restored"), "{}", refused.stderr);
    drop(listener);
    let restored = cli(home.path(), &["ledger", "restore", backup.to_str().unwrap()]);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert_eq!(restored.json()["ok"], true);
}

/// Restore never loses data: an empty file, a file that is not a Paydesk ledger, or a
/// backup with fewer payments than the ledger now is refused (exit 1, nothing changed)
/// unless --replace-newer; the ledger as it was is kept as a private, dated safety copy.
#[test]
fn restore_never_loses_data() {
    let home = tempfile::tempdir().unwrap();
    let ledger = shop(home.path());
    let count = ledger.count_payments().unwrap();
    let backup = home.path().join("backup.sqlite3");
    assert_eq!(cli(home.path(), &["ledger", "backup", backup.to_str().unwrap()]).code, 0);

    let empty = home.path().join("e.bak");
    std::fs::write(&empty, b"").unwrap();
    let refused = cli(home.path(), &["ledger", "restore", empty.to_str().unwrap()]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(refused.stderr.contains("is empty, not a Paydesk ledger"), "{}", refused.stderr);
    let text = home.path().join("notes.txt");
    std::fs::write(&text, b"not a database at all").unwrap();
    let refused = cli(home.path(), &["ledger", "restore", text.to_str().unwrap()]);
    assert!(refused.code == 1 && refused.stderr.contains("is not a Paydesk ledger"), "{}", refused.stderr);
    let other = home.path().join("other.sqlite3");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x);").unwrap();
    let refused = cli(home.path(), &["ledger", "restore", other.to_str().unwrap()]);
    assert!(refused.code == 1 && refused.stderr.contains("is not a Paydesk ledger"), "{}", refused.stderr);
    assert_eq!(ledger.count_payments().unwrap(), count, "nothing lost");

    // A sale after the backup: the backup would lose it.
    let mut newer = ledger.payment_by_reference("PD-TW-1").unwrap().unwrap();
    newer.reference = "PD-TW-NEWER".into();
    ledger
        .insert_payment(&NewPayment {
            reference: newer.reference.clone(),
            profile: newer.profile,
            provider: newer.provider,
            method: newer.method,
            wallet: newer.wallet,
            amount_minor: 4200,
            currency: newer.currency,
            customer_no: None,
            checkout_options: None,
        })
        .unwrap();
    drop(ledger);
    let refused = cli(home.path(), &["ledger", "restore", backup.to_str().unwrap()]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("1 would be lost"), "{}", refused.stderr);
    assert!(Ledger::open_in(home.path()).unwrap().payment_by_reference("PD-TW-NEWER").unwrap().is_some());

    let replaced = cli(home.path(), &["ledger", "restore", backup.to_str().unwrap(), "--replace-newer"]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    let report = replaced.json();
    assert_eq!((report["ok"].as_bool(), report["payments"].as_i64()), (Some(true), Some(count)), "{report}");
    let safety = std::path::PathBuf::from(report["safety_copy"].as_str().unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&safety).unwrap().permissions().mode() & 0o777, 0o600);
    let kept = Ledger::open(&safety).unwrap();
    assert!(
        kept.payment_by_reference("PD-TW-NEWER").unwrap().is_some(),
        "the replaced sale is kept in the safety copy"
    );
    assert!(Ledger::open_in(home.path()).unwrap().payment_by_reference("PD-TW-NEWER").unwrap().is_none());
}

/// Restore while four sellers sell, even with --replace-newer: each attempt either waits for
/// nobody (taken between two sellers' commands, the replaced books kept as a safety copy) or
/// is refused naming who holds the ledger; every seller's command succeeds, and every sale
/// that answered is still in the ledger or in a safety copy. Nothing is lost either way.
#[test]
fn restore_while_four_sellers_sell_loses_nothing() {
    let home = tempfile::tempdir().unwrap();
    drop(shop(home.path()));
    let backup = home.path().join("backup.sqlite3");
    assert_eq!(cli(home.path(), &["ledger", "backup", backup.to_str().unwrap()]).code, 0);
    let selling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sellers: Vec<_> = (0..4)
        .map(|seller| {
            let home = home.path().to_path_buf();
            std::thread::spawn(move || {
                (0..8)
                    .map(|n| {
                        let amount = format!("{}.{:02}", seller + 1, n);
                        let sale =
                            cli(&home, &["pay", "qr", "--amount", &amount, "--currency", "USD", "--vendor", "alipay"]);
                        assert_eq!(sale.code, 0, "seller {seller}: {}\n{}", sale.stdout, sale.stderr);
                        sale.json()["reference"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let (mut refused, mut safety_copies) = (0, Vec::new());
    let restorer = {
        let selling = selling.clone();
        let home = home.path().to_path_buf();
        std::thread::spawn(move || {
            while selling.load(std::sync::atomic::Ordering::Relaxed) {
                let attempt = cli(&home, &["ledger", "restore", backup.to_str().unwrap(), "--replace-newer"]);
                if attempt.code == 0 {
                    let report = attempt.json();
                    assert_eq!(report["ok"], true, "{report}");
                    safety_copies.push(std::path::PathBuf::from(report["safety_copy"].as_str().unwrap()));
                } else {
                    assert_eq!(attempt.code, 1, "{}", attempt.stderr);
                    assert!(
                        // Named ("open in pid N (paydesk)") unless the holder ended meanwhile.
                        attempt.stderr.contains("the ledger is open in")
                            && attempt.stderr.contains("nothing was restored"),
                        "refused only because the ledger is held: {}",
                        attempt.stderr
                    );
                    refused += 1;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            (refused, safety_copies)
        })
    };
    let sold: Vec<String> = sellers.into_iter().flat_map(|s| s.join().unwrap()).collect();
    selling.store(false, std::sync::atomic::Ordering::Relaxed);
    let (refused, safety_copies) = restorer.join().unwrap();
    eprintln!(
        "{} sales; restores refused while held: {refused}, taken between commands: {}",
        sold.len(),
        safety_copies.len()
    );
    assert_eq!(sold.len(), 32);
    assert!(refused > 0, "some restore met a seller at work");

    let mut books = vec![Ledger::open_in(home.path()).unwrap()];
    books.extend(safety_copies.iter().map(|p| Ledger::open(p).unwrap()));
    for reference in &sold {
        let kept = books.iter().filter(|l| l.payment_by_reference(reference).unwrap().is_some()).count();
        assert!(kept > 0, "sale {reference} answered OK and was lost");
    }
    let verified = cli(home.path(), &["ledger", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
}

/// Every file Paydesk writes for the accountant holds the shop's books or its payers'
/// data: backups, exports (and their side files), receipts and QR files are 0600 under
/// any umask.
#[test]
fn files_paydesk_writes_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    drop(shop(home.path()));
    let out = home.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let backup = out.join("b.sqlite3");
    assert_eq!(cli(home.path(), &["ledger", "backup", backup.to_str().unwrap()]).code, 0);
    let csv = out.join("all.csv");
    let exported = cli(home.path(), &["ledger", "export", "--format", "csv", "--refunds", "-o", csv.to_str().unwrap()]);
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    let xlsx = out.join("all.xlsx");
    assert_eq!(cli(home.path(), &["ledger", "export", "--format", "xlsx", "-o", xlsx.to_str().unwrap()]).code, 0);
    let receipt = out.join("receipt.html");
    let printed =
        cli(home.path(), &["tx", "receipt", "PD-TW-1", "--profile", "tw-shop", "-o", receipt.to_str().unwrap()]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    // A demo sale: the demo sandbox's state (its payers) is private too, and so is the lock file.
    let demo = cli(home.path(), &["pay", "qr", "--amount", "1.00", "--currency", "USD", "--vendor", "alipay"]);
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    for file in [
        backup,
        csv,
        out.join("all.refunds.csv"),
        xlsx,
        receipt,
        home.path().join("demo-sandbox.sqlite3"),
        home.path().join("ledger.sqlite3.lock"),
        home.path().join("ledger.sqlite3"),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // A link planted where a file will be written is not followed.
    let victim = home.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    let planted = out.join("planted.csv");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let refused = cli(home.path(), &["ledger", "export", "--format", "csv", "-o", planted.to_str().unwrap()]);
    assert_ne!(refused.code, 0);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
}

/// `ledger copy` never launders a tampered ledger: its source is verified first.
#[test]
fn ledger_copy_refuses_a_source_that_does_not_verify() {
    let home = tempfile::tempdir().unwrap();
    let path = shop(home.path()).path().unwrap().to_path_buf();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TRIGGER chain_payments_update; UPDATE payments SET amount_minor = 1 WHERE id = 1;")
        .unwrap();
    drop(conn);
    let target = paydesk_e2e::fresh_shared_ledger("tampered");
    let refused = cli(home.path(), &["ledger", "copy", "--to", &target]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(refused.stderr.contains("does not verify"), "{}", refused.stderr);
    let server = Ledger::open_shared(&target).unwrap();
    assert_eq!(server.count_payments().unwrap(), 0, "nothing was copied");
}

/// Moving up: `ledger copy --to URL` puts a shop's SQLite ledger into a PostgreSQL one (a
/// real server: scripts/test runs a throwaway cluster), with the same totals, its own hash
/// chain sealing every row, no secret; and a second run adds nothing twice.
#[test]
fn ledger_copy_into_postgres_is_checked_and_safe_to_repeat() {
    let home = tempfile::tempdir().unwrap();
    let _ledger = shop(home.path());
    let server = std::env::var("PAYDESK_TEST_POSTGRES")
        .expect("PAYDESK_TEST_POSTGRES is not set: scripts/test starts a throwaway PostgreSQL for these tests");
    let name = format!("paydesk_copy_{}", rand::random::<u32>());
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);

    let first = cli(home.path(), &["ledger", "copy", "--to", &url]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let report = first.json();
    assert_eq!(report["rows"]["payments"], 9, "{report}");
    assert_eq!(report["rows"]["profiles"], 1);
    let local = cli(home.path(), &["tx", "totals"]).json();

    let mut shared = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let count = |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(count(&mut shared, "SELECT count(*) FROM payments"), 9);
    let paid: i64 = count(
        &mut shared,
        "SELECT sum(amount_minor)::bigint FROM payments WHERE status IN ('paid', 'partially_refunded')",
    );
    let local_gross: i64 = local.as_array().unwrap().iter().map(|t| t["gross_minor"].as_i64().unwrap_or(0)).sum();
    assert!(paid > 0 && paid <= local_gross, "paid {paid}, local totals {local}");
    let refunds = count(&mut shared, "SELECT count(*) FROM refunds");
    assert_eq!(refunds, report["rows"]["refunds"].as_i64().unwrap());
    // Profiles travel without secrets: the ledger never had any.
    let settings: String =
        shared.query_one("SELECT settings FROM profiles WHERE name = 'tw-shop'", &[]).unwrap().get(0);
    assert!(!settings.to_lowercase().contains("token") && !settings.to_lowercase().contains("secret"), "{settings}");
    // The shared ledger's chain sealed every copied row, and links up.
    let entries = count(&mut shared, "SELECT count(*) FROM chain");
    let copied: i64 = ["profiles", "customers", "payments", "refunds", "events"]
        .iter()
        .map(|t| report["rows"][t].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(entries, copied, "one entry per copied profile, customer, payment, refund and event");
    let rows = shared.query("SELECT seq, subject, state, prev, hash FROM chain ORDER BY seq", &[]).unwrap();
    let mut prev = String::new();
    for r in &rows {
        let (seq, subject, state, p, hash): (i64, String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
        assert_eq!(p, prev);
        assert_eq!(hash, paydesk_ledger::chain::entry_hash(&prev, seq, &subject, &state));
        prev = hash;
    }

    // Again: nothing is added twice and nothing changes.
    let second = cli(home.path(), &["ledger", "copy", "--to", &url]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.json()["totals"], report["totals"]);
    assert_eq!(count(&mut shared, "SELECT count(*) FROM payments"), 9);
    assert_eq!(count(&mut shared, "SELECT count(*) FROM chain"), entries, "an unchanged row leaves no entry");
    // And back: the shared ledger into a new SQLite file, an offline copy with the same
    // totals and a chain of its own that verifies.
    let offline = home.path().join("offline.sqlite3");
    let back = cli(home.path(), &["ledger", "copy", "--from", &url, "--to", offline.to_str().unwrap()]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(back.json()["rows"]["payments"], 9);
    let copy = Ledger::open(&offline).unwrap();
    let original = Ledger::open_in(home.path()).unwrap();
    assert!(copy.verify().unwrap().ok, "the offline copy's chain verifies");
    let all = paydesk_ledger::PaymentFilter::default();
    let (ours, theirs) = (original.totals(&all).unwrap(), copy.totals(&all).unwrap());
    assert!(!ours.is_empty());
    assert_eq!(ours, theirs, "identical totals after the round trip");
    assert!(
        cli(home.path(), &["ledger", "copy", "--from", &url, "--to", offline.to_str().unwrap()]).code != 0,
        "never over an existing file"
    );

    // A new payment on the shared ledger continues after the copied ids.
    let next: i64 = shared
        .query_one(
            "INSERT INTO payments (reference, profile, provider, method, amount_minor, currency, status, created_at, updated_at)
             VALUES ('PD-COUNTER-B', 'tw-shop', 'pockyt', 'qr', 100, 'TWD', 'created', 'now', 'now') RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(next > 9, "{next}");

    // A server that is not there: a clear refusal, nothing written.
    let refused = cli(home.path(), &["ledger", "copy", "--to", "postgres://paydesk@127.0.0.1:9/none"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("cannot be reached"), "{}", refused.stderr);
}

/// A counter that sold alone joins the shop's shared ledger with its history: its 5 sales are
/// merged beside 40 other counters' (matched by reference, new ids there), the check compares
/// its own rows only, a second copy adds nothing, and a reference already there with other
/// content is reported (exit 1) and never overwritten.
#[test]
fn a_counters_history_joins_a_shared_ledger_that_holds_other_counters_sales() {
    let url = paydesk_e2e::fresh_shared_ledger("join_history");
    let (others, counter) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sell = |home: &Path, ledger: Option<&str>, amount: &str| -> String {
        let mut c = paydesk(home);
        if let Some(url) = ledger {
            c.env("PAYDESK_LEDGER", url);
        }
        c.args(["--json", "pay", "qr", "--amount", amount, "--currency", "USD", "--vendor", "alipay"]);
        let sale = run(c, None);
        assert_eq!(sale.code, 0, "{}", sale.stderr);
        sale.json()["reference"].as_str().unwrap().to_string()
    };
    for n in 0..40 {
        sell(others.path(), Some(&url), &format!("1.{n:02}"));
    }
    let ours: Vec<String> = (0..5).map(|n| sell(counter.path(), None, &format!("2.{n:02}"))).collect();
    let mut shared = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let count = |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };

    let joined = cli(counter.path(), &["ledger", "copy", "--to", &url]);
    assert_eq!(joined.code, 0, "{}\n{}", joined.stdout, joined.stderr);
    let report = joined.json();
    assert_eq!((report["inserted"].as_i64(), report["already_there"].as_i64()), (Some(5), Some(0)), "{report}");
    assert_eq!(count(&mut shared, "SELECT count(*) FROM payments"), 45);
    let chain = count(&mut shared, "SELECT count(*) FROM chain");

    let again = cli(counter.path(), &["ledger", "copy", "--to", &url]).json();
    assert_eq!((again["inserted"].as_i64(), again["already_there"].as_i64()), (Some(0), Some(5)), "{again}");
    assert_eq!(count(&mut shared, "SELECT count(*) FROM payments"), 45, "none doubled");
    assert_eq!(count(&mut shared, "SELECT count(*) FROM chain"), chain, "nothing written twice");

    // The shared ledger moved one of ours on meanwhile: reported, not overwritten.
    shared.execute("UPDATE payments SET status = 'failed' WHERE reference = $1", &[&ours[0]]).unwrap();
    let differs = cli(counter.path(), &["ledger", "copy", "--to", &url]);
    assert_eq!(differs.code, 1, "{}", differs.stdout);
    assert_eq!(differs.json()["conflicts"], serde_json::json!([ours[0]]));
    let kept: String =
        shared.query_one("SELECT status FROM payments WHERE reference = $1", &[&ours[0]]).unwrap().get(0);
    assert_eq!(kept, "failed", "never overwritten");
    assert_eq!(count(&mut shared, "SELECT count(*) FROM payments"), 45);

    let mut verify = paydesk(others.path());
    verify.env("PAYDESK_LEDGER", &url).args(["--json", "ledger", "verify"]);
    let verified = run(verify, None);
    assert_eq!(verified.code, 0, "the shared chain verifies: {}", verified.stdout);
}
