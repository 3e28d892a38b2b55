//! The shared ledger's engine on a real PostgreSQL server (scripts/test starts a throwaway
//! cluster on loopback and names it in PAYDESK_TEST_POSTGRES): the schema migrates to the
//! same version as SQLite's, once, under concurrent starts; events stay append-only; and two
//! counters writing at once keep one valid hash chain.

use paydesk_ledger::chain::entry_hash;
use paydesk_ledger::postgres::{latest_version, migrate, migrate_up_to};
use postgres::{Client, NoTls};

/// A fresh database of its own on the test server.
fn fresh_database() -> String {
    let server = std::env::var("PAYDESK_TEST_POSTGRES")
        .expect("PAYDESK_TEST_POSTGRES is not set: scripts/test starts a throwaway PostgreSQL for these tests");
    let name = format!("paydesk_{}", rand::random::<u32>());
    let mut admin = Client::connect(&server, NoTls).unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn insert_payment(client: &mut Client, reference: &str) -> i64 {
    client
        .query_one(
            "INSERT INTO payments (reference, profile, provider, method, amount_minor, currency, status, created_at, updated_at)
             VALUES ($1, 'counter', 'pockyt', 'qr', 1300, 'USD', 'created', 'now', 'now') RETURNING id",
            &[&reference],
        )
        .unwrap()
        .get(0)
}

#[test]
fn migrates_once_to_the_same_version_as_sqlite() {
    let url = fresh_database();
    // Four counters start at once: one migrates, the others find it done.
    let found: Vec<i64> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || migrate(&mut Client::connect(&url, NoTls).unwrap()).unwrap())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(found.iter().filter(|v| **v == 0).count(), 1, "one migration ran: {found:?}");
    assert!(found.iter().all(|v| *v == 0 || *v == latest_version()), "{found:?}");
    let mut client = Client::connect(&url, NoTls).unwrap();
    let version: i64 = client.query_one("SELECT version FROM paydesk_schema", &[]).unwrap().get(0);
    assert_eq!(version, latest_version());
    assert_eq!(migrate(&mut client).unwrap(), latest_version(), "a second start changes nothing");

    // History is append-only here too.
    let id = insert_payment(&mut client, "PD-APPEND");
    client
        .execute("INSERT INTO events (payment_id, at, kind, detail) VALUES ($1, 'now', 'created', '{}')", &[&id])
        .unwrap();
    let refused = client.execute("UPDATE events SET kind = 'edited'", &[]).unwrap_err();
    assert!(
        refused.to_string().contains("append-only") || format!("{refused:?}").contains("append-only"),
        "{refused:?}"
    );
    assert!(client.execute("DELETE FROM events", &[]).is_err());
    // References stay unique across counters.
    let twice = client.query_one(
        "INSERT INTO payments (reference, profile, provider, method, amount_minor, currency, status, created_at, updated_at)
         VALUES ('PD-APPEND', 'other', 'pockyt', 'qr', 500, 'USD', 'created', 'now', 'now') RETURNING id",
        &[],
    );
    assert!(twice.is_err(), "a reference is unique in the shared ledger");
}

#[test]
fn concurrent_writers_keep_one_valid_chain() {
    let url = fresh_database();
    migrate(&mut Client::connect(&url, NoTls).unwrap()).unwrap();
    // Two counters, each selling and settling 40 payments in their own transactions.
    let counters: Vec<_> = (0..2)
        .map(|counter| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut client = Client::connect(&url, NoTls).unwrap();
                for i in 0..40 {
                    let mut tx = client.transaction().unwrap();
                    let id: i64 = tx
                        .query_one(
                            "INSERT INTO payments (reference, profile, provider, method, amount_minor, currency, status, created_at, updated_at)
                             VALUES ($1, 'counter', 'pockyt', 'qr', 1300, 'USD', 'created', 'now', 'now') RETURNING id",
                            &[&format!("PD-{counter}-{i}")],
                        )
                        .unwrap()
                        .get(0);
                    tx.execute("UPDATE payments SET status = 'paid' WHERE id = $1", &[&id]).unwrap();
                    // A change that seals nothing new leaves no entry.
                    tx.execute("UPDATE payments SET checked_at = 'later' WHERE id = $1", &[&id]).unwrap();
                    tx.commit().unwrap();
                }
            })
        })
        .collect();
    for c in counters {
        c.join().unwrap();
    }
    let mut client = Client::connect(&url, NoTls).unwrap();
    let rows = client.query("SELECT seq, subject, state, prev, hash FROM chain ORDER BY seq", &[]).unwrap();
    assert_eq!(rows.len(), 160, "an entry for each insert and each status change");
    let mut prev = String::new();
    for (i, row) in rows.iter().enumerate() {
        let (seq, subject, state, stored_prev, hash): (i64, String, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        assert_eq!(seq, i as i64 + 1, "no gap, no fork");
        assert_eq!(stored_prev, prev, "entry {seq} follows the one before");
        assert_eq!(hash, entry_hash(&prev, seq, &subject, &state), "entry {seq} hashes as the app computes");
        prev = hash;
    }
}

