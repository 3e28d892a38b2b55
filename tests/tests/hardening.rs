//! The console under a busy shop and a hostile world, as real processes: four counters
//! selling at once on one ledger, `kill -9` at random moments during sales and refunds
//! followed by recovery, and inputs that must be refused before anything is sold.

use paydesk_e2e::{paydesk, run, Run};
use rand::Rng;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

fn cli(home: &Path, args: &[&str]) -> Run {
    cli_on(home, None, args)
}

/// `paydesk --json ARGS`, on the shared ledger at `ledger` when given (else the home's file).
fn cli_on(home: &Path, ledger: Option<&str>, args: &[&str]) -> Run {
    let mut c = paydesk(home);
    c.env_remove("PAYDESK_LEDGER").arg("--json");
    if let Some(url) = ledger {
        c.args(["--ledger", url]);
    }
    c.args(args);
    run(c, None)
}

fn sale_args(amount: &str) -> Vec<String> {
    ["pay", "qr", "--amount", amount, "--currency", "USD", "--vendor", "alipay"].map(String::from).to_vec()
}

fn cli_owned(home: &Path, args: &[String]) -> Run {
    cli(home, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The demo sandbox's own record (its SQLite state in the home folder): one entry per
/// payment the provider made, by its own transaction number (two for one reference count
/// as two), with the reference and the refunds made, in minor units.
fn provider_payments(home: &Path) -> Vec<(String, String, Vec<i64>)> {
    let conn = rusqlite::Connection::open(home.join("demo-sandbox.sqlite3")).unwrap();
    let mut stmt = conn.prepare("SELECT transaction_no, reference, data FROM payments").unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .unwrap()
        .map(|row| {
            let (transaction_no, reference, data) = row.unwrap();
            let v: serde_json::Value = serde_json::from_str(&data).unwrap();
            let refunds =
                v["refunds"].as_array().unwrap().iter().map(|r| r["amount_minor"].as_i64().unwrap()).collect();
            (transaction_no, reference, refunds)
        })
        .collect()
}

/// The same by reference, after checking that no reference was paid twice.
fn provider_side(home: &Path) -> std::collections::HashMap<String, Vec<i64>> {
    let all = provider_payments(home);
    let mut by_reference = std::collections::HashMap::new();
    for (transaction_no, reference, refunds) in all {
        let earlier = by_reference.insert(reference.clone(), refunds);
        assert!(earlier.is_none(), "{reference}: two provider payments (the second {transaction_no})");
    }
    by_reference
}

/// A seeded generator whose seed is printed (PAYDESK_TORTURE_SEED repeats a run).
fn seeded(what: &str) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let seed =
        std::env::var("PAYDESK_TORTURE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    eprintln!("{what}: seed {seed} (PAYDESK_TORTURE_SEED={seed} repeats it)");
    rand::rngs::StdRng::seed_from_u64(seed)
}

#[test]
fn four_counters_sell_at_once_on_one_ledger_and_every_sale_succeeds() {
    let home = tempfile::tempdir().unwrap();
    const PER_COUNTER: usize = 30;
    let counters: Vec<_> = (0..4)
        .map(|_| {
            let home = home.path().to_path_buf();
            std::thread::spawn(move || {
                (0..PER_COUNTER)
                    .map(|_| {
                        let args = sale_args("1.25");
                        let r = cli_owned(&home, &args);
                        assert_eq!(r.code, 0, "a sale failed under parallel use: {}\n{}", r.stdout, r.stderr);
                        r.json()["reference"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut references: Vec<String> = counters.into_iter().flat_map(|t| t.join().unwrap()).collect();
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 4 * PER_COUNTER, "every sale has its own reference");
    let ledger = paydesk_ledger::Ledger::open_in(home.path()).unwrap();
    assert_eq!(ledger.count_payments().unwrap() as usize, 4 * PER_COUNTER);
    let provider = provider_side(home.path());
    for r in &references {
        assert!(provider.contains_key(r), "the provider keeps {r}");
        assert_eq!(ledger.payment_by_reference(r).unwrap().unwrap().status, "pending");
    }
}

/// Starts `paydesk ARGS` and kills it (SIGKILL) after `after`, or lets it finish.
fn run_and_kill(home: &Path, args: &[String], after: Duration) {
    let mut child = paydesk(home)
        .arg("--json")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn kill_9_during_sales_and_refunds_loses_nothing_and_pays_nothing_twice() {
    let home = tempfile::tempdir().unwrap();
    let mut rng = seeded("kill -9 during sales and refunds");
    // How long one sale takes here, to aim the kills across its whole life.
    let started = std::time::Instant::now();
    let first = cli_owned(home.path(), &sale_args("5.00"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let span = started.elapsed().max(Duration::from_millis(50)) * 3 / 2;

    for _ in 0..150 {
        let after = span.mul_f64(rng.gen_range(0.0..1.0));
        run_and_kill(home.path(), &sale_args("5.00"), after);
    }
    // Some paid sales to refund under fire.
    let ledger = paydesk_ledger::Ledger::open_in(home.path()).unwrap();
    let mut paid = Vec::new();
    for _ in 0..5 {
        let r = cli_owned(home.path(), &sale_args("5.00")).json();
        let reference = r["reference"].as_str().unwrap().to_string();
        let settle = reqwest::blocking::Client::new()
            .post(format!("{}/sandbox/settle/{reference}", base_of(r["link"].as_str().unwrap())))
            .json(&serde_json::json!({"outcome": "pay"}))
            .send();
        // The sale's own process (and its sandbox) is gone: settle through a fresh one.
        if settle.is_err() {
            settle_offline(home.path(), &reference);
        }
        assert_eq!(cli(home.path(), &["tx", "status", &reference]).json()["status"], "paid");
        paid.push(reference);
    }
    // A kill that lands mid-refund leaves it recorded and unconfirmed (the next refund of
    // that payment resends it under its own reference): counted as it happens.
    let mut mid_refund = 0;
    for i in 0..100 {
        let reference = &paid[i % paid.len()];
        let args: Vec<String> = ["tx", "refund", reference, "--amount", "0.10"].map(String::from).to_vec();
        run_and_kill(home.path(), &args, span.mul_f64(rng.gen_range(0.0..1.0)));
        mid_refund += usize::from(!ledger.unanswered_refunds().unwrap().is_empty());
    }
    assert!(mid_refund > 0, "no kill landed mid-refund");

    let recovered = cli(home.path(), &["tx", "recover"]);
    assert_eq!(recovered.code, 0, "{}\n{}", recovered.stdout, recovered.stderr);
    let summary = recovered.json();
    assert!(summary["left"].as_array().unwrap().is_empty(), "{summary}");
    // The kills did land where it hurts: mid-sale (recorded, never answered).
    assert!(summary["payments_found"].as_u64().unwrap() > 0, "no kill landed mid-sale: {summary}");
    assert!(cli(home.path(), &["tx", "recover"]).json()["payments_found"] == 0, "nothing left after one recovery");

    // Lost: a payment the provider has that the ledger lacks. Duplicated: two at the
    // provider for one sale (references are unique per ledger row, so compare counts).
    let provider = provider_side(home.path());
    let all = ledger.payments(&paydesk_ledger::PaymentFilter { limit: Some(10_000), ..Default::default() }).unwrap();
    for reference in provider.keys() {
        assert!(all.iter().any(|p| &p.reference == reference), "{reference} is at the provider but not in the ledger");
    }
    for p in &all {
        assert_ne!(p.status, "created", "{} still unanswered after recovery", p.reference);
        assert!(provider.contains_key(&p.reference), "{} recorded but never reached the provider", p.reference);
        let at_provider: i64 = provider[&p.reference].iter().sum();
        let refunds = ledger.refunds(p.id).unwrap();
        assert!(refunds.iter().all(|r| r.status != "created"), "{}: a refund still unconfirmed", p.reference);
        let in_ledger: i64 = refunds.iter().filter(|r| r.status == "succeeded").map(|r| r.amount_minor).sum();
        assert_eq!(in_ledger, at_provider, "{}: refunds paid out = refunds in the ledger", p.reference);
        assert!(at_provider <= p.amount_minor, "{}: never refunded above the amount", p.reference);
    }
    let succeeded: usize =
        all.iter().map(|p| ledger.refunds(p.id).unwrap().iter().filter(|r| r.status == "succeeded").count()).sum();
    assert!(succeeded > 0, "refunds completed under fire");
    eprintln!(
        "torture: {} payments in the ledger, {} at the provider, {} refunds paid out, {mid_refund} kills mid-refund; recovery: {summary}",
        all.len(),
        provider.len(),
        provider.values().map(Vec::len).sum::<usize>()
    );
}

fn base_of(link: &str) -> String {
    let rest = link.strip_prefix("http://").unwrap();
    format!("http://{}", rest.split('/').next().unwrap())
}

/// A sandbox process on the demo's own state file (the sale's process and its embedded
/// sandbox are gone).
fn sandbox_on_demo_state(home: &Path) -> paydesk_e2e::SandboxProcess {
    let port = paydesk_e2e::free_port();
    let state = home.join("demo-sandbox.sqlite3");
    paydesk_e2e::SandboxProcess::start_with(
        home,
        &format!("127.0.0.1:{port}"),
        &["--state-file", state.to_str().unwrap()],
    )
}

/// Settles a demo payment through a sandbox on the same state file.
fn settle_offline(home: &Path, reference: &str) {
    sandbox_on_demo_state(home).settle(reference, "pay");
}

#[test]
fn a_qr_file_that_cannot_be_written_is_refused_before_anything_is_sold() {
    let home = tempfile::tempdir().unwrap();
    let mut args = sale_args("2.50");
    args.extend(["--qr".into(), "/nonexistent/dir/x.png".into()]);
    let r = cli_owned(home.path(), &args);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["field"], "qr", "{}", r.stdout);
    assert!(cli(home.path(), &["tx", "list"]).json().as_array().unwrap().is_empty(), "nothing sold");
}

#[test]
fn hostile_text_is_refused_and_never_reaches_the_terminal_raw() {
    let home = tempfile::tempdir().unwrap();
    let mut args = sale_args("2.50");
    args.extend(["--description".into(), "tea\u{1b}[2J\u{202E}".into()]);
    let r = cli_owned(home.path(), &args);
    assert_eq!(r.json()["error"]["field"], "description", "{}", r.stdout);
    let mut args = sale_args("2.50");
    args.extend(["--description".into(), "x".repeat(100_000)]);
    assert_eq!(cli_owned(home.path(), &args).json()["error"]["field"], "description");
    // Text mode escapes what it prints: the error quotes the bad character, escaped.
    let mut c = paydesk(home.path());
    c.args([
        "customer",
        "create",
        "--first-name",
        "A\u{1b}]0;owned\u{7}",
        "--last-name",
        "B",
        "--email",
        "a@b.co",
        "--country-code",
        "GB",
    ]);
    let r = run(c, None);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains('\u{1b}') && !r.stdout.contains('\u{1b}'), "{:?}", r.stderr);
}

#[test]
fn a_token_for_a_profile_that_does_not_exist_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let mut c = paydesk(home.path());
    c.args(["--json", "secret", "set", "no-such-store"]);
    let r = run(c, Some("token\n"));
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["kind"], "profile_not_found", "{}", r.stdout);
}

#[test]
fn every_tx_command_takes_profile_and_checks_it() {
    let home = tempfile::tempdir().unwrap();
    let sale = cli_owned(home.path(), &sale_args("3.00")).json();
    let reference = sale["reference"].as_str().unwrap();
    for cmd in ["show", "status", "cancel"] {
        let r = cli(home.path(), &["tx", cmd, reference, "--profile", "other"]);
        assert_eq!(r.json()["error"]["field"], "profile", "tx {cmd}: {}", r.stdout);
    }
    let r = cli(home.path(), &["tx", "refund", reference, "--profile", "other"]);
    assert_eq!(r.json()["error"]["field"], "profile");
    assert_eq!(cli(home.path(), &["tx", "show", reference, "--profile", "demo"]).code, 0);
    let r = cli(home.path(), &["tx", "cancel", reference, "--profile", "demo"]);
    assert_eq!(r.json()["status"], "cancelled", "{}", r.stdout);
}

/// The demo sandbox's PayKKa orders: trans_id -> (captured, refunded, status), as the
/// emulated provider itself keeps them.
fn paykka_side(home: &Path) -> std::collections::HashMap<String, (i64, i64, String)> {
    let conn = rusqlite::Connection::open(home.join("demo-sandbox.sqlite3")).unwrap();
    let mut stmt = conn.prepare("SELECT id, data FROM docs WHERE kind = 'paykka-order'").unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|row| {
            let (id, data) = row.unwrap();
            let v: serde_json::Value = serde_json::from_str(&data).unwrap();
            let b = &v["balances"];
            let status = v["status"].as_str().unwrap().to_string();
            (id, (b["captured_amount"].as_i64().unwrap(), b["refunded_amount"].as_i64().unwrap(), status))
        })
        .collect()
}

/// A PayKKa demo sale the shopper authorised (manual capture), paid through a sandbox on
/// the same state file.
fn authorised_paykka_sale(home: &Path, amount: &str) -> String {
    authorised_paykka_sale_on(home, None, amount)
}

fn authorised_paykka_sale_on(home: &Path, ledger: Option<&str>, amount: &str) -> String {
    let sale = cli_on(
        home,
        ledger,
        &["pay", "qr", "--profile", "demo-paykka", "--amount", amount, "--currency", "USD", "--capture", "manual"],
    );
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let reference = sale.json()["reference"].as_str().unwrap().to_string();
    let sandbox = sandbox_on_demo_state(home);
    let paid = reqwest::blocking::Client::new()
        .post(format!("{}/paykka/sandbox/settle/{reference}", sandbox.base_url))
        .json(&serde_json::json!({"outcome": "pay"}))
        .send()
        .unwrap();
    assert!(paid.status().is_success(), "settle: {}", paid.status());
    drop(sandbox);
    let status = cli_on(home, ledger, &["tx", "status", &reference, "--profile", "demo-paykka"]);
    assert_eq!(status.json()["status"], "authorized", "{}", status.stdout);
    reference
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[test]
fn kill_9_during_captures_voids_and_refunds_takes_nothing_twice() {
    let home = tempfile::tempdir().unwrap();
    let mut rng = seeded("kill -9 during captures, voids and refunds");
    let (captured, voided, refunded) = (
        authorised_paykka_sale(home.path(), "50.00"),
        authorised_paykka_sale(home.path(), "50.00"),
        authorised_paykka_sale(home.path(), "50.00"),
    );
    let capture = owned(&["tx", "capture", &captured, "--amount", "0.10", "--profile", "demo-paykka"]);
    // How long one capture takes here, to aim the kills across its whole life.
    let started = std::time::Instant::now();
    assert_eq!(cli_owned(home.path(), &capture).code, 0);
    let span = started.elapsed().max(Duration::from_millis(50)) * 3 / 2;
    // A kill mid-capture or mid-void leaves its movement open (the next command settles it
    // by the provider's balances): counted as it happens.
    let watch = paydesk_ledger::Ledger::open_in(home.path()).unwrap();
    let open_now = |reference: &str| {
        let id = watch.payment_by_reference(reference).unwrap().unwrap().id;
        usize::from(watch.open_movement(id).unwrap().is_some())
    };
    let mut mid_movement = 0;
    for _ in 0..150 {
        run_and_kill(home.path(), &capture, span.mul_f64(rng.gen_range(0.0..1.0)));
        mid_movement += open_now(&captured);
    }
    let void = owned(&["tx", "void", &voided, "--profile", "demo-paykka"]);
    for _ in 0..30 {
        run_and_kill(home.path(), &void, span.mul_f64(rng.gen_range(0.0..0.8)));
        mid_movement += open_now(&voided);
    }
    assert!(mid_movement > 0, "no kill landed mid-capture or mid-void");
    let all = cli(home.path(), &["tx", "capture", &refunded, "--final", "--profile", "demo-paykka"]);
    assert_eq!(all.json()["status"], "paid", "{}", all.stdout);
    let refund = owned(&["tx", "refund", &refunded, "--amount", "0.10", "--profile", "demo-paykka"]);
    for _ in 0..100 {
        run_and_kill(home.path(), &refund, span.mul_f64(rng.gen_range(0.0..1.0)));
    }

    let recovered = cli(home.path(), &["tx", "recover"]);
    assert_eq!(recovered.code, 0, "{}\n{}", recovered.stdout, recovered.stderr);
    let summary = recovered.json();
    assert!(summary["left"].as_array().unwrap().is_empty(), "{summary}");
    let again = cli(home.path(), &["tx", "recover"]).json();
    assert_eq!((again["movements_found"].as_u64(), again["refunds_found"].as_u64()), (Some(0), Some(0)), "{again}");

    // The ledger equals the provider's own balances: nothing taken twice, nothing lost.
    let provider = paykka_side(home.path());
    let ledger = paydesk_ledger::Ledger::open_in(home.path()).unwrap();
    for reference in [&captured, &voided, &refunded] {
        let p = ledger.payment_by_reference(reference).unwrap().unwrap();
        let status = p.status;
        let in_ledger = paydesk_ledger::captured_minor(status, p.amount_minor, p.paid_minor);
        let movements = ledger.movements(p.id).unwrap();
        assert!(
            movements.iter().all(|m| !matches!(m.status.as_str(), "created" | "sent" | "unknown")),
            "{movements:?}"
        );
        let captures: i64 =
            movements.iter().filter(|m| m.kind == "capture" && m.status == "succeeded").map(|m| m.amount_minor).sum();
        let refunds: i64 =
            ledger.refunds(p.id).unwrap().iter().filter(|r| r.status == "succeeded").map(|r| r.amount_minor).sum();
        let (at_provider, refunded_there, provider_status) = &provider[reference.as_str()];
        assert_eq!(in_ledger, *at_provider, "{reference}: captured in the ledger = captured at the provider");
        assert_eq!(captures, *at_provider, "{reference}: the succeeded captures add up to it");
        assert_eq!(refunds, *refunded_there, "{reference}: refunds paid out = refunds in the ledger");
        if reference == &voided {
            assert_eq!((p.status.as_str(), provider_status.as_str()), ("cancelled", "CANCELED"));
        }
    }
    eprintln!(
        "captures torture: captured {} of {}, refunded {} of {}; {mid_movement} kills mid-capture or mid-void; recovery: {summary}",
        provider[captured.as_str()].0,
        5000,
        provider[refunded.as_str()].1,
        5000
    );
    assert!(provider[captured.as_str()].0 > 10, "captures went through under fire");
}

/// Two `paydesk` processes capture, then refund, one payment at the same moment: the
/// limits hold in the ledger's write, on the SQLite file and on the shared PostgreSQL
/// ledger alike, and the provider moves the money once.
#[test]
fn two_processes_race_captures_and_refunds_on_one_payment_on_both_engines() {
    let shared = paydesk_e2e::fresh_shared_ledger("race");
    for ledger in [None, Some(shared.as_str())] {
        let home = tempfile::tempdir().unwrap();
        let reference = authorised_paykka_sale_on(home.path(), ledger, "10.00");
        let both = |args: &[&str]| -> Vec<Run> {
            std::thread::scope(|s| {
                let jobs: Vec<_> = (0..2).map(|_| s.spawn(|| cli_on(home.path(), ledger, args))).collect();
                jobs.into_iter().map(|j| j.join().unwrap()).collect()
            })
        };
        // One capture of 6.00 fits in 10.00. The other process either is refused or finds
        // that capture recorded and unconfirmed, settles it by the provider's balances and
        // reports it: never a second capture.
        let captures = both(&["tx", "capture", &reference, "--amount", "6.00", "--profile", "demo-paykka"]);
        assert!(
            captures.iter().any(|r| r.code == 0),
            "{ledger:?}: {:?}",
            captures.iter().map(|r| &r.stderr).collect::<Vec<_>>()
        );
        for r in &captures {
            if r.code == 0 {
                assert_eq!(r.json()["paid_amount"], "6.00", "{ledger:?}: {}", r.stdout);
            } else {
                let kind = r.json()["error"]["kind"].as_str().map(String::from);
                assert!(matches!(kind.as_deref(), Some("not_allowed" | "invalid_input")), "{}", r.stdout);
            }
        }
        let shown = cli_on(home.path(), ledger, &["tx", "show", &reference, "--profile", "demo-paykka"]).json();
        assert_eq!(shown["movements"].as_array().unwrap().len(), 1, "{ledger:?}: one capture recorded: {shown}");
        let refunds = both(&["tx", "refund", &reference, "--amount", "4.00", "--profile", "demo-paykka"]);
        let provider = paykka_side(home.path());
        let (captured, refunded, _) = &provider[reference.as_str()];
        assert_eq!(*captured, 600, "{ledger:?}: captured once");
        assert!(*refunded <= 600, "{ledger:?}: never refunded above what was captured");
        let named: std::collections::BTreeSet<String> = refunds
            .iter()
            .filter(|r| r.code == 0)
            .map(|r| r.json()["refund"]["refund_reference"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(named.len(), 1, "{ledger:?}: one refund of 4.00 fits in 6.00: {named:?}");
        assert_eq!(*refunded, 400, "{ledger:?}: refunded once");
        let shown = cli_on(home.path(), ledger, &["tx", "show", &reference, "--profile", "demo-paykka"]).json();
        assert_eq!(shown["refundable"], "2.00", "{ledger:?}: {shown}");
    }
}
