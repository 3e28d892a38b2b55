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
    s.wait_until_ready();
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
    s.wait_until_ready();
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
    assert_eq!(totals, "1 waiting", "the totals follow too (a waiting sale took no money)");
    s.end();
}

/// A profile saved at another counter of the shared ledger is pushed to this window: the
/// header's switcher lists it, the cashier is told in the header, and Settings' history says
/// it was made at another counter. Removed there, it leaves the switcher here too.
#[test]
fn a_profile_changed_at_another_counter_is_pushed_and_shown() {
    let ledger = paydesk_e2e::fresh_shared_ledger("window_profiles");
    let (here, there) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let driver = Driver::start(here.path(), &[("PAYDESK_LEDGER", ledger.as_str())]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();

    let other_counter = |args: &[&str]| {
        let mut cmd = paydesk_e2e::paydesk(there.path());
        cmd.env("PAYDESK_LEDGER", &ledger).args(args);
        let done = paydesk_e2e::run(cmd, None);
        assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    };
    other_counter(&[
        "profile",
        "add",
        "Shop-East",
        "--base-url",
        "sandbox",
        "--merchant-no",
        "200043",
        "--store-no",
        "300014",
        "--ipn-url",
        "https://shop.example/ipn",
        "--callback-url",
        "https://shop.example/done",
    ]);
    let saved_at = std::time::Instant::now();
    s.wait_for(
        "the other counter's profile in the switcher",
        Duration::from_secs(10),
        "return [...document.querySelectorAll('#profile-switch option')].some(o => o.value === 'Shop-East')",
    );
    eprintln!("another counter's profile in this window {} ms after it was saved", saved_at.elapsed().as_millis());
    s.wait_for(
        "the cashier told",
        Duration::from_secs(10),
        "const n = document.getElementById('profiles-notice'); return !n.hidden && n.dataset.profile === 'Shop-East'",
    );
    s.click("#tab-settings");
    s.wait_for(
        "the history naming another counter",
        Duration::from_secs(10),
        "const li = document.querySelector('#profile-history-list li'); \
         return li && li.dataset.profile === 'Shop-East' && li.dataset.here === 'false' && li.dataset.kind === 'profile_saved'",
    );

    other_counter(&["profile", "remove", "Shop-East"]);
    s.wait_for(
        "the removed profile gone from the switcher",
        Duration::from_secs(10),
        "return ![...document.querySelectorAll('#profile-switch option')].some(o => o.value === 'Shop-East')",
    );
    s.wait_for(
        "the removal in the history",
        Duration::from_secs(10),
        "const li = document.querySelector('#profile-history-list li'); return li && li.dataset.kind === 'profile_removed'",
    );
    s.end();
}

/// What Settings → Shared ledger answered, once it has.
fn ledger_message(s: &Session, what: &str) -> String {
    s.wait_for(
        what,
        Duration::from_secs(20),
        "const m = document.getElementById('ledger-message'); return !m.hidden && !m.textContent.includes('Connecting') && m.textContent",
    )
    .as_str()
    .unwrap()
    .to_string()
}

/// Settings → Shared ledger, as a shop owner moves a counter onto the shop's server: a URL
/// that is not PostgreSQL is named under its field, a server that cannot be reached is
/// refused (nothing saved), the real one is checked and saved with its password in the
/// keyring (never in the settings file); from the next start the counter sells into it.
#[test]
fn a_shared_ledger_chosen_in_settings_is_checked_saved_and_used_from_the_next_start() {
    let home = tempfile::tempdir().unwrap();
    let ledger = paydesk_e2e::fresh_shared_ledger("window_settings");
    let password = "counter-2 pw/with:odd@chars";
    let settings_file = || std::fs::read_to_string(home.path().join("settings.json")).unwrap_or_default();
    let driver = Driver::start(home.path(), &[]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    s.click("#tab-settings");
    s.wait_for(
        "the ledger in use",
        Duration::from_secs(10),
        "return document.getElementById('ledger-in-use').textContent.includes('own ledger file')",
    );

    s.fill("#ledger-url", "mysql://shop@db/books");
    s.click("#ledger-save");
    let refused = ledger_message(&s, "the wrong kind of URL refused");
    assert!(refused.contains("PostgreSQL"), "{refused}");
    assert_eq!(s.script("return document.getElementById('ledger-url').getAttribute('aria-invalid')"), "true");

    let dead = format!("postgres://paydesk@127.0.0.1:{}/shop", free_port());
    s.fill("#ledger-url", &dead);
    s.click("#ledger-save");
    let refused = ledger_message(&s, "the unreachable server refused");
    assert!(refused.contains("cannot be reached"), "{refused}");
    assert!(!settings_file().contains("shop"), "nothing saved: {}", settings_file());

    s.fill("#ledger-url", &ledger);
    s.fill("#ledger-password", password);
    s.click("#ledger-save");
    let saved = ledger_message(&s, "the shared ledger saved");
    assert!(saved.contains("next start"), "{saved}");
    let file: serde_json::Value = serde_json::from_str(&settings_file()).unwrap();
    assert_eq!(file["shared_ledger"], ledger.as_str(), "{file}");
    assert!(!settings_file().contains("odd@chars"), "the password is not in the file");
    assert_eq!(s.script("return document.getElementById('ledger-password').value"), "", "nor left on screen");
    s.end();

    // Next start: the counter runs on the shared ledger; a sale made here is on the server.
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    s.sell_at_counter("3.10");
    let reference = s.script("return document.getElementById('sale-reference').textContent");
    let elsewhere = tempfile::tempdir().unwrap();
    let mut show = paydesk_e2e::paydesk(elsewhere.path());
    show.args(["--json", "--ledger", &ledger, "tx", "show", reference.as_str().unwrap()]);
    let shown = paydesk_e2e::run(show, None);
    assert_eq!(shown.code, 0, "the sale is in the shared ledger: {}\n{}", shown.stdout, shown.stderr);
    assert_eq!(shown.json()["payment"]["amount_minor"], 310);

    s.click("#tab-settings");
    s.wait_for(
        "the shared ledger in use",
        Duration::from_secs(10),
        "return document.getElementById('ledger-in-use').textContent.includes('shared ledger')",
    );
    assert_eq!(
        s.script("return document.getElementById('ledger-password').placeholder"),
        "Saved in the keyring",
        "its password is in the keyring"
    );
    // And back to this computer's file (the password leaves the keyring). The ledger's
    // check above finishing first: its lines move the button.
    s.wait_for(
        "the ledger checked",
        Duration::from_secs(20),
        "return document.getElementById('chain-state').dataset.ok",
    );
    s.click("#ledger-local");
    ledger_message(&s, "the file chosen again");
    assert!(serde_json::from_str::<serde_json::Value>(&settings_file()).unwrap()["shared_ledger"].is_null());
    s.end();
}

/// The counter's window while the shared ledger is down: it still opens and sells (into
/// its journal), the header says "Shared ledger offline — N sales waiting"; when the server is
/// back the window replays by itself, the banner goes, and the sale is on the server.
#[test]
fn a_counter_window_sells_through_an_outage_and_replays_when_the_server_returns() {
    let server = paydesk_e2e::OwnServer::start();
    let home = tempfile::tempdir().unwrap();
    // This counter has worked on the shared ledger before (it knows its profiles).
    let mut first = paydesk_e2e::paydesk(home.path());
    first.env("PAYDESK_LEDGER", &server.url).args(["--json", "tx", "list"]);
    assert_eq!(paydesk_e2e::run(first, None).code, 0);
    server.stop();

    let driver = Driver::start(home.path(), &[("PAYDESK_LEDGER", server.url.as_str())]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    s.wait_for(
        "the header saying the ledger is away",
        Duration::from_secs(10),
        "const n = document.getElementById('ledger-offline'); return !n.hidden && n.dataset.waiting === '0'",
    );
    s.sell_at_counter("6.40");
    let reference =
        s.script("return document.getElementById('qr-img').dataset.reference").as_str().unwrap().to_string();
    s.wait_for(
        "one sale waiting",
        Duration::from_secs(15),
        "return document.getElementById('ledger-offline').dataset.waiting === '1'",
    );

    server.resume();
    s.wait_for(
        "the banner gone once replayed",
        Duration::from_secs(30),
        "return document.getElementById('ledger-offline').hidden",
    );
    let mut listed = paydesk_e2e::paydesk(tempfile::tempdir().unwrap().path());
    listed.env("PAYDESK_LEDGER", &server.url).args(["--json", "tx", "list"]);
    let listed = paydesk_e2e::run(listed, None);
    assert!(listed.stdout.contains(&reference), "the sale is on the server: {}", listed.stdout);
    s.click("#tab-transactions");
    s.wait_for(
        "the sale in the window's list",
        Duration::from_secs(10),
        &format!(
            "return [...document.querySelectorAll('#tx-rows tr')].some(r => r.dataset.reference === '{reference}')"
        ),
    );
    s.end();
}