#[test]
fn the_shared_ledger_streams_long_answers_and_exports_them_whole() {
    use paydesk_ledger::export::{ExportFormat, ExportOptions, ExportTarget};
    use paydesk_ledger::{Ledger, NewPayment, PaymentFilter};
    let ledger = Ledger::open_shared(&fresh_database()).unwrap();
    // More than one chunk (512 rows) of the stream.
    ledger
        .batch(|l| {
            for i in 0..1300 {
                l.insert_payment(&NewPayment {
                    reference: format!("PD-S-{i:05}"),
                    profile: "counter".into(),
                    provider: "pockyt".into(),
                    method: "qr".into(),
                    wallet: Some("alipay".into()),
                    amount_minor: 100 + i,
                    currency: "USD".into(),
                    customer_no: None,
                    checkout_options: None,
                })?;
            }
            Ok(())
        })
        .unwrap();
    let mut seen = Vec::new();
    ledger
        .each_payment(&PaymentFilter::default(), |p| {
            seen.push(p.reference);
            true
        })
        .unwrap();
    assert_eq!(seen.len(), 1300);
    assert_eq!(seen.first().map(String::as_str), Some("PD-S-00000"), "oldest first");
    let mut stopped = 0;
    ledger
        .each_payment(&PaymentFilter::default(), |_| {
            stopped += 1;
            stopped < 700
        })
        .unwrap();
    assert_eq!(stopped, 700, "stops when asked");
    // An export reads refunds and events per payment while the payments stream.
    let mut csv = Vec::new();
    let summary = ledger
        .export(
            &PaymentFilter::default(),
            ExportFormat::Csv,
            &ExportOptions::default(),
            ExportTarget::Stream(&mut csv),
            &jiff::tz::TimeZone::UTC,
            &mut |_, _| true,
        )
        .unwrap();
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 1301, "{summary:?}");
    assert!(ledger.verify().unwrap().ok);
}

/// Four counters sell on the shared ledger while the accountant verifies 50 times: one
/// REPEATABLE READ snapshot (shared with the streaming reads) never cries tamper.
#[test]
fn verify_while_four_counters_sell_never_cries_tamper() {
    use paydesk_ledger::{Ledger, NewPayment, StatusChange};
    use paydesk_types::PaymentStatus;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let url = fresh_database();
    let ledger = Ledger::open_shared(&url).unwrap();
    let sale = |reference: String| NewPayment {
        reference,
        profile: "counter".into(),
        provider: "pockyt".into(),
        method: "qr".into(),
        wallet: Some("alipay".into()),
        amount_minor: 1300,
        currency: "USD".into(),
        customer_no: None,
        checkout_options: None,
    };
    // More than one streamed chunk, so each verify takes a while.
    ledger
        .batch(|l| {
            for i in 0..700 {
                l.insert_payment(&sale(format!("PD-F-{i}")))?;
            }
            Ok(())
        })
        .unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let written = std::sync::Arc::new(AtomicUsize::new(0));
    let counters: Vec<_> = (0..4)
        .map(|counter| {
            let (url, stop, written) = (url.clone(), stop.clone(), written.clone());
            std::thread::spawn(move || {
                let ledger = Ledger::open_shared(&url).unwrap();
                let mut sold = 0;
                while !stop.load(Ordering::Relaxed) {
                    let p = ledger
                        .insert_payment(&NewPayment {
                            reference: format!("PD-{counter}-{sold}"),
                            profile: "counter".into(),
                            provider: "pockyt".into(),
                            method: "qr".into(),
                            wallet: None,
                            amount_minor: 1300,
                            currency: "USD".into(),
                            customer_no: None,
                            checkout_options: None,
                        })
                        .unwrap();
                    ledger
                        .apply_status(
                            p.id,
                            &StatusChange { status: PaymentStatus::Paid, raw_status: None, source: "test" },
                        )
                        .unwrap();
                    sold += 1;
                    written.fetch_add(1, Ordering::Relaxed);
                }
                sold
            })
        })
        .collect();
    while written.load(Ordering::Relaxed) < 4 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut entries = Vec::new();
    for _ in 0..50 {
        let report = ledger.verify().unwrap();
        assert!(report.ok, "a false alarm while others write: {report:?}");
        entries.push(report.entries);
    }
    stop.store(true, Ordering::Relaxed);
    let sold: i32 = counters.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(entries.first() < entries.last(), "the counters wrote while it verified: {entries:?}");
    assert!(sold > 0);
    let report = ledger.verify().unwrap();
    assert!(report.ok, "{report:?}");
    assert!(ledger.verify_against(&report.head).unwrap().extends_kept_head == Some(true));
}

