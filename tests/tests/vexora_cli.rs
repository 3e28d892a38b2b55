//! Vexora through the same core and CLI: a profile with its merchant number and app secret
//! (in the real Secret Service), checkout links by channel, partial and full payments by
//! query and by notification (verified with the same MD5 rule), and every bad input
//! refused before the network with nothing recorded.

use paydesk_e2e::{paydesk, run, unique_name, Run, SandboxProcess};
use std::collections::BTreeMap;
use std::path::Path;

const APP_SECRET: &str = "vx_test_secret_7f3a";

fn cli(home: &Path, args: &[&str]) -> Run {
    let mut c = paydesk(home);
    c.arg("--json").args(args);
    run(c, None)
}

const PAYER: &[&str] =
    &["--mobile", "0912345678", "--first-name", "Mei", "--last-name", "Lin", "--email", "mei@example.com"];

fn add_profile(home: &Path, sandbox: &SandboxProcess, name: &str, ipn_url: &str) -> String {
    let base = format!("{}/vexora", sandbox.base_url);
    let added = cli(
        home,
        &[
            "profile",
            "add",
            name,
            "--provider",
            "vexora",
            "--base-url",
            &base,
            "--merchant-no",
            "VX0001",
            "--ipn-url",
            ipn_url,
            "--callback-url",
            "https://shop.example/done",
        ],
    );
    assert_eq!(added.code, 0, "{}", added.stdout);
    let mut c = paydesk(home);
    c.args(["--json", "secret", "set", name]);
    assert_eq!(run(c, Some(APP_SECRET)).code, 0);
    base
}

fn sell(home: &Path, name: &str, amount: &str, channel_args: &[&str], ip: &str) -> Run {
    let mut args = vec!["pay", "link", "--profile", name, "--amount", amount, "--currency", "TWD", "--payer-ip", ip];
    args.extend(PAYER);
    args.extend(channel_args);
    cli(home, &args)
}

fn settle(base: &str, reference: &str, outcome: &str) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{base}/sandbox/settle/{reference}"))
        .json(&serde_json::json!({ "outcome": outcome }))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "settle: {}", r.status());
}

