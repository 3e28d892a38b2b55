//! PayKKa through the same core and CLI as Pockyt: a profile with PayKKa's settings, its RSA
//! private key in the real Secret Service (a wrong or malformed key refused), a hosted
//! session with manual capture and a saved card, paid at the sandbox, and its status.

use paydesk_e2e::{paydesk, run, unique_name, Run, SandboxProcess};
use std::path::Path;

const MERCHANT_PRIVATE: &str = include_str!("../../crates/gateways/test-vectors/paykka-test-merchant-private.pem");

fn cli(home: &Path, args: &[&str]) -> Run {
    let mut c = paydesk(home);
    c.arg("--json").args(args);
    run(c, None)
}

/// The shopper pays the session (by trans_id) at the sandbox.
fn pay_at_sandbox(base: &str, reference: &str) {
    let settle = reqwest::blocking::Client::new()
        .post(format!("{base}/sandbox/settle/{reference}"))
        .json(&serde_json::json!({"outcome": "pay"}))
        .send()
        .unwrap();
    assert!(settle.status().is_success(), "settle: {}", settle.status());
}

fn secret_set(home: &Path, name: &str, secret: &str) -> Run {
    let mut c = paydesk(home);
    c.args(["--json", "secret", "set", name]);
    run(c, Some(secret))
}

/// The sandbox's PayKKa base URL, and a profile `name` on it with the platform key the
/// sandbox serves and `ipn_url` for notifications.
fn add_paykka_profile(home: &Path, sandbox: &SandboxProcess, name: &str, ipn_url: &str) -> (String, Run) {
    let base = format!("{}/paykka", sandbox.base_url);
    let platform = reqwest::blocking::get(format!("{base}/sandbox/platform-public-key")).unwrap().text().unwrap();
    let key_file = home.join("platform.pem");
    std::fs::write(&key_file, &platform).unwrap();
    let added = cli(
        home,
        &[
            "profile",
            "add",
            name,
            "--provider",
            "paykka",
            "--base-url",
            &base,
            "--merchant-id",
            "18356675194960",
            "--app-id",
            "paydesk-demo",
            "--platform-public-key",
            key_file.to_str().unwrap(),
            "--ipn-url",
            ipn_url,
            "--callback-url",
            "https://shop.example/done",
        ],
    );
    (base, added)
}

