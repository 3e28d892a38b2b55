//! The real window when the shared ledger chosen in Settings cannot be reached: it opens and
//! says so in words, sells nothing, and offers this computer's own ledger file; after a
//! restart the counter works on it.

use paydesk_e2e::binary;
use paydesk_e2e::webdriver::{free_port, Driver, Session};
use std::time::Duration;

#[test]
fn an_unreachable_shared_ledger_is_said_at_start_and_the_file_is_offered() {
    let home = tempfile::tempdir().unwrap();
    // Nothing listens on this port: the server is "down".
    let dead = format!("postgres://paydesk@127.0.0.1:{}/shop", free_port());
    std::fs::write(home.path().join("settings.json"), serde_json::json!({ "shared_ledger": dead }).to_string())
        .unwrap();
    let driver = Driver::start(home.path(), &[]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_for(
        "the reason on the counter",
        Duration::from_secs(30),
        "const e = document.getElementById('counter-error'); return !e.hidden && e.textContent.includes('cannot be reached')",
    );
    let said = s.script("return document.getElementById('counter-error').textContent");
    assert!(said.as_str().unwrap().contains("127.0.0.1"), "names the server: {said}");
    assert!(!said.as_str().unwrap().contains("postgres://"), "{said}");
    assert_eq!(s.script("return document.body.dataset.ready === 'true'"), false, "nothing can be sold");
    s.wait_for("the way back", Duration::from_secs(10), "return !document.getElementById('ledger-away').hidden");
    s.click("#use-local-ledger");
    s.wait_for(
        "the choice saved",
        Duration::from_secs(10),
        "return document.getElementById('ledger-away-message').textContent.includes('next start')",
    );
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("settings.json")).unwrap()).unwrap();
    assert!(settings["shared_ledger"].is_null(), "{settings}");
    s.end();

    // Started again: the counter runs on this computer's ledger file.
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_for("the counter", Duration::from_secs(30), "return document.body.dataset.ready === 'true'");
    assert!(home.path().join("ledger.sqlite3").exists());
    s.end();
}

/// The accountant's screen on a shared ledger: a sale made at another counter (another
/// home, its own `paydesk` process) appears in the window's Transactions, pushed by the
/// server (LISTEN/NOTIFY), while nobody touches the window. The list has no timer of its
/// own, so the row can only have come by push; the delay is printed, not asserted.
#[test]
fn a_sale_at_another_counter_reaches_the_accountants_window_pushed() {
    let ledger = paydesk_e2e::fresh_shared_ledger("window_shared");
    let (accountant, counter) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let driver = Driver::start(accountant.path(), &[("PAYDESK_LEDGER", ledger.as_str())]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_for("the app to load", Duration::from_secs(30), "return document.body.dataset.ready === 'true'");
    s.click("#tab-transactions");
    s.wait_for("the empty ledger", Duration::from_secs(10), "return !document.getElementById('tx-empty').hidden");

    let mut sell = paydesk_e2e::paydesk(counter.path());
    sell.env("PAYDESK_LEDGER", &ledger).args([
        "--json",
        "pay",
        "qr",
        "--amount",
        "24.60",
        "--currency",
        "USD",
        "--vendor",
        "alipay",
    ]);
    let sale = paydesk_e2e::run(sell, None);
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    let sold_at = std::time::Instant::now();
    let reference = sale.json()["reference"].as_str().unwrap().to_string();

    s.wait_for(
        "the other counter's sale in the list",
        Duration::from_secs(10),
        &format!(
            "return [...document.querySelectorAll('#tx-rows tr')].some(r => r.dataset.reference === '{reference}')"
        ),
    );
    eprintln!("other counter's sale on the accountant's screen {} ms after its QR", sold_at.elapsed().as_millis());
    let totals = s.script("return document.getElementById('tx-totals').textContent");
    assert!(totals.as_str().unwrap().starts_with("1 payment"), "the totals follow too: {totals}");
    s.end();
}