#[test]
fn vexora_links_by_channel_partial_and_full_payments_and_refusals() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let name = unique_name("vexora");
    let base = add_profile(home.path(), &sandbox, &name, &format!("{}/vexora/sandbox/ipn-sink", sandbox.base_url));
    let shown = cli(home.path(), &["profile", "show", &name]).stdout;
    assert!(!shown.contains(APP_SECRET), "the app secret is never shown: {shown}");

    // Every bad input is refused before the network, naming its field; nothing is recorded.
    let store = ["--channel", "STORE", "--postcode", "100", "--address", "1 Zhongshan Rd"];
    let bank = ["--channel", "NET_BANKING", "--bank-number", "808-0368988888888"];
    let cases: Vec<(&str, Vec<&str>, &str, &str)> = vec![
        ("300.50", store.to_vec(), "203.0.113.7", "amount"),
        ("300", vec!["--channel", "NET_BANKING"], "203.0.113.7", "bank_number"),
        ("300", vec!["--channel", "STORE", "--address", "1 Road"], "203.0.113.7", "postcode"),
        ("300", vec!["--channel", "STORE", "--postcode", "100"], "203.0.113.7", "address"),
        ("300", vec!["--channel", "CASH"], "203.0.113.7", "channel"),
        ("300", store.to_vec(), "my-phone", "payer_ip"),
    ];
    for (amount, channel, ip, field) in &cases {
        let r = sell(home.path(), &name, amount, channel, ip);
        assert_eq!(r.code, 1, "{field}: {}", r.stdout);
        assert_eq!(r.json()["error"]["field"], *field, "{}", r.stdout);
    }
    let mut bad_mobile = vec!["pay", "qr", "--profile", &name, "--amount", "300", "--currency", "TWD"];
    bad_mobile.extend(["--mobile", "0812345678", "--first-name", "Mei", "--last-name", "Lin"]);
    bad_mobile.extend(["--email", "mei@example.com", "--payer-ip", "203.0.113.7"]);
    bad_mobile.extend(store);
    assert_eq!(cli(home.path(), &bad_mobile).json()["error"]["field"], "mobile");
    let listed = cli(home.path(), &["tx", "list"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "nothing recorded: {listed}");

    // A store payment: link and platFormTradeNo kept, then paid.
    let sale = sell(home.path(), &name, "300", &store, "203.0.113.7").json();
    assert_eq!(sale["status"], "pending", "{sale}");
    assert_eq!(sale["amount"], "300.00");
    assert!(sale["link"].as_str().unwrap().starts_with(&format!("{base}/pay/")), "{sale}");
    let reference = sale["reference"].as_str().unwrap().to_string();
    assert_eq!(sale["transaction_no"].as_str().unwrap().len(), 16);
    settle(&base, &reference, "pay");
    let status = cli(home.path(), &["tx", "status", &reference]).json();
    assert_eq!(status["status"], "paid", "{status}");
    assert!(status.get("paid_amount").is_none(), "paid in full: {status}");

    // A bank transfer short of the amount: partly paid, with what arrived.
    let part = sell(home.path(), &name, "500", &bank, "203.0.113.8").json();
    let part_ref = part["reference"].as_str().unwrap().to_string();
    settle(&base, &part_ref, "partial");
    let status = cli(home.path(), &["tx", "status", &part_ref]).json();
    assert_eq!(status["status"], "partially_paid", "{status}");
    assert_eq!(status["paid_amount"], "250.00", "{status}");

    // An e-wallet payer declines.
    let declined =
        sell(home.path(), &name, "120", &["--channel", "EWALLET", "--way-code", "JKOPAY"], "203.0.113.9").json();
    let declined_ref = declined["reference"].as_str().unwrap().to_string();
    settle(&base, &declined_ref, "decline");
    assert_eq!(cli(home.path(), &["tx", "status", &declined_ref]).json()["status"], "failed");

    // The payer is kept in the ledger for next time (by mobile), and erased on request.
    let payers = |home: &Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(home.join("ledger.sqlite3")).unwrap();
        let mut stmt = conn.prepare("SELECT mobile || ' ' || data FROM payers").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let kept = payers(home.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].starts_with("0912345678 ") && kept[0].contains("Mei"), "{kept:?}");
    let forgotten = cli(home.path(), &["customer", "forget", "--mobile", "0912345678"]).json();
    assert_eq!(forgotten, serde_json::json!({"mobile": "0912345678", "forgotten": true}));
    assert!(payers(home.path()).is_empty());
    let again = cli(home.path(), &["customer", "forget", "--mobile", "0912345678", "--profile", &name]).json();
    assert_eq!(again, serde_json::json!({"mobile": "0912345678", "forgotten": false, "profile": name}));
    let mut unknown = paydesk(home.path());
    unknown.args(["--json", "customer", "forget", "--mobile", "0912345678", "--profile", "no-such-shop"]);
    let unknown = run(unknown, None);
    assert_ne!(unknown.code, 0, "an unknown profile is named: {}", unknown.stdout);
    assert!(unknown.stdout.contains("no-such-shop"), "{}", unknown.stdout);
    // Kept at most payer_days after their last sale: 0 days, and the next sale clears the rest.
    let conn = rusqlite::Connection::open(home.path().join("ledger.sqlite3")).unwrap();
    conn.execute(
        "INSERT INTO payers (mobile, data, last_used_at) VALUES ('0900000000', '{}', '2026-01-01T00:00:00Z')",
        [],
    )
    .unwrap();
    drop(conn);
    std::fs::write(home.path().join("settings.json"), r#"{"payer_days": 30}"#).unwrap();
    assert_eq!(sell(home.path(), &name, "130", &bank, "203.0.113.10").code, 0);
    let kept = payers(home.path());
    assert_eq!(kept.len(), 1, "the old payer went, the new one stays: {kept:?}");
    assert!(kept[0].starts_with("0912345678 "));
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

fn signed(fields: &[(&str, &str)], secret: &str) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let sign = paydesk_gateways::vexora::signing::sign(&map, &paydesk_gateways::ApiSecret::new(secret));
    map.insert("sign".into(), sign);
    map
}