/// Guards dropped behind the app's back are put back when a counter next opens the ledger.
#[test]
fn dropped_guards_are_put_back_at_open() {
    let url = fresh_database();
    drop(paydesk_ledger::Ledger::open_shared(&url).unwrap());
    let mut client = Client::connect(&url, NoTls).unwrap();
    let id = insert_payment(&mut client, "PD-G");
    client
        .execute("INSERT INTO events (payment_id, at, kind, detail) VALUES ($1, 'now', 'note', '{}')", &[&id])
        .unwrap();
    client.batch_execute("DROP TRIGGER events_no_delete ON events; DROP TRIGGER chain_payments ON payments;").unwrap();
    drop(paydesk_ledger::Ledger::open_shared(&url).unwrap());
    let err = client.batch_execute("DELETE FROM events").unwrap_err();
    assert!(format!("{err:?}").contains("append-only"), "{err:?}");
    let before: i64 = client.query_one("SELECT count(*) FROM chain", &[]).unwrap().get(0);
    client.execute("UPDATE payments SET amount_minor = 1 WHERE id = $1", &[&id]).unwrap();
    let after: i64 = client.query_one("SELECT count(*) FROM chain", &[]).unwrap().get(0);
    assert_eq!(after, before + 1, "the chain's trigger seals again");
}

/// A shared ledger an older build left at version 21 keeps its sales and its seals through
/// the wallet's rename (22): the chain verifies, the wallet reads back, and a change made
/// after it is sealed by the trigger made again, under the key the state always had.
#[test]
fn a_ledger_from_before_the_wallets_rename_keeps_every_seal() {
    let url = fresh_database();
    let mut client = Client::connect(&url, NoTls).unwrap();
    assert_eq!(migrate_up_to(&mut client, 21).unwrap(), 0);
    let id: i64 = client
        .query_one(
            "INSERT INTO payments (reference, profile, provider, method, vendor, amount_minor, currency, status, created_at, updated_at)
             VALUES ('PD-BEFORE-22', 'counter', 'pockyt', 'qr', 'alipay', 1300, 'USD', 'created', 'now', 'now') RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    drop(client);

    let ledger = paydesk_ledger::Ledger::open_shared(&url).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), latest_version());
    let row = ledger.payment_by_reference("PD-BEFORE-22").unwrap().unwrap();
    assert_eq!(row.wallet.as_deref(), Some("alipay"));
    assert!(ledger.verify().unwrap().ok, "sealed before the rename, verified after it");

    ledger.record_provider_ids(id, "T-AFTER-22", None).unwrap();
    let report = ledger.verify().unwrap();
    assert!(report.ok, "{report:?}");
    let mut client = Client::connect(&url, NoTls).unwrap();
    let state: String = client
        .query_one("SELECT state FROM chain WHERE subject = $1 ORDER BY seq DESC LIMIT 1", &[&format!("payment:{id}")])
        .unwrap()
        .get(0);
    assert!(state.contains(r#""vendor" : "alipay""#) || state.contains(r#""vendor": "alipay""#), "{state}");
    assert!(state.contains("T-AFTER-22"), "the change is sealed: {state}");
}