#[test]
fn a_paykka_sale_goes_through_the_same_core() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let name = unique_name("paykka");
    let (base, added) = add_paykka_profile(home.path(), &sandbox, &name, "https://shop.example/notify/paykka/shop");
    let platform = reqwest::blocking::get(format!("{base}/sandbox/platform-public-key")).unwrap().text().unwrap();
    assert_eq!(added.code, 0, "{}\n{}", added.stdout, added.stderr);
    assert_eq!(added.json()["merchant_id"], "18356675194960");
    let missing =
        cli(home.path(), &["profile", "add", "x", "--provider", "paykka", "--base-url", &base, "--app-id", "a"]);
    assert_eq!(missing.json()["error"]["field"], "merchant_id", "{}", missing.stdout);

    // Only an RSA private key in PEM goes into the keyring.
    for wrong in ["not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", platform.as_str()] {
        let r = secret_set(home.path(), &name, wrong);
        assert_eq!(r.code, 1, "{wrong:.30}");
        assert_eq!(r.json()["error"]["field"], "secret", "{}", r.stdout);
    }
    let saved = secret_set(home.path(), &name, MERCHANT_PRIVATE);
    assert_eq!(saved.code, 0, "saving needs the Secret Service (scripts/test starts one): {}", saved.stderr);

    let sale = cli(
        home.path(),
        &[
            "pay",
            "link",
            "--profile",
            &name,
            "--amount",
            "13.00",
            "--currency",
            "USD",
            "--capture",
            "manual",
            "--shopper-reference",
            "shopper-7",
            "--save-card",
        ],
    );
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    let sale = sale.json();
    let reference = sale["reference"].as_str().unwrap().to_string();
    assert!(sale["session_id"].as_str().unwrap().starts_with("SS"), "{sale}");
    assert!(sale["link"].as_str().unwrap().contains("/paykka/checkout/"), "{sale}");
    assert_eq!(sale["status"], "pending");
    assert_eq!(sale["provider"], "paykka");

    pay_at_sandbox(&base, &reference);
    let status = cli(home.path(), &["tx", "status", &reference, "--profile", &name]).json();
    assert_eq!(status["status"], "authorized", "manual capture stops at AUTHORIZED: {status}");
    assert!(status["transaction_no"].as_str().unwrap().starts_with("GW"), "{status}");
    let refund = cli(home.path(), &["tx", "refund", &reference]);
    assert_eq!(refund.json()["error"]["kind"], "not_allowed", "nothing captured, nothing to refund");
    assert_eq!(status["balances"]["capturable"], "13.00", "{status}");

    // Capture: never above what was authorised (refused before the network), part of it
    // as final; then no void, and refunds only within what was captured.
    let over = cli(home.path(), &["tx", "capture", &reference, "--amount", "13.01"]);
    assert_eq!(over.json()["error"]["field"], "amount", "{}", over.stdout);
    let captured = cli(home.path(), &["tx", "capture", &reference, "--amount", "10.00", "--final"]);
    assert_eq!(
        captured.code, 0,
        "{}
{}",
        captured.stdout, captured.stderr
    );
    let captured = captured.json();
    assert_eq!(captured["status"], "paid", "{captured}");
    assert_eq!(captured["balances"]["captured"], "10.00");
    assert_eq!(captured["balances"]["capturable"], "0.00", "final: the rest is released");
    let void = cli(home.path(), &["tx", "void", &reference]);
    assert_eq!(void.json()["error"]["kind"], "not_allowed", "no void after capture");
    let too_much = cli(home.path(), &["tx", "refund", &reference, "--amount", "10.01"]);
    assert_eq!(too_much.json()["error"]["field"], "amount", "{}", too_much.stdout);
    let refunded = cli(home.path(), &["tx", "refund", &reference, "--amount", "4.00"]);
    assert_eq!(
        refunded.code, 0,
        "{}
{}",
        refunded.stdout, refunded.stderr
    );
    assert_eq!(refunded.json()["payment"]["status"], "partially_refunded");
    let shown = cli(home.path(), &["tx", "show", &reference]).json();
    assert_eq!(shown["refundable"], "6.00", "{shown}");

    // The card saved with the first sale: listed (JSON array), removed, gone.
    let tokens = cli(home.path(), &["token", "list", "--profile", &name, "--shopper-reference", "shopper-7"]);
    assert_eq!(tokens.code, 0, "{}\n{}", tokens.stdout, tokens.stderr);
    let tokens = tokens.json();
    let card = &tokens.as_array().unwrap()[0];
    for key in ["token", "payment_method", "token_usage", "status"] {
        assert!(card[key].is_string(), "{key} in {card}");
    }
    // The card in words, as the provider named it.
    assert_eq!(
        (&card["card_brand"], &card["last4"], &card["expiry"]),
        (&serde_json::json!("VISA"), &serde_json::json!("4242"), &serde_json::json!("03/30"))
    );
    let token = card["token"].as_str().unwrap().to_string();
    let removed =
        cli(home.path(), &["token", "remove", "--profile", &name, "--shopper-reference", "shopper-7", &token]);
    assert_eq!(removed.code, 0, "{}", removed.stdout);
    let tokens = cli(home.path(), &["token", "list", "--profile", &name, "--shopper-reference", "shopper-7"]).json();
    assert!(tokens.as_array().unwrap().is_empty(), "{tokens}");
    let cancelled =
        cli(home.path(), &["recurring", "cancel", "--profile", &name, "--shopper-reference", "shopper-7", "AGR-1"]);
    assert_eq!(cancelled.code, 0, "{}", cancelled.stdout);
    let apple = cli(home.path(), &["applepay", "session", "--profile", &name, "--domain", "https://shop.example:443"]);
    assert_eq!(apple.json()["error"]["field"], "domain", "refused before the network: {}", apple.stdout);
    let apple = cli(
        home.path(),
        &["applepay", "session", "--profile", &name, "--domain", "shop.example.com", "--display-name", "Shop"],
    );
    assert_eq!(apple.code, 0, "{}", apple.stdout);
    // Pockyt offers none of these: a clear refusal, not a panic.
    let pockyt = cli(home.path(), &["token", "list", "--shopper-reference", "shopper-7"]);
    assert_eq!(pockyt.json()["error"]["kind"], "not_allowed", "{}", pockyt.stdout);

    // No answer to a manual-capture sale: the retry sends it exactly as first asked for.
    let fault = reqwest::blocking::Client::new()
        .post(format!("{}/sandbox/faults", sandbox.base_url))
        .json(&serde_json::json!({"endpoint": "session", "fault": "unreachable", "times": 1}))
        .send()
        .unwrap();
    assert!(fault.status().is_success());
    let lost = cli(
        home.path(),
        &["pay", "qr", "--profile", &name, "--amount", "2.00", "--currency", "USD", "--capture", "manual"],
    );
    let kept = lost.json()["error"]["reference"].as_str().unwrap().to_string();
    assert_eq!(cli(home.path(), &["tx", "retry", &kept]).json()["status"], "pending");
    pay_at_sandbox(&base, &kept);
    assert_eq!(cli(home.path(), &["tx", "status", &kept]).json()["status"], "authorized", "still manual capture");

    // A second authorisation, voided.
    let second = cli(
        home.path(),
        &["pay", "qr", "--profile", &name, "--amount", "5.00", "--currency", "USD", "--capture", "manual"],
    )
    .json();
    let second_ref = second["reference"].as_str().unwrap().to_string();
    pay_at_sandbox(&base, &second_ref);
    assert_eq!(cli(home.path(), &["tx", "status", &second_ref]).json()["status"], "authorized");
    let voided = cli(home.path(), &["tx", "void", &second_ref, "--reason", "DUPLICATE"]);
    assert_eq!(voided.json()["status"], "cancelled", "{}", voided.stdout);

    // No byte of the private key anywhere under PAYDESK_HOME, nor in `profile show`.
    let body_line = MERCHANT_PRIVATE.lines().nth(1).unwrap();
    let shown = cli(home.path(), &["profile", "show", &name]);
    assert!(!shown.stdout.contains(body_line));
    assert_eq!(shown.json()["token"], "saved");
    for entry in walk(home.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_else(|e| panic!("cannot read {}: {e}", entry.display()));
        assert!(!String::from_utf8_lossy(&bytes).contains(body_line), "key material in {}", entry.display());
    }
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_paykka_webhook_is_verified_then_the_payment_asked_before_it_changes() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let port = paydesk_e2e::free_port();
    let name = unique_name("paykka-hook");
    let notify = format!("http://127.0.0.1:{port}/notify/paykka/{name}");
    let (base, added) = add_paykka_profile(home.path(), &sandbox, &name, &notify);
    assert_eq!(added.code, 0, "{}", added.stdout);
    assert_eq!(secret_set(home.path(), &name, MERCHANT_PRIVATE).code, 0);
    let bind = format!("127.0.0.1:{port}");
    let listener = paydesk_e2e::NotificationListenerProcess::start(home.path(), &["--profile", &name, "--bind", &bind]);

    // A forged webhook: refused with 401, nothing applied.
    let forged = reqwest::blocking::Client::new()
        .post(&notify)
        .header("x-paykka-timestamp", "1")
        .header("x-paykka-nonce", "nonce-0123456789")
        .header("x-paykka-sign", "AAAA")
        .body(r#"{"trans_id":"x","status":"SUCCESS"}"#)
        .send()
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    let sale = cli(home.path(), &["pay", "qr", "--profile", &name, "--amount", "6.00", "--currency", "USD"]).json();
    let reference = sale["reference"].as_str().unwrap().to_string();
    pay_at_sandbox(&base, &reference);
    // The webhook lands; the listener asks PayKKa, and only then is it paid (ledger only here).
    let mut shown = serde_json::Value::Null;
    for _ in 0..100 {
        shown = cli(home.path(), &["tx", "show", &reference]).json();
        if shown["payment"]["status"] == "paid" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(shown["payment"]["status"], "paid", "{shown}");
    let kinds: Vec<String> =
        shown["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    let ipn = kinds.iter().position(|k| k == "ipn").expect("the webhook is recorded");
    let queried = kinds.iter().rposition(|k| k == "request").unwrap();
    assert!(queried > ipn, "queried after the webhook: {kinds:?}");
    // Webhooks signed with the platform key, each wrong in one way, over the real listener.
    let path = format!("/notify/paykka/{name}");
    let order_id = shown["payment"]["transaction_no"].as_str().unwrap().to_string();
    let hook = |body: &serde_json::Value, ts: u64, nonce: &str| {
        let text = body.to_string();
        let mut req = reqwest::blocking::Client::new().post(&notify).body(text.clone());
        for (k, v) in paydesk_sandbox::paykka::platform_headers(&path, &text, ts, nonce) {
            req = req.header(k, v);
        }
        req.send().unwrap().status().as_u16()
    };
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let valid = serde_json::json!({"merchant_id": "18356675194960", "trans_id": reference, "order_id": order_id,
        "status": "SUCCESS", "amount": 600, "currency": "USD", "notify_type": "PAYMENT.SUCCESS"});
    assert_eq!(hook(&valid, now(), "nonce-valid-000001"), 200, "valid");
    assert_eq!(hook(&valid, now(), "nonce-valid-000001"), 401, "the same nonce again is a replay");
    assert_eq!(hook(&valid, now() - 6 * 60 * 1000, "nonce-stale-000001"), 401, "stale timestamp");
    let mut wrong_amount = valid.clone();
    wrong_amount["amount"] = serde_json::json!(1);
    assert_eq!(hook(&wrong_amount, now(), "nonce-amount-00001"), 401, "amount differs from the ledger");
    let mut unknown = valid.clone();
    unknown["trans_id"] = serde_json::json!("PD-NOBODY");
    assert_eq!(hook(&unknown, now(), "nonce-unknown-0001"), 401, "unknown trans_id");
    let events = cli(home.path(), &["tx", "show", &reference]).json()["events"].clone();
    let rejected = events.as_array().unwrap().iter().filter(|e| e["kind"] == "ipn_rejected").count();
    assert!(rejected >= 1, "the refusals about this payment are kept as evidence");
    assert_eq!(cli(home.path(), &["tx", "show", &reference]).json()["payment"]["status"], "paid");

    drop(listener);
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

/// Demo mode offers PayKKa's demo merchant as `demo-paykka`, beside Pockyt's `demo`: it
/// sells with no set-up, keeps its sessions across processes, and no saved profile may
/// take a demo name.
#[test]
fn demo_mode_offers_a_paykka_demo_profile() {
    let home = tempfile::tempdir().unwrap();
    let sold = cli(
        home.path(),
        &[
            "pay",
            "qr",
            "--profile",
            "demo-paykka",
            "--amount",
            "9.50",
            "--currency",
            "EUR",
            "--capture",
            "manual",
            "--shopper-reference",
            "demo-shopper",
            "--save-card",
        ],
    );
    assert_eq!(sold.code, 0, "{}", sold.stderr);
    let sale = sold.json();
    assert_eq!(sale["provider"], "paykka");
    assert_eq!(sale["profile"], "demo-paykka");
    assert_eq!(sale["status"], "pending");
    assert!(sale["link"].as_str().unwrap().contains("/paykka/checkout/SS"), "{sale}");
    let reference = sale["reference"].as_str().unwrap();

    // Another process (another embedded sandbox, the same demo state) still knows it.
    let status = cli(home.path(), &["tx", "status", reference]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert_eq!(status.json()["status"], "pending");

    let taken = cli(
        home.path(),
        &[
            "profile",
            "add",
            "demo-paykka",
            "--provider",
            "paykka",
            "--base-url",
            "sandbox",
            "--merchant-id",
            "1",
            "--app-id",
            "a",
        ],
    );
    assert_ne!(taken.code, 0);
    assert!(taken.stderr.contains("kept for the built-in demo profiles"), "{}", taken.stderr);
}