/// Notifications over the real listener: valid ones answered `OK` only once recorded (the
/// same again is harmless), a partial one recorded as partly paid; a tampered one, an
/// unknown trade, or an amount that is not the ledger's answered otherwise and not applied.
/// Field order and fields Vexora may add do not matter.
#[test]
fn vexora_notifications_are_verified_and_applied_once() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let port = paydesk_e2e::free_port();
    let name = unique_name("vexora-notify");
    let notify = format!("http://127.0.0.1:{port}/notify/vexora/{name}");
    add_profile(home.path(), &sandbox, &name, &format!("{}/vexora/sandbox/ipn-sink", sandbox.base_url));
    let bind = format!("127.0.0.1:{port}");
    let listener = paydesk_e2e::NotificationListenerProcess::start(home.path(), &["--profile", &name, "--bind", &bind]);

    let store = ["--channel", "STORE", "--postcode", "100", "--address", "1 Zhongshan Rd"];
    let sale = sell(home.path(), &name, "300", &store, "198.51.100.20").json();
    let reference = sale["reference"].as_str().unwrap().to_string();
    let platform_no = sale["transaction_no"].as_str().unwrap().to_string();
    let second = sell(home.path(), &name, "400", &store, "198.51.100.21").json();
    let second_ref = second["reference"].as_str().unwrap().to_string();
    let second_no = second["transaction_no"].as_str().unwrap().to_string();

    let http = reqwest::blocking::Client::new();
    let post = |body: String| {
        let r = http.post(&notify).header("content-type", "application/json").body(body).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let json = |fields: &BTreeMap<String, String>| serde_json::to_string(fields).unwrap();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis().to_string();
    let fields = |trade: &str, platform: &str, amount: &str, status: &str| {
        vec![
            ("platFormTradeNo", platform.to_string()),
            ("tradeNo", trade.to_string()),
            ("amount", amount.to_string()),
            ("status", status.to_string()),
            ("message", "x".to_string()),
            ("successTime", "2026-11-22 10:00:00".to_string()),
            ("timestamp", now_ms.clone()),
        ]
    };
    let sign = |f: &[(&str, String)]| signed(&f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(), APP_SECRET);

    // Tampered: refused, nothing applied.
    let mut tampered = sign(&fields(&reference, &platform_no, "300", "0000"));
    tampered.insert("amount".into(), "30".into());
    let (code, text) = post(json(&tampered));
    assert_ne!(text, "OK", "tampered: {code}");
    // Unknown trade (validly signed): not OK.
    let (_, text) = post(json(&sign(&fields("PD-NOBODY", "zzzzzzzzzzzzzzzz", "300", "0000"))));
    assert_ne!(text, "OK", "unknown trade");
    // Paid in full but with another amount: suspicious, not applied.
    let (_, text) = post(json(&sign(&fields(&reference, &platform_no, "299", "0000"))));
    assert_ne!(text, "OK", "amount differs from the ledger");
    assert_eq!(cli(home.path(), &["tx", "show", &reference]).json()["payment"]["status"], "pending");

    // Valid, with a field Vexora may add one day, in reversed order: OK, paid.
    let mut extra = fields(&reference, &platform_no, "300", "0000");
    extra.push(("channelCode", "STORE".to_string()));
    let valid = sign(&extra);
    let reversed = format!(
        "{{{}}}",
        valid
            .iter()
            .rev()
            .map(|(k, v)| format!("{}:{}", serde_json::json!(k), serde_json::json!(v)))
            .collect::<Vec<_>>()
            .join(",")
    );
    let (code, text) = post(reversed.clone());
    assert_eq!((code, text.as_str()), (200, "OK"));
    let shown = cli(home.path(), &["tx", "show", &reference]).json();
    assert_eq!(shown["payment"]["status"], "paid", "{shown}");
    let events = |shown: &serde_json::Value| shown["events"].as_array().unwrap().len();
    let before = events(&shown);
    // The same notification again (Vexora resends until it reads OK): OK, nothing changes.
    let (code, text) = post(reversed);
    assert_eq!((code, text.as_str()), (200, "OK"), "a replay is harmless");
    let again = cli(home.path(), &["tx", "show", &reference]).json();
    assert_eq!(again["payment"]["status"], "paid");
    assert!(events(&again) <= before + 1, "a replay records at most its receipt: {} -> {}", before, events(&again));

    // A partial payment: partly paid with what arrived, never paid.
    let (code, text) = post(json(&sign(&fields(&second_ref, &second_no, "150", "0001"))));
    assert_eq!((code, text.as_str()), (200, "OK"));
    let status = cli(home.path(), &["tx", "status", &second_ref]).json();
    assert_eq!(status["status"], "partially_paid", "{status}");
    assert_eq!(status["paid_amount"], "150.00", "{status}");
    drop(listener);

    // No signature is kept: not the requests' the app signed, not the notifications'.
    // (From an MD5 sign and its fields, guesses of the secret could be tested offline.)
    let export = home.path().join("books.jsonl");
    let done =
        cli(home.path(), &["ledger", "export", "--format", "jsonl", "--events", "--output", export.to_str().unwrap()]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let csv = std::fs::read_to_string(&export).unwrap();
    assert!(csv.contains("(removed)"), "the events say a signature was removed");
    let ledger_bytes = std::fs::read(home.path().join("ledger.sqlite3")).unwrap();
    let wal = std::fs::read(home.path().join("ledger.sqlite3-wal")).unwrap_or_default();
    for sign in [&valid["sign"], &sign(&fields(&second_ref, &second_no, "150", "0001"))["sign"]] {
        assert!(!csv.contains(sign.as_str()), "a notification's signature in the export");
        let found = |bytes: &[u8]| bytes.windows(sign.len()).any(|w| w == sign.as_bytes());
        assert!(!found(&ledger_bytes) && !found(&wal), "a notification's signature in the ledger file");
    }
    assert!(!csv.contains(APP_SECRET));
    let _ = cli(home.path(), &["secret", "delete", &name]);
}
