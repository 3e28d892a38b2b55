//! The accountant's screen in the real window: the detail beside the list at the smallest
//! size, the chosen row marked, up and down walking the rows, and the toolbar's jobs
//! (Refresh unsettled, Export) saying what they did above the list.

use paydesk_e2e::webdriver::{Driver, Session, ESCAPE};
use paydesk_e2e::{bin_dir, binary};
use paydesk_gateways::PaymentStatus;
use paydesk_ledger::{Ledger, NewPayment, StatusChange};
use std::time::Duration;

const ARROW_DOWN: &str = "\u{E015}";
const ARROW_UP: &str = "\u{E013}";

/// `n` paid sales in the demo profile's books, as if sold earlier.
fn books_with_sales(home: &std::path::Path, n: usize) {
    let ledger = match paydesk_e2e::test_ledger_for(home) {
        Some(url) => Ledger::open_shared(&url).unwrap(),
        None => Ledger::open_in(home).unwrap(),
    };
    for i in 0..n {
        let p = ledger
            .insert_payment(&NewPayment {
                reference: format!("PD-BOOK-{i:03}"),
                profile: "demo".into(),
                provider: "pockyt".into(),
                method: "qr".into(),
                vendor: Some("alipay".into()),
                amount_minor: 100 * (i as i64 + 1),
                currency: "USD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        ledger.record_provider_ids(p.id, &format!("TXBOOK{i}"), None).unwrap();
        ledger.apply_status(p.id, &StatusChange { status: PaymentStatus::Paid, raw_status: None, source: "test" }).unwrap();
    }
}

/// The panel's box and whether it lies inside the window, and the chosen row's reference.
const PANEL_IN_VIEW: &str = "const d = document.getElementById('tx-detail'); const r = d.getBoundingClientRect(); \
     const rows = [...document.querySelectorAll('#tx-rows tr[aria-selected=true]')]; \
     return !d.hidden && d.dataset.reference && { top: r.top, bottom: r.bottom, left: r.left, width: r.width, \
       height: innerHeight, window: innerWidth, reference: d.dataset.reference, \
       selected: rows.map(x => x.dataset.reference), \
       row_visible: rows.length === 1 && rows[0].getBoundingClientRect().top >= 0 && rows[0].getBoundingClientRect().bottom <= innerHeight }";

#[test]
fn the_detail_stays_beside_the_list_and_the_toolbar_says_what_its_jobs_did() {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: scripts/test runs this under Xvfb");
    let home = tempfile::tempdir().unwrap();
    books_with_sales(home.path(), 55);
    let evidence = bin_dir().parent().unwrap().join("e2e");
    std::fs::create_dir_all(&evidence).unwrap();

    let driver = Driver::start(home.path(), &[]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    // One sale still waiting, for Refresh unsettled to ask about.
    let _link = s.sell_at_counter("3.00");

    s.post("/window/rect", serde_json::json!({"width": 720, "height": 560}));
    s.click("#tab-transactions");
    s.wait_for("a page of 50 rows", Duration::from_secs(10), "return document.querySelectorAll('#tx-rows tr').length === 50");

    // A row far down the list: its detail is in the window, beside it, and it is marked.
    s.click("#tx-rows tr:nth-child(45) td:nth-child(2)");
    let chosen = s.script("return document.querySelector('#tx-rows tr:nth-child(45)').dataset.reference");
    let seen = s.wait_for("the detail of row 45", Duration::from_secs(10), &format!("const v = (() => {{ {PANEL_IN_VIEW} }})(); return v && v.reference === {chosen} && v"));
    let number = |k: &str| seen[k].as_f64().unwrap();
    assert!(number("top") >= 0.0 && number("bottom") <= number("height") + 0.5, "the panel is inside the window: {seen}");
    assert!(number("left") > 150.0 && number("width") >= 280.0, "beside the list, wide enough to read: {seen}");
    assert_eq!(seen["selected"], serde_json::json!([chosen]), "the chosen row alone is marked");
    assert_eq!(seen["row_visible"], true, "and still in view: {seen}");
    let marked = s.script("return getComputedStyle(document.querySelector('#tx-rows tr[aria-selected=true]')).boxShadow");
    assert!(marked.as_str().unwrap().contains("inset"), "marked by a bar at its edge: {marked}");
    std::fs::write(evidence.join("window-detail-720.png"), s.screenshot_png()).unwrap();

    // Down and up walk the rows, the detail following.
    s.type_keys(ARROW_DOWN);
    let next = s.script("return document.querySelector('#tx-rows tr:nth-child(46)').dataset.reference");
    s.wait_for("the next row's detail", Duration::from_secs(10), &format!("const v = (() => {{ {PANEL_IN_VIEW} }})(); return v && v.reference === {next} && v.selected.length === 1 && v.selected[0] === {next}"));
    s.type_keys(ARROW_UP);
    s.type_keys(ARROW_UP);
    let above = s.script("return document.querySelector('#tx-rows tr:nth-child(44)').dataset.reference");
    s.wait_for("two rows up", Duration::from_secs(10), &format!("const v = (() => {{ {PANEL_IN_VIEW} }})(); return v && v.reference === {above} && v.row_visible"));
    s.type_keys(ESCAPE);
    s.wait_for(
        "the panel closed by Esc",
        Duration::from_secs(5),
        "return document.getElementById('tx-detail').hidden && !document.querySelector('#tx-rows tr[aria-selected]')",
    );

    // Refresh unsettled: what it found, above the list, counted by outcome.
    s.post("/window/rect", serde_json::json!({"width": 1100, "height": 760}));
    s.script("window.scrollTo(0, 0); return true");
    s.click("#tx-refresh-all");
    let said = s.wait_for(
        "the refresh banner",
        Duration::from_secs(15),
        "const b = document.getElementById('tx-banner'); return !b.hidden && document.getElementById('tx-banner-text').textContent",
    );
    assert_eq!(said, "1 unsettled payments asked: 1 unchanged.", "the waiting sale was asked");
    let counts = s.script("return JSON.parse(document.getElementById('tx-banner').dataset.outcomes)");
    assert_eq!(counts, serde_json::json!({"unchanged": 1, "unreachable": 0, "failed": 0}));
    assert_eq!(s.script("return document.getElementById('tx-banner-open').hidden"), true, "nothing to open");

    // Export (the path the Save dialog would give): the file's name, its rows, Open folder.
    let file = home.path().join("books.csv");
    s.script(&format!(
        "import('./transactions.js').then(m => m.exportTo({:?}, 'csv')); return true",
        file.to_str().unwrap()
    ));
    let said = s.wait_for(
        "the export banner",
        Duration::from_secs(15),
        "const t = document.getElementById('tx-banner-text').textContent; return t.startsWith('Exported') && t",
    );
    assert_eq!(said, "Exported 56 payments to books.csv.");
    assert_eq!(s.script("return document.getElementById('tx-banner').dataset.rows"), "56");
    assert_eq!(s.script("return document.getElementById('tx-banner-open').hidden"), false, "Open folder offered");
    assert_eq!(
        s.script("return document.getElementById('tx-banner-text').title"),
        file.to_str().unwrap(),
        "the whole path on hover"
    );
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert_eq!(lines, 57, "a header and 56 rows were written");
    // Only what this session exported may be shown in a folder.
    let refused = s.script(
        "return window.__TAURI_INTERNALS__.invoke('show_exported_file', { path: '/etc/passwd' }).then(() => 'shown', e => e.kind)",
    );
    assert_eq!(refused, "invalid_input");
    std::fs::write(evidence.join("window-export-banner.png"), s.screenshot_png()).unwrap();
    s.click("#tx-banner-close");
    assert_eq!(s.script("return document.getElementById('tx-banner').hidden"), true);
    s.end();
    drop(driver);
}
