//! Several counters, one ledger: two homes (two counters) and an accountant's CLI on one
//! real PostgreSQL database, each `paydesk` its own process with `--ledger URL`, selling
//! against the sandbox over HTTP with the secret in the real Secret Service. Sales in
//! parallel, refunds racing for one remainder, one notification posted to both counters'
//! listeners; and a server stopped mid-run.

use paydesk_e2e::{
    free_port, fresh_shared_ledger, paydesk, run, unique_name, NotificationListenerProcess, OwnServer, Run,
    SandboxProcess,
};
use paydesk_gateways::ApiSecret;
use std::collections::BTreeMap;
use std::path::Path;

const DEMO_TOKEN: &str = "5cbfb079f15b150122261c8537086d77a";

fn cli(home: &Path, ledger: &str, args: &[&str]) -> Run {
    let mut c = paydesk(home);
    c.env_remove("PAYDESK_LEDGER").args(["--json", "--ledger", ledger]).args(args);
    run(c, None)
}

fn ok(r: Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r.json()
}

fn add_profile(home: &Path, ledger: &str, name: &str, sandbox: &SandboxProcess) {
    ok(cli(
        home,
        ledger,
        &[
            "profile",
            "add",
            name,
            "--base-url",
            &sandbox.base_url,
            "--merchant-no",
            "200043",
            "--store-no",
            "300014",
            "--ipn-url",
            &format!("{}/sandbox/ipn-sink", sandbox.base_url),
            "--callback-url",
            "https://shop.example/done",
        ],
    ));
    let mut c = paydesk(home);
    c.args(["--json", "--ledger", ledger, "secret", "set", name]);
    assert_eq!(run(c, Some(&format!("{DEMO_TOKEN}\n"))).code, 0, "the token is saved");
}

fn sell(home: &Path, ledger: &str, profile: &str, amount: &str) -> serde_json::Value {
    ok(cli(
        home,
        ledger,
        &["pay", "qr", "--profile", profile, "--amount", amount, "--currency", "USD", "--vendor", "alipay"],
    ))
}

