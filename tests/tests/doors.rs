//! The doors hold under a flood: 2,000 silent sockets against the notification listener
//! and 2,000 against the sandbox (the provider) while the counter sells: every sale is made
//! once, and a valid notification is applied within a second. Refused notifications to
//! random paths are counted under our own names and sampled, never stored one by one.

use paydesk_e2e::{paydesk, run, unique_name, NotificationListenerProcess, SandboxProcess};
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

const DEMO_TOKEN: &str = "5cbfb079f15b150122261c8537086d77a";

fn cli(home: &Path, args: &[&str]) -> paydesk_e2e::Run {
    let mut c = paydesk(home);
    c.arg("--json").args(args);
    run(c, None)
}

fn flood(addr: &str, count: usize) -> Vec<TcpStream> {
    (0..count).filter_map(|_| TcpStream::connect(addr).ok()).collect()
}

#[test]
fn a_flood_of_silent_sockets_never_stops_a_sale_or_a_notification() {
    paydesk_doors::raise_open_files_limit();
    let home = tempfile::tempdir().unwrap();
    let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
    let port = paydesk_e2e::free_port();
    let name = unique_name("doors");
    let notify = format!("http://127.0.0.1:{port}/notify/pockyt/{name}");
    let mut add = paydesk(home.path());
    add.args(["--json", "profile", "add", &name, "--base-url", &sandbox.base_url, "--merchant-no", "200043"]).args([
        "--store-no",
        "300014",
        "--ipn-url",
        &notify,
        "--callback-url",
        &format!("{}/return", sandbox.base_url),
    ]);
    assert_eq!(run(add, None).code, 0);
    let mut secret = paydesk(home.path());
    secret.args(["--json", "secret", "set", &name]);
    assert_eq!(run(secret, Some(&format!("{DEMO_TOKEN}\n"))).code, 0, "the Secret Service (scripts/test starts one)");
    let listener =
        NotificationListenerProcess::start(home.path(), &["--profile", &name, "--bind", &format!("127.0.0.1:{port}")]);

    let sandbox_addr = sandbox.base_url.trim_start_matches("http://").to_string();
    let (held_listener, held_sandbox) = std::thread::scope(|s| {
        let a = s.spawn(|| flood(&format!("127.0.0.1:{port}"), 2000));
        let b = s.spawn(|| flood(&sandbox_addr, 2000));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(
        held_listener.len() >= 1900 && held_sandbox.len() >= 1900,
        "{} {}",
        held_listener.len(),
        held_sandbox.len()
    );
    // The sockets stay open on this side; the servers shed the silent ones while pressed.
    std::thread::sleep(Duration::from_millis(2500));

    // The counter sells: each sale made once.
    let mut sales = Vec::new();
    for amount in ["10.00", "11.00", "12.00", "13.00", "14.00"] {
        let sale = cli(
            home.path(),
            &["pay", "qr", "--profile", &name, "--amount", amount, "--currency", "USD", "--vendor", "alipay"],
        );
        assert_eq!(sale.code, 0, "{}", sale.stderr);
        sales.push(sale.json());
    }
    let listed = cli(home.path(), &["tx", "list", "--profile", &name]).json();
    assert_eq!(listed["payments"].as_array().map(Vec::len).or(listed.as_array().map(Vec::len)), Some(5), "{listed}");

    // A valid notification is applied within a second.
    let sale = &sales[0];
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
    let sign = paydesk_gateways::pockyt::signing::sign(&fields, &paydesk_gateways::ApiSecret::new(DEMO_TOKEN));
    fields.insert("verifySign".into(), sign);
    let http = reqwest::blocking::Client::new();
    let started = Instant::now();
    let answer = http.post(&notify).form(&fields).send().unwrap();
    let took = started.elapsed();
    assert!(answer.status().is_success(), "{}", answer.status());
    assert!(took < Duration::from_secs(1), "the notification waited {took:?}");
    let status = cli(home.path(), &["tx", "status", sale["reference"].as_str().unwrap()]).json();
    assert_eq!(status["status"], "paid", "{status}");
    eprintln!("a valid notification under the flood: applied in {took:?}");

    // Refused notifications to random paths: counted under our own names, sampled.
    let events_before = ledger_count(home.path(), "SELECT count(*) FROM events");
    for i in 0..300 {
        let junk: String = (0..7500).map(|j| char::from(b'a' + ((i * 7 + j) % 26) as u8)).collect();
        let _ = http.post(format!("http://127.0.0.1:{port}/notify/{junk}/x")).body("x=1").send();
    }
    let added = ledger_count(home.path(), "SELECT count(*) FROM events") - events_before;
    assert!(added <= 20, "300 refused notifications left {added} events");
    let kinds = ledger_count(home.path(), "SELECT count(*) FROM rejected_notifications");
    assert!(kinds <= 3, "refused notifications are counted per kind, not per path: {kinds} rows");
    let longest = ledger_count(
        home.path(),
        "SELECT coalesce(max(length(provider) + length(reason)), 0) FROM rejected_notifications",
    );
    assert!(longest < 100, "a key holds what a stranger sent: {longest} characters");
    drop((held_listener, held_sandbox, listener));
    let _ = cli(home.path(), &["secret", "delete", &name]);
}

fn ledger_count(home: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(home.join("ledger.sqlite3")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}
