//! The `paydesk` binary end to end: real processes, a real SQLite file, real HTTP to a
//! sandbox process on 127.0.0.1, and the real Secret Service (scripts/test starts one).

use paydesk_e2e::{paydesk, run, unique_name, SandboxProcess};
use paydesk_ledger::Ledger;
use std::path::Path;

const DEMO_TOKEN: &str = "5cbfb079f15b150122261c8537086d77a";

fn add_profile(home: &Path, name: &str, base_url: &str) {
    let r = run(
        {
            let mut c = paydesk(home);
            c.args([
                "--json",
                "profile",
                "add",
                name,
                "--provider",
                "pockyt",
                "--base-url",
                base_url,
                "--merchant-no",
                "200043",
                "--store-no",
                "300014",
            ])
            .args([
                "--ipn-url",
                &format!("{base_url}/sandbox/ipn-sink"),
                "--callback-url",
                &format!("{base_url}/return"),
            ]);
            c
        },
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn set_secret(home: &Path, name: &str, token: &str) {
    let mut c = paydesk(home);
    c.args(["--json", "secret", "set", name]);
    let r = run(c, Some(&format!("{token}\n")));
    assert_eq!(r.code, 0, "saving the token needs the Secret Service (scripts/test starts one): {}", r.stderr);
    assert_eq!(r.json()["token"], "saved");
    assert!(!r.stdout.contains(token));
}

fn cli(home: &Path, args: &[&str]) -> paydesk_e2e::Run {
    let mut c = paydesk(home);
    c.arg("--json").args(args);
    run(c, None)
}

#[test]
fn link_settle_status_with_a_keyring_token() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let name = unique_name("store");
    add_profile(home.path(), &name, &sandbox.base_url);
    set_secret(home.path(), &name, DEMO_TOKEN);

    let qr = home.path().join("sale.png");
    let r = cli(
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
            "--vendor",
            "alipay",
            "--qr",
            qr.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sale = r.json();
    for key in ["reference", "transaction_no", "link", "status"] {
        assert!(!sale[key].is_null(), "{key} in {sale}");
    }
    assert_eq!(sale["status"], "pending");
    assert!(std::fs::read(&qr).unwrap().starts_with(b"\x89PNG"));
    let reference = sale["reference"].as_str().unwrap();

    sandbox.settle(sale["transaction_no"].as_str().unwrap(), "pay");
    let r = cli(home.path(), &["tx", "status", "--profile", &name, reference]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["status"], "paid");
    assert_eq!(r.json()["raw_status"], "success");

    let r = cli(home.path(), &["tx", "list"]);
    assert_eq!(r.json().as_array().unwrap().len(), 1);

    // The ledger file itself: the row, its events, and no secret anywhere.
    let ledger = Ledger::open_in(home.path()).unwrap();
    let row = ledger.payment_by_reference(reference).unwrap().unwrap();
    assert_eq!((row.amount_minor, row.currency.as_str(), row.status.as_str()), (1300, "USD", "paid"));
    let kinds: Vec<_> = ledger.events(row.id).unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("created"), "recorded before the request");
    for k in ["request", "response", "status_changed"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    drop(ledger);
    for file in std::fs::read_dir(home.path()).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(DEMO_TOKEN.len()).any(|w| w == DEMO_TOKEN.as_bytes()),
            "token bytes in {}",
            path.display()
        );
    }
    // Logs at their most verbose carry no token either.
    let mut verbose = paydesk(home.path());
    verbose.env("RUST_LOG", "trace").args([
        "--json",
        "pay",
        "link",
        "--profile",
        &name,
        "--amount",
        "1.00",
        "--currency",
        "USD",
        "--vendor",
        "alipay",
    ]);
    let r = run(verbose, None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.is_empty(), "trace logging is on");
    assert!(!r.stderr.contains(DEMO_TOKEN) && !r.stdout.contains(DEMO_TOKEN), "token in logs");
    let shown = cli(home.path(), &["profile", "show", &name]);
    assert_eq!(shown.json()["token"], "saved");
    assert!(!shown.stdout.contains(DEMO_TOKEN) && !shown.stderr.contains(DEMO_TOKEN));

    // Removing the profile keeps its history.
    assert_eq!(cli(home.path(), &["profile", "remove", &name]).code, 0);
    assert_eq!(cli(home.path(), &["tx", "list"]).json().as_array().unwrap().len(), 2);
}