/// A notification as Pockyt signs it, for the sale.
fn signed_notification(sale: &serde_json::Value) -> BTreeMap<String, String> {
    let mut fields: BTreeMap<String, String> = [
        ("reference", sale["reference"].as_str().unwrap()),
        ("transactionNo", sale["transaction_no"].as_str().unwrap()),
        ("amount", "10.00"),
        ("currency", "USD"),
        ("status", "success"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sign = paydesk_gateways::pockyt::signing::sign(&fields, &ApiSecret::new(DEMO_TOKEN));
    fields.insert("verifySign".into(), sign);
    fields
}

#[test]
fn two_counters_and_the_accountant_share_one_ledger() {
    let ledger = fresh_shared_ledger("counters");
    let (a, b, accountant) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = SandboxProcess::start(a.path(), "127.0.0.1:0");
    let profile = unique_name("shared");
    add_profile(a.path(), &ledger, &profile, &sandbox);

    // The profile (never its secret) is in the shared ledger: counter B sees it at once.
    let shown = ok(cli(b.path(), &ledger, &["profile", "list"]));
    assert!(shown.to_string().contains(&profile), "{shown}");

    // Parallel sales at both counters: every one recorded once, references unique.
    let sales: Vec<serde_json::Value> = std::thread::scope(|s| {
        let jobs: Vec<_> = [a.path(), b.path()]
            .into_iter()
            .flat_map(|home| (0..6).map(move |_| home))
            .map(|home| s.spawn(|| sell(home, &ledger, &profile, "10.00")))
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let mut references: Vec<&str> = sales.iter().map(|s| s["reference"].as_str().unwrap()).collect();
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 12);
    let seen = ok(cli(accountant.path(), &ledger, &["tx", "list", "--limit", "100"]));
    assert_eq!(seen.as_array().unwrap().len(), 12, "the accountant sees both counters' sales");

    // One notification, posted to both counters' listeners at once: applied once.
    let port_a = free_port();
    let port_b = std::iter::repeat_with(free_port).find(|&p| p != port_a).unwrap();
    let listen = |home: &Path, port: u16| {
        NotificationListenerProcess::start(home, &["--ledger", &ledger, "--bind", &format!("127.0.0.1:{port}")])
    };
    let listener_a = listen(a.path(), port_a);
    let listener_b = listen(b.path(), port_b);
    let sale = &sales[0];
    let reference = sale["reference"].as_str().unwrap();
    sandbox.settle(sale["transaction_no"].as_str().unwrap(), "pay");
    let fields = signed_notification(sale);
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let posts: Vec<_> = [port_a, port_b]
            .into_iter()
            .map(|port| {
                let fields = fields.clone();
                s.spawn(move || {
                    let r = reqwest::blocking::Client::new()
                        .post(format!("http://127.0.0.1:{port}/ipn/pockyt"))
                        .form(&fields)
                        .send()
                        .unwrap();
                    (r.status().as_u16(), r.text().unwrap())
                })
            })
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|(code, _)| *code == 200), "both listeners acknowledge: {answers:?}");
    let detail = ok(cli(accountant.path(), &ledger, &["tx", "show", reference]));
    assert_eq!(detail["payment"]["status"], "paid");
    let events = detail["events"].as_array().unwrap();
    let became_paid = events.iter().filter(|e| e["kind"] == "status_changed" && e["detail"]["to"] == "paid").count();
    assert_eq!(became_paid, 1, "applied exactly once: {events:?}");
    assert_eq!(events.iter().filter(|e| e["kind"] == "ipn").count(), 2, "received by both");
    drop((listener_a, listener_b));

    // Refunds racing for the same remainder from both counters: never above it.
    let ledger_url = ledger.as_str();
    let racing: Vec<Run> = std::thread::scope(|s| {
        let jobs: Vec<_> = [a.path(), b.path(), a.path(), b.path()]
            .into_iter()
            .map(|home| s.spawn(move || cli(home, ledger_url, &["tx", "refund", reference, "--amount", "6.00"])))
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    // One refund of 6.00 fits in 10.00. A counter that finds it recorded and not yet
    // confirmed resends that one under its own reference (never a second refund), so
    // every success names the same refund; the others are refused on the amount.
    let named: std::collections::BTreeSet<String> = racing
        .iter()
        .filter(|r| r.code == 0)
        .map(|r| r.json()["refund"]["refund_reference"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        named.len(),
        1,
        "one refund of 6.00 fits in 10.00: {:?}",
        racing.iter().map(|r| &r.stdout).collect::<Vec<_>>()
    );
    for refused in racing.iter().filter(|r| r.code != 0) {
        let error = &refused.json()["error"];
        assert!(error["field"] == "amount" || error["kind"] == "not_allowed", "{}", refused.stdout);
    }
    let detail = ok(cli(accountant.path(), &ledger, &["tx", "show", reference]));
    let refunded: i64 = detail["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "failed")
        .map(|r| r["amount_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(refunded, 600);
    assert_eq!(detail["payment"]["status"], "partially_refunded");

    // The chain stays one valid chain with several writers.
    let verified = ok(cli(accountant.path(), &ledger, &["ledger", "verify"]));
    assert_eq!(verified["ok"], true, "{verified}");

    // A counter without the profile's token sees its sales but cannot act on them.
    ok(cli(a.path(), &ledger, &["secret", "delete", &profile]));
    let refused = cli(b.path(), &ledger, &["tx", "refund", reference, "--amount", "1.00"]).json();
    assert_eq!(refused["error"]["kind"], "secret_missing", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("can see the profile's sales") && message.contains("cannot act"), "{message}");
    assert_eq!(ok(cli(b.path(), &ledger, &["tx", "list", "--limit", "100"])).as_array().unwrap().len(), 12);
}

#[test]
fn a_server_stopped_mid_run_gives_clear_errors_writes_nothing_half_and_is_back_when_it_returns() {
    let server = OwnServer::start();
    let ledger = server.url.clone();
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let profile = unique_name("outage");
    add_profile(home.path(), &ledger, &profile, &sandbox);
    let sale = sell(home.path(), &ledger, &profile, "10.00");
    let port = free_port();
    let listener =
        NotificationListenerProcess::start(home.path(), &["--ledger", &ledger, "--bind", &format!("127.0.0.1:{port}")]);
    let notify = || {
        let r = reqwest::blocking::Client::new()
            .post(format!("http://127.0.0.1:{port}/ipn/pockyt"))
            .form(&signed_notification(&sale))
            .send()
            .unwrap();
        r.status().as_u16()
    };

    server.stop();
    // A counter that never worked on this ledger cannot sell into it: said plainly at start.
    let stranger = tempfile::tempdir().unwrap();
    for args in [
        vec!["pay", "qr", "--profile", &profile, "--amount", "3.00", "--currency", "USD", "--vendor", "alipay"],
        vec!["tx", "list"],
    ] {
        let r = cli(stranger.path(), &ledger, &args);
        assert_ne!(r.code, 0);
        let error = &r.json()["error"];
        assert_eq!(error["kind"], "storage", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("cannot be reached") && message.contains("Nothing was recorded"), "{message}");
        assert!(!message.contains("postgres://"), "the URL (and any password) is not repeated: {message}");
    }
    // This counter keeps selling: into its offline journal, replayed when the server is back.
    let journaled = sell(home.path(), &ledger, &profile, "3.00");
    // A sale made before the outage needs every counter's view: refused, with the reason.
    let reference = sale["reference"].as_str().unwrap();
    let refund = cli(home.path(), &ledger, &["tx", "refund", reference, "--amount", "1.00"]);
    assert_ne!(refund.code, 0);
    let said = refund.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(said.contains("offline") && said.contains(reference), "{said}");
    let waiting = cli(home.path(), &ledger, &["ledger", "sync"]);
    assert_eq!((waiting.code, waiting.json()["waiting"].as_i64()), (1, Some(1)), "{}", waiting.stdout);
    // The running listener keeps running: the provider is told to try again later.
    assert_eq!(notify(), 503);

    server.resume();
    // Back without a restart: the listener applies the notification sent again.
    let mut answer = 0;
    for _ in 0..50 {
        answer = notify();
        if answer == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(answer, 200, "the listener reconnected");
    // The next command replays the journal by itself: the offline sale, once.
    let listed = ok(cli(home.path(), &ledger, &["tx", "list"]));
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{listed}");
    assert!(rows.iter().any(|r| r["reference"] == journaled["reference"]), "{listed}");
    assert!(rows.iter().any(|r| r["reference"] == sale["reference"] && r["status"] == "paid"), "{listed}");
    assert!(!home.path().join("journal.sqlite3").exists(), "the replayed journal is moved aside");
    sell(home.path(), &ledger, &profile, "4.00");
    assert_eq!(ok(cli(home.path(), &ledger, &["ledger", "verify"]))["ok"], true);
    drop(listener);
    let _ = cli(home.path(), &ledger, &["secret", "delete", &profile]);
}

#[test]
fn a_remote_ledger_over_tls_is_checked_and_never_quietly_plain() {
    // A server that accepts TLS only, with a certificate from the shop's own authority.
    let server = OwnServer::start_with("start_test_postgres_tls");
    let home = tempfile::tempdir().unwrap();
    assert!(server.url.contains("sslmode=require") && server.url.contains("sslrootcert="), "{}", server.url);
    let listed = ok(cli(home.path(), &server.url, &["tx", "list"]));
    assert_eq!(listed, serde_json::json!([]));
    let mut client = paydesk_ledger::postgres::connect(&server.url).unwrap();
    let encrypted: bool =
        client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0);
    assert!(encrypted);
    let version: i64 = client.query_one("SELECT version FROM paydesk_schema", &[]).unwrap().get(0);
    assert_eq!(version, paydesk_ledger::postgres::latest_version(), "migrated over TLS");

    // Without the shop's authority the certificate is not trusted: refused, in words.
    let (base, _) = server.url.split_once('?').unwrap();
    let untrusted = cli(home.path(), &format!("{base}?sslmode=require"), &["tx", "list"]);
    assert_ne!(untrusted.code, 0);
    let message = untrusted.json()["error"]["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("certificate"), "{message}");
    // Asked for plain, the server (TLS only) refuses: nothing is ever sent unencrypted.
    let plain = cli(home.path(), &format!("{base}?sslmode=disable"), &["tx", "list"]);
    assert_ne!(plain.code, 0, "{}", plain.stdout);
}

/// Counters that keep selling when the shared ledger is down: the server stops, two counters
/// sell 50 each into their own journals; it comes back and `ledger sync` puts all 100 on the
/// server exactly once, in one chain that verifies; a sync killed with -9 mid-way and run
/// again doubles nothing.
#[test]
fn two_counters_sell_through_an_outage_and_every_sale_reaches_the_server_once() {
    let server = OwnServer::start();
    let ledger = server.url.clone();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sandbox = SandboxProcess::start(a.path(), "127.0.0.1:0");
    let profile = unique_name("offline");
    add_profile(a.path(), &ledger, &profile, &sandbox);
    // The second counter has worked on this ledger too (it knows the profile).
    let mut secret = paydesk(b.path());
    secret.args(["--json", "--ledger", &ledger, "secret", "set", &profile]);
    assert_eq!(run(secret, Some(&format!("{DEMO_TOKEN}\n"))).code, 0);
    ok(cli(b.path(), &ledger, &["profile", "list"]));

    server.stop();
    let sellers: Vec<_> = [a.path().to_path_buf(), b.path().to_path_buf()]
        .into_iter()
        .map(|home| {
            let (ledger, profile) = (ledger.clone(), profile.clone());
            std::thread::spawn(move || {
                (0..50)
                    .map(|n| {
                        sell(&home, &ledger, &profile, &format!("1.{n:02}"))["reference"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let by_counter: Vec<Vec<String>> = sellers.into_iter().map(|s| s.join().unwrap()).collect();
    // Each counter marks its references (PD<time>-<counter mark><random>).
    for refs in &by_counter {
        let marks: std::collections::BTreeSet<&str> = refs.iter().map(|r| &r[17..20]).collect();
        assert_eq!(marks.len(), 1, "one mark per counter: {marks:?}");
    }
    let sold: Vec<String> = by_counter.concat();
    assert_eq!(sold.len(), 100);
    let waiting = cli(a.path(), &ledger, &["ledger", "sync"]);
    assert_eq!(waiting.json()["waiting"], 50, "{}", waiting.stdout);

    server.resume();
    // Counter B's replay is killed at once, again and again: each either committed whole or
    // not at all.
    for _ in 0..3 {
        let mut c = paydesk(b.path());
        c.env_remove("PAYDESK_LEDGER").args(["--json", "--ledger", &ledger, "ledger", "sync"]);
        let mut child = c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
        let _ = child.kill();
        let _ = child.wait();
    }
    for home in [a.path(), b.path()] {
        let synced = ok(cli(home, &ledger, &["ledger", "sync"]));
        assert_eq!(synced["waiting"], 0, "{synced}");
        assert!(synced["replayed"].as_i64().unwrap() + synced["already_there"].as_i64().unwrap() <= 50);
    }
    let listed = ok(cli(a.path(), &ledger, &["tx", "list", "--limit", "500"]));
    let on_server: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["reference"].as_str().unwrap()).collect();
    assert_eq!(on_server.len(), 100, "every journaled sale once");
    for reference in &sold {
        assert_eq!(on_server.iter().filter(|r| *r == reference).count(), 1, "{reference}");
    }
    assert_eq!(ok(cli(a.path(), &ledger, &["ledger", "verify"]))["ok"], true);
    for home in [a.path(), b.path()] {
        assert!(!home.join("journal.sqlite3").exists());
        let aside: Vec<_> = std::fs::read_dir(home)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("journal-replayed-"))
            .collect();
        assert_eq!(aside.len(), 1, "kept aside as evidence");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(aside[0].metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
    let _ = cli(a.path(), &ledger, &["secret", "delete", &profile]);
}
