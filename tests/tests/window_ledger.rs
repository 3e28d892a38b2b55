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