#[test]
fn demo_profile_needs_no_set_up_and_survives_between_runs() {
    let home = tempfile::tempdir().unwrap();
    let r = cli(
        home.path(),
        &["pay", "link", "--profile", "demo", "--amount", "2.50", "--currency", "USD", "--vendor", "wechatpay"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let reference = r.json()["reference"].as_str().unwrap().to_string();
    let svg = home.path().join("sale.svg");
    let r = cli(
        home.path(),
        // --wallet, the option's name; --vendor (its first) works as well, as elsewhere here.
        &["pay", "qr", "--amount", "1", "--currency", "USD", "--wallet", "alipay", "--qr", svg.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["vendor"], "alipay", "the JSON key is the one scripts know");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"), "QR as SVG for print");
    // A second process finds it at the (persisted) demo sandbox.
    let r = cli(home.path(), &["tx", "status", &reference]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["status"], "pending");
}

#[test]
fn bad_inputs_are_refused_and_leave_no_payment() {
    let home = tempfile::tempdir().unwrap();
    for (amount, currency, vendor, field) in [
        ("0", "USD", "alipay", "amount"),
        ("-1", "USD", "alipay", "amount"),
        ("1.234", "USD", "alipay", "amount"),
        ("10e3", "USD", "alipay", "amount"),
        ("", "USD", "alipay", "amount"),
        ("5", "ABC", "alipay", "currency"),
        ("5", "GBP", "wechatpay", "currency"),
    ] {
        let r = cli(home.path(), &["pay", "link", "--amount", amount, "--currency", currency, "--vendor", vendor]);
        assert_ne!(r.code, 0, "{amount} {currency} {vendor} accepted");
        assert_eq!(r.json()["error"]["kind"], "invalid_input");
        assert_eq!(r.json()["error"]["field"], field, "{}", r.stderr);
        assert!(r.stderr.contains(field), "stderr names the field: {}", r.stderr);
    }
    assert!(cli(home.path(), &["tx", "list"]).json().as_array().unwrap().is_empty());
}

#[test]
fn unreachable_provider_keeps_the_payment_and_retry_reuses_the_reference() {
    let home = tempfile::tempdir().unwrap();
    // Find a free port, then use it while nothing listens there.
    let port = paydesk_e2e::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let name = unique_name("offline");
    add_profile(home.path(), &name, &base);
    set_secret(home.path(), &name, DEMO_TOKEN);

    let r = cli(
        home.path(),
        &["pay", "link", "--profile", &name, "--amount", "4.00", "--currency", "USD", "--vendor", "alipay"],
    );
    assert_ne!(r.code, 0);
    assert_eq!(r.json()["error"]["kind"], "provider_unreachable", "{}", r.stdout);
    let listed = cli(home.path(), &["tx", "list"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "the payment is kept");
    assert_eq!(listed[0]["status"], "created");
    let reference = listed[0]["reference"].as_str().unwrap().to_string();
    assert_eq!(r.json()["error"]["reference"], reference.as_str(), "the error says what to retry");

    let _sandbox = SandboxProcess::start(home.path(), &format!("127.0.0.1:{port}"));
    let r = cli(home.path(), &["tx", "retry", &reference]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["reference"], reference.as_str());
    assert_eq!(r.json()["status"], "pending");
    assert_eq!(cli(home.path(), &["tx", "list"]).json().as_array().unwrap().len(), 1, "no duplicate");
    let _ = paydesk_e2e::run(
        {
            let mut c = paydesk(home.path());
            c.args(["secret", "delete", &name]);
            c
        },
        None,
    );
}

#[test]
fn secret_service_round_trip_and_clear_error_without_one() {
    let home = tempfile::tempdir().unwrap();
    let name = unique_name("keyring");
    add_profile(home.path(), &name, "http://127.0.0.1:9");
    set_secret(home.path(), &name, "tok-1");
    assert_eq!(cli(home.path(), &["profile", "show", &name]).json()["token"], "saved");
    set_secret(home.path(), &name, "tok-2"); // replaceable
    assert_eq!(cli(home.path(), &["secret", "delete", &name]).json()["deleted"], true);
    assert_eq!(cli(home.path(), &["profile", "show", &name]).json()["token"], "not saved");
    let r = cli(
        home.path(),
        &["pay", "link", "--profile", &name, "--amount", "1", "--currency", "USD", "--vendor", "alipay"],
    );
    assert_eq!(r.json()["error"]["kind"], "secret_missing");
    assert!(r.stderr.contains("secret set"), "{}", r.stderr);

    // No session bus at all: a clear error, never a silent in-memory store.
    let empty_runtime = tempfile::tempdir().unwrap();
    let no_bus = |args: &[&str], stdin: Option<&str>| {
        let mut c = paydesk(home.path());
        c.arg("--json").args(args).env_remove("DBUS_SESSION_BUS_ADDRESS").env("XDG_RUNTIME_DIR", empty_runtime.path());
        run(c, stdin)
    };
    let r = no_bus(&["secret", "set", &name], Some("tok-3"));
    assert_ne!(r.code, 0);
    assert_eq!(r.json()["error"]["kind"], "keyring_unavailable");
    assert!(r.stderr.contains("No OS keyring is reachable"), "{}", r.stderr);

    // A Secret Service whose collection is locked (never unlocked in its own session):
    // the same kind of clear error, and no prompt that hangs.
    let locked_home = tempfile::tempdir().unwrap();
    let script = format!(
        "gnome-keyring-daemon --components=secrets --daemonize >/dev/null && echo -n tok | {} --json secret set {name}",
        paydesk_e2e::binary("paydesk").display()
    );
    let mut locked = std::process::Command::new("dbus-run-session");
    // Its own HOME, data and runtime folders, so it never meets the suite's unlocked keyring.
    locked
        .args(["--", "sh", "-c", &script])
        .env("HOME", locked_home.path())
        .env("XDG_DATA_HOME", locked_home.path().join("data"))
        .env("XDG_RUNTIME_DIR", locked_home.path())
        .env("PAYDESK_HOME", home.path());
    let r = run(locked, None);
    assert_ne!(r.code, 0);
    assert_eq!(r.json()["error"]["kind"], "keyring_unavailable", "{}", r.stderr);
    assert!(r.stderr.contains("locked"), "{}", r.stderr);
    let r =
        no_bus(&["pay", "link", "--profile", &name, "--amount", "1", "--currency", "USD", "--vendor", "alipay"], None);
    assert_eq!(r.json()["error"]["kind"], "keyring_unavailable");
    assert!(
        cli(home.path(), &["tx", "list"]).json().as_array().unwrap().is_empty(),
        "nothing recorded without a token"
    );
}

#[test]
fn a_wrong_token_is_refused_by_the_sandbox_and_the_payment_is_marked_failed() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start_with(
        home.path(),
        "127.0.0.1:0",
        &["--merchant-no", "700001", "--store-no", "800001", "--token", "right-token"],
    );
    let name = unique_name("wrongtoken");
    let r = run(
        {
            let mut c = paydesk(home.path());
            c.args([
                "--json",
                "profile",
                "add",
                &name,
                "--base-url",
                &sandbox.base_url,
                "--merchant-no",
                "700001",
                "--store-no",
                "800001",
            ])
            .args(["--ipn-url", "http://127.0.0.1:9/ipn", "--callback-url", "http://127.0.0.1:9/done"]);
            c
        },
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    set_secret(home.path(), &name, "wrong-token");
    let r = cli(
        home.path(),
        &["pay", "link", "--profile", &name, "--amount", "1.00", "--currency", "USD", "--vendor", "alipay"],
    );
    assert_ne!(r.code, 0);
    let err = &r.json()["error"];
    assert_eq!(err["kind"], "provider_rejected");
    assert_eq!(err["code"], "000022");
    assert!(!r.stdout.contains("wrong-token") && !r.stderr.contains("wrong-token"), "the token never shows");
    let listed = cli(home.path(), &["tx", "list"]).json();
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["raw_status"], "000022");
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

#[test]
fn counter_qr_refund_and_cancel_through_the_cli() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let name = unique_name("counter");
    add_profile(home.path(), &name, &sandbox.base_url);
    set_secret(home.path(), &name, DEMO_TOKEN);
    let test = cli(home.path(), &["profile", "test", &name]);
    assert_eq!(test.code, 0, "{}", test.stderr);
    assert_eq!(test.json()["ok"], true);

    let qr_png = home.path().join("counter.png");
    let r = cli(
        home.path(),
        &[
            "pay",
            "qr",
            "--profile",
            &name,
            "--amount",
            "2.50",
            "--currency",
            "USD",
            "--vendor",
            "wechatpay",
            "--qr",
            qr_png.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sale = r.json();
    for key in ["reference", "transaction_no", "link", "status"] {
        assert!(!sale[key].is_null(), "{key} in {sale}");
    }
    assert_eq!(sale["method"], "qr");
    assert!(std::fs::read(&qr_png).unwrap().starts_with(b"\x89PNG"));
    let reference = sale["reference"].as_str().unwrap().to_string();

    // Refund before payment: refused, nothing sent.
    let r = cli(home.path(), &["tx", "refund", &reference, "--amount", "1.00"]);
    assert_eq!(r.json()["error"]["kind"], "not_allowed");

    sandbox.settle(sale["transaction_no"].as_str().unwrap(), "pay");
    assert_eq!(cli(home.path(), &["tx", "status", &reference]).json()["status"], "paid");

    let r = cli(home.path(), &["tx", "cancel", &reference]);
    assert_ne!(r.code, 0);
    assert_eq!(r.json()["error"]["kind"], "not_allowed");
    assert!(r.stderr.contains("refund it instead"), "{}", r.stderr);

    let r = cli(home.path(), &["tx", "refund", &reference, "--amount", "1.00"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["payment"]["status"], "partially_refunded");
    let r = cli(home.path(), &["tx", "refund", &reference, "--amount", "1.51"]);
    assert_ne!(r.code, 0);
    assert_eq!(r.json()["error"]["field"], "amount");
    assert!(r.stderr.contains("1.50 USD still refundable"), "{}", r.stderr);
    let r = cli(home.path(), &["tx", "refund", &reference]);
    assert_eq!(r.json()["payment"]["status"], "refunded");
    assert_eq!(r.json()["refund"]["amount_minor"], 150);

    // An unpaid one can be cancelled.
    let r = cli(
        home.path(),
        &["pay", "qr", "--profile", &name, "--amount", "3", "--currency", "USD", "--vendor", "alipay"],
    );
    let open_ref = r.json()["reference"].as_str().unwrap().to_string();
    let r = cli(home.path(), &["tx", "cancel", &open_ref]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["status"], "cancelled");
    let shown = cli(home.path(), &["tx", "show", &open_ref]).json();
    assert!(shown["events"].as_array().unwrap().iter().any(|e| e["detail"]["path"] == "/app-data-search/v3/cancel"));
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

#[test]
fn customers_through_the_cli() {
    let home = tempfile::tempdir().unwrap();
    let r = cli(
        home.path(),
        &[
            "customer",
            "create",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--email",
            "ada@example.com",
            "--country-code",
            "US",
        ],
    );
    assert_ne!(r.code, 0, "US without a state is refused");
    assert_eq!(r.json()["error"]["field"], "state");
    let r = cli(
        home.path(),
        &[
            "customer",
            "create",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--email",
            "ada@example.com",
            "--country-code",
            "US",
            "--state",
            "CA",
            "--customer-code",
            "ADA-1",
            "--city",
            "Oakland",
            "--zip",
            "94601",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let customer_no = r.json()["customer_no"].as_str().unwrap().to_string();
    let r = cli(home.path(), &["customer", "update", &customer_no, "--city", "Berkeley", "--phone", "5105550100"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["data"]["city"], "Berkeley");
    let r = cli(home.path(), &["customer", "get", "ADA-1", "--by-code"]);
    assert_eq!(r.json()["customer_no"], customer_no.as_str());
    assert_eq!(r.json()["data"]["phone"], "5105550100");
    let r = cli(home.path(), &["customer", "get", &customer_no]);
    assert_eq!(r.json()["email"], "ada@example.com");
    assert_eq!(cli(home.path(), &["customer", "list", "--search", "lovelace"]).json().as_array().unwrap().len(), 1);

    let r = cli(
        home.path(),
        &["pay", "link", "--amount", "20", "--currency", "USD", "--vendor", "alipay", "--customer-no", &customer_no],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["customer_no"], customer_no.as_str());
}

#[test]
fn ipn_listen_applies_verified_notifications_to_the_same_ledger() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let port = paydesk_e2e::free_port();
    let name = unique_name("ipn");
    let ipn_url = format!("http://127.0.0.1:{port}/ipn/pockyt");
    let mut c = paydesk(home.path());
    c.args(["--json", "profile", "add", &name, "--base-url", &sandbox.base_url, "--merchant-no", "200043"])
        .args(["--store-no", "300014", "--ipn-url", &ipn_url, "--callback-url", "http://127.0.0.1:9/done"])
        .args(["--ipn-listen", &format!("127.0.0.1:{port}")]);
    assert_eq!(run(c, None).code, 0);

    // Without --bind, the listener runs where the profile asked for it.
    let listener = paydesk_e2e::NotificationListenerProcess::start(home.path(), &[]);
    assert_eq!(listener.announced["listening"], ipn_url.as_str());
    set_secret(home.path(), &name, DEMO_TOKEN);

    let sale = cli(
        home.path(),
        &["pay", "qr", "--profile", &name, "--amount", "7.00", "--currency", "USD", "--vendor", "alipay"],
    )
    .json();
    let reference = sale["reference"].as_str().unwrap().to_string();

    // A forged notification over HTTP is refused and not applied.
    let http = reqwest::blocking::Client::new();
    let forged = http
        .post(&ipn_url)
        .form(&[
            ("reference", reference.as_str()),
            ("status", "success"),
            ("amount", "7.00"),
            ("currency", "USD"),
            ("verifySign", "0123"),
        ])
        .send()
        .unwrap();
    assert_eq!(forged.status().as_u16(), 400);
    assert_eq!(forged.text().unwrap(), "fail");

    sandbox.settle(sale["transaction_no"].as_str().unwrap(), "pay");
    let mut status = serde_json::Value::Null;
    for _ in 0..100 {
        status = cli(home.path(), &["tx", "list"]).json()[0]["status"].clone();
        if status == "paid" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status, "paid", "the sandbox's signed IPN reached the listener");
    let events = cli(home.path(), &["tx", "show", &reference]).json()["events"].clone();
    let kinds: Vec<_> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    assert!(kinds.contains(&"ipn_rejected".to_string()) && kinds.contains(&"ipn".to_string()), "{kinds:?}");
    drop(listener);
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

#[test]
fn an_unanswered_refund_is_resent_with_its_own_reference_never_twice() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("sandbox-state.sqlite3");
    let port = paydesk_e2e::free_port();
    let bind = format!("127.0.0.1:{port}");
    let extra = ["--state-file", state.to_str().unwrap()];
    let sandbox = SandboxProcess::start_with(home.path(), &bind, &extra);
    let name = unique_name("refund-outage");
    add_profile(home.path(), &name, &sandbox.base_url);
    set_secret(home.path(), &name, DEMO_TOKEN);
    let sale = cli(
        home.path(),
        &["pay", "qr", "--profile", &name, "--amount", "10.00", "--currency", "USD", "--vendor", "alipay"],
    )
    .json();
    let reference = sale["reference"].as_str().unwrap().to_string();
    sandbox.settle(sale["transaction_no"].as_str().unwrap(), "pay");
    assert_eq!(cli(home.path(), &["tx", "status", &reference]).json()["status"], "paid");

    drop(sandbox); // the provider goes away
    let r = cli(home.path(), &["tx", "refund", &reference, "--amount", "4.00"]);
    assert_eq!(r.json()["error"]["kind"], "provider_unreachable", "{}", r.stdout);
    let r = cli(home.path(), &["tx", "refund", &reference, "--amount", "5.00"]);
    assert_eq!(r.json()["error"]["kind"], "not_allowed", "another amount waits for the unconfirmed one");
    assert!(r.stderr.contains("-R1"), "{}", r.stderr);

    let _back = SandboxProcess::start_with(home.path(), &bind, &extra);
    let r = cli(home.path(), &["tx", "refund", &reference]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["refund"]["refund_reference"], format!("{reference}-R1").as_str(), "same refund reference");
    assert_eq!(r.json()["refund"]["amount_minor"], 400);
    assert_eq!(r.json()["payment"]["status"], "partially_refunded");
    let r = cli(home.path(), &["tx", "refund", &reference]);
    assert_eq!(r.json()["refund"]["amount_minor"], 600, "the rest, as a second refund");
    assert_eq!(r.json()["payment"]["status"], "refunded");
    let shown = cli(home.path(), &["tx", "show", &reference]).json();
    assert_eq!(shown["refunds"].as_array().unwrap().len(), 2);
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

/// The CLI's human messages follow the language (PAYDESK_LANG, else Settings, else the
/// system's); its JSON never does. An error says it in the language, then the exact English
/// detail with its command-line hint.
#[test]
fn human_messages_in_the_chosen_language() {
    let home = tempfile::tempdir().unwrap();
    let verify = |lang: &str| {
        let mut c = paydesk(home.path());
        c.env("PAYDESK_LANG", lang).args(["ledger", "verify"]);
        run(c, None)
    };
    let en = verify("en");
    assert_eq!(en.code, 0, "{}", en.stderr);
    assert!(en.stdout.starts_with("ledger verified: "), "{}", en.stdout);
    let hant = verify("zh-Hant");
    assert!(hant.stdout.starts_with("帳本已驗證："), "{}", hant.stdout);
    let hans = verify("zh_CN.UTF-8");
    assert!(hans.stdout.starts_with("账本已验证："), "{}", hans.stdout);

    // JSON stays as it is, whatever the language.
    let mut c = paydesk(home.path());
    c.env("PAYDESK_LANG", "zh-Hant").args(["--json", "ledger", "verify"]);
    let json = run(c, None).json();
    assert_eq!(json["ok"], true);

    // An error: in the language, then the English detail.
    let mut c = paydesk(home.path());
    c.env("PAYDESK_LANG", "zh-Hant").args(["tx", "status", "PD-NOPE"]);
    let r = run(c, None);
    assert_ne!(r.code, 0);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("paydesk: ")).collect();
    assert!(lines[0].contains("帳本中沒有付款 PD-NOPE"), "{}", r.stderr);
    assert!(lines[1].contains("No payment with reference PD-NOPE"), "{}", r.stderr);
}

/// A profile is never silently replaced, and a home without its secret cannot send its
/// sales elsewhere; names and URLs follow one rule (no hidden addresses, no credentials,
/// no invisible characters); every change is in the ledger's sealed history.
#[test]
fn profiles_cannot_be_hijacked_or_hidden() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let name = unique_name("guarded");
    add_profile(home.path(), &name, &sandbox.base_url);
    let add = |extra: &[&str], base: &str| {
        let mut c = paydesk(home.path());
        c.args([
            "--json",
            "profile",
            "add",
            &name,
            "--base-url",
            base,
            "--merchant-no",
            "200043",
            "--store-no",
            "300014",
        ])
        .args(["--ipn-url", &format!("{}/sandbox/ipn-sink", sandbox.base_url)])
        .args(["--callback-url", &format!("{}/return", sandbox.base_url)])
        .args(extra);
        run(c, None)
    };
    // The same name again: refused unless --replace.
    let again = add(&[], &sandbox.base_url);
    assert_ne!(again.code, 0, "{}", again.stdout);
    assert_eq!(again.json()["error"]["field"], "name", "{}", again.stdout);
    assert!(again.stdout.contains("--replace"), "{}", again.stdout);
    // Redirected to another server without the secret here: refused, nothing changed.
    let elsewhere = "http://127.0.0.2:9";
    let hijack = add(&["--replace"], elsewhere);
    assert_ne!(hijack.code, 0);
    assert_eq!(hijack.json()["error"]["kind"], "secret_missing", "{}", hijack.stdout);
    let shown = cli(home.path(), &["profile", "show", &name]).json();
    assert_eq!(shown["base_url"], sandbox.base_url.as_str(), "unchanged: {shown}");
    // With the secret on this computer, the owner may.
    set_secret(home.path(), &name, DEMO_TOKEN);
    let moved = add(&["--replace"], elsewhere);
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    let ledger = Ledger::open_in(home.path()).unwrap();
    let history = ledger.events_without_payment(20).unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.iter().filter(|k| **k == "profile_saved").count() >= 2, "{kinds:?}");
    assert!(history.iter().any(|e| e.detail["changed"] == serde_json::json!(["base_url"])), "{history:?}");
    assert!(ledger.verify().unwrap().ok);
    drop(ledger);
    let history = cli(home.path(), &["profile", "history", &name]).json();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2, "created, then moved: {history:?}");
    assert_eq!(history[0]["detail"]["changed"], serde_json::json!(["base_url"]), "newest first");
    assert_eq!(history[1]["detail"]["changed"], serde_json::json!(["created"]));

    // One rule for names and addresses.
    for bad_name in [".", "..", "a b", "shop\u{2028}x", "shop\u{200b}", "\u{feff}shop", "a/b"] {
        let mut c = paydesk(home.path());
        c.args([
            "--json",
            "profile",
            "add",
            bad_name,
            "--base-url",
            "sandbox",
            "--merchant-no",
            "1",
            "--store-no",
            "2",
        ])
        .args(["--ipn-url", "https://shop.example/ipn", "--callback-url", "https://shop.example/done"]);
        let r = run(c, None);
        assert_eq!(r.json()["error"]["problems"][0]["field"], "name", "{bad_name:?}: {}", r.stdout);
    }
    let other = unique_name("addr");
    let try_add = |base: &str, ipn: &str, extra: &[&str]| {
        let mut c = paydesk(home.path());
        c.args(["--json", "profile", "add", &other, "--base-url", base, "--merchant-no", "1", "--store-no", "2"])
            .args(["--ipn-url", ipn, "--callback-url", "https://shop.example/done"])
            .args(extra);
        run(c, None)
    };
    let r = try_add("http://[::ffff:169.254.169.254]/", "https://shop.example/ipn", &[]);
    assert!(r.stdout.contains("base_url"), "{}", r.stdout);
    let r = try_add("https://mapi.yuansfer.com", "https://user:pw@shop.example/ipn", &[]);
    assert!(r.stdout.contains("user name or password"), "{}", r.stdout);
    let r = try_add("http://192.168.1.20:8787", "http://192.168.1.20:8788/ipn", &[]);
    assert!(r.stdout.contains("private network"), "{}", r.stdout);
    let r = try_add("http://192.168.1.20:8787", "http://192.168.1.20:8788/ipn", &["--private-network"]);
    assert_eq!(r.code, 0, "allowed when asked: {}", r.stdout);
    assert_eq!(r.json()["private_network"], true);
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

/// A production profile is checked before it is saved: https notification and return
/// URLs, and its secret saved in the same step.
#[test]
fn a_production_profile_is_never_saved_careless() {
    let home = tempfile::tempdir().unwrap();
    let name = unique_name("live");
    let add = |ipn: &str, secret: Option<&str>| {
        let mut c = paydesk(home.path());
        c.args(["--json", "profile", "add", &name, "--base-url", "production", "--merchant-no", "200043"]).args([
            "--store-no",
            "300014",
            "--ipn-url",
            ipn,
            "--callback-url",
            "https://shop.example/done",
        ]);
        if secret.is_some() {
            c.arg("--secret-stdin");
        }
        run(c, secret)
    };
    let plain = add("http://shop.example/ipn", Some("tok\n"));
    assert!(plain.stdout.contains("must be https for a production profile"), "{}", plain.stdout);
    let no_secret = add("https://shop.example/ipn", None);
    assert_eq!(no_secret.json()["error"]["kind"], "secret_missing", "{}", no_secret.stdout);
    assert_ne!(cli(home.path(), &["profile", "show", &name]).code, 0, "nothing saved");
    let saved = add("https://shop.example/ipn", Some(&format!("{DEMO_TOKEN}\n")));
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    assert_eq!(saved.json()["environment"], "production");
    assert_eq!(cli(home.path(), &["profile", "show", &name]).json()["token"], "saved");
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

/// `profile test NAME --verbose` says in plain words what is wrong (signature refused,
/// wrong merchant, unreachable) with each exchange scrubbed and the clock skew, exits 1
/// when the profile cannot sell; `profile transcript NAME -o FILE` writes the last
/// exchanges for support, 0600, with no signature and no secret in them.
#[test]
fn a_profile_that_does_not_connect_is_diagnosed_and_its_transcript_written() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let name = unique_name("diag");
    add_profile(home.path(), &name, &sandbox.base_url);

    set_secret(home.path(), &name, "0000000000000000000000000000000wrong");
    let wrong = cli(home.path(), &["profile", "test", &name, "--verbose"]);
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    let report = wrong.json();
    assert_eq!(report["diagnosis"], "signature_refused", "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["exchanges"][0]["body"]["verifySign"], "(removed)", "{report}");
    assert!(report["clock_skew_ms"].as_i64().unwrap().abs() < 5_000, "{report}");

    set_secret(home.path(), &name, DEMO_TOKEN);
    let good = cli(home.path(), &["profile", "test", &name, "--verbose"]).json();
    assert_eq!((good["ok"].as_bool(), good["diagnosis"].as_str()), (Some(true), Some("connected")), "{good}");
    let sale = cli(
        home.path(),
        &["pay", "qr", "--profile", &name, "--amount", "3.00", "--currency", "USD", "--vendor", "alipay"],
    );
    assert_eq!(sale.code, 0, "{}", sale.stderr);

    let file = home.path().join("for-support.json");
    let written =
        cli(home.path(), &["profile", "transcript", &name, "--last", "3", "-o", file.to_str().unwrap()]).json();
    assert_eq!(written["exchanges"], 3, "{written}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let paths: Vec<&str> = doc["exchanges"].as_array().unwrap().iter().map(|x| x["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        ["/app-data-search/v3/tran-query", "/app-data-search/v3/tran-query", "/app-instore/v3/create-trans-qrcode"]
    );
    assert!(!text.contains(DEMO_TOKEN) && !text.contains("wrong\""), "no secret");
    let signature_values = text.matches("\"verifySign\": \"").count();
    assert_eq!(signature_values, text.matches("\"verifySign\": \"(removed)\"").count(), "no signature: {text}");

    // Nothing listens: said so, not guessed.
    let dead = unique_name("dead");
    add_profile(home.path(), &dead, "http://127.0.0.1:9");
    set_secret(home.path(), &dead, DEMO_TOKEN);
    let unreachable = cli(home.path(), &["profile", "test", &dead, "--verbose"]);
    assert_eq!((unreachable.code, unreachable.json()["diagnosis"].as_str()), (1, Some("unreachable")));
    for n in [&name, &dead] {
        let _ = cli(home.path(), &["secret", "delete", n]);
    }
}

/// Several shops, one ledger: each profile belongs to a shop (`--shop`; "main" by default,
/// kept when the profile is replaced without naming one); lists, totals and exports filter
/// by shop, and `tx totals --by shop` gives each shop's totals, which add up to the whole
/// (the demo's sales count in the main shop).
#[test]
fn two_shops_in_one_ledger_with_totals_that_add_up() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let (north, south) = (unique_name("north"), unique_name("south"));
    for (name, shop) in [(&north, "Taipei-101"), (&south, "Tainan")] {
        let added = cli(
            home.path(),
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
                "--shop",
                shop,
            ],
        );
        assert_eq!(added.code, 0, "{}", added.stdout);
        assert_eq!(added.json()["shop"], shop);
        set_secret(home.path(), name, DEMO_TOKEN);
    }
    let bad = cli(home.path(), &["profile", "add", "x1", "--base-url", "sandbox", "--shop", "../etc"]);
    assert!(bad.stdout.contains("shop"), "{}", bad.stdout);
    let sell = |profile: &str, amount: &str| {
        let sale = cli(
            home.path(),
            &["pay", "qr", "--profile", profile, "--amount", amount, "--currency", "USD", "--vendor", "alipay"],
        );
        assert_eq!(sale.code, 0, "{}", sale.stderr);
        sale.json()["reference"].as_str().unwrap().to_string()
    };
    let north_sales = [sell(&north, "10.00"), sell(&north, "2.50")];
    let south_sale = sell(&south, "7.00");
    sell("demo", "1.25");
    // The southern shop's customer pays: money taken, in its report.
    let settled = reqwest::blocking::Client::new()
        .post(format!("{}/sandbox/settle/{south_sale}", sandbox.base_url))
        .json(&serde_json::json!({"outcome": "pay"}))
        .send()
        .unwrap();
    assert!(settled.status().is_success(), "{}", settled.status());
    assert_eq!(cli(home.path(), &["tx", "status", &south_sale]).json()["status"], "paid");

    let listed = cli(home.path(), &["tx", "list", "--shop", "Taipei-101"]).json();
    let refs: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["reference"].as_str().unwrap()).collect();
    assert_eq!(refs.len(), 2, "{listed}");
    assert!(north_sales.iter().all(|r| refs.contains(&r.as_str())));

    let by_shop = cli(home.path(), &["tx", "totals", "--by", "shop"]).json();
    let shops: Vec<&str> = by_shop.as_array().unwrap().iter().map(|s| s["shop"].as_str().unwrap()).collect();
    assert_eq!(shops, ["Tainan", "Taipei-101", "main"], "{by_shop}");
    let count_of = |totals: &serde_json::Value| -> i64 {
        totals.as_array().unwrap().iter().map(|t| t["count"].as_i64().unwrap()).sum()
    };
    let counts: Vec<i64> = by_shop.as_array().unwrap().iter().map(|s| count_of(&s["totals"])).collect();
    assert_eq!(counts, [1, 2, 1]);
    let whole = cli(home.path(), &["tx", "totals"]).json();
    assert_eq!(counts.iter().sum::<i64>(), count_of(&whole), "the shops add up to the whole");

    let report = cli(home.path(), &["report", "daily", "--shop", "Tainan"]).json();
    let total = report.as_array().unwrap().iter().find(|d| d["day"] == "total").unwrap().clone();
    assert_eq!((total["count"].as_i64(), total["gross"].as_str()), (Some(1), Some("7.00")), "{report}");

    let csv = home.path().join("taipei.csv");
    let exported =
        cli(home.path(), &["ledger", "export", "--format", "csv", "--shop", "Taipei-101", "-o", csv.to_str().unwrap()]);
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(north_sales.iter().all(|r| text.contains(r.as_str())), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("PD")).count(), 2, "{text}");

    // Replaced without naming a shop, the profile stays in its shop.
    let replaced = cli(
        home.path(),
        &[
            "profile",
            "add",
            &north,
            "--replace",
            "--base-url",
            &sandbox.base_url,
            "--merchant-no",
            "200043",
            "--store-no",
            "300014",
            "--ipn-url",
            &format!("{}/sandbox/ipn-sink", sandbox.base_url),
            "--callback-url",
            "https://shop.example/done/again",
        ],
    );
    assert_eq!(replaced.json()["shop"], "Taipei-101", "{}", replaced.stdout);
    for n in [&north, &south] {
        let _ = cli(home.path(), &["secret", "delete", n]);
    }
}

#[test]
fn a_profiles_settings_go_by_the_keys_its_provider_declares() {
    let home = tempfile::tempdir().unwrap();
    let key_file = home.path().join("merchant.txt");
    std::fs::write(&key_file, "VX8\n").unwrap();
    let urls = ["--ipn-url", "https://shop.example/notify", "--callback-url", "https://shop.example/back"];
    let add = |name: &str, extra: &[&str]| {
        let mut args = vec!["profile", "add", name, "--provider", "vexora", "--base-url", "sandbox"];
        args.extend(urls);
        args.extend(extra);
        cli(home.path(), &args)
    };
    let from_file = format!("merchant_no=@{}", key_file.display());
    let added = add("vx-1", &["--setting", &from_file, "--setting", "public_ip=203.0.113.9"]);
    assert_eq!(added.code, 0, "{}", added.stdout);
    assert_eq!(
        (added.json()["merchant_no"].as_str(), added.json()["public_ip"].as_str()),
        (Some("VX8"), Some("203.0.113.9"))
    );

    // A key the provider does not declare is refused, naming the ones it does.
    let unknown = add("vx-2", &["--setting", "merchant_no=VX7", "--setting", "colour=blue"]);
    assert_eq!(unknown.json()["error"]["field"], "settings", "{}", unknown.stdout);
    assert!(unknown.stdout.contains("it takes merchant_no, public_ip"), "{}", unknown.stdout);
    // The flag and the setting are one setting: given twice differently, refused.
    let twice = add("vx-3", &["--merchant-no", "A", "--setting", "merchant_no=B"]);
    assert_eq!(twice.json()["error"]["field"], "setting", "{}", twice.stdout);
    let shapeless = add("vx-4", &["--setting", "merchant_no"]);
    assert!(shapeless.stdout.contains("KEY=VALUE"), "{}", shapeless.stdout);
    let listed = cli(home.path(), &["profile", "list"]).json();
    assert_eq!(
        listed.as_array().unwrap().iter().filter(|p| p["name"].as_str().is_some_and(|n| n.starts_with("vx-"))).count(),
        1
    );
}
