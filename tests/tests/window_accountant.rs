//! The accountant's screen in the real window: the detail beside the list at the smallest
//! size, the chosen row marked, up and down walking the rows, and the toolbar's jobs
//! (Refresh unsettled, Export) saying what they did above the list.

use paydesk_e2e::webdriver::{Driver, Session, ESCAPE};
use paydesk_e2e::{bin_dir, binary};
use paydesk_gateways::{PaymentStatus, RefundStatus};
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
                wallet: Some("alipay".into()),
                amount_minor: 100 * (i as i64 + 1),
                currency: "USD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        ledger.record_provider_ids(p.id, &format!("TXBOOK{i}"), None).unwrap();
        ledger
            .apply_status(p.id, &StatusChange { status: PaymentStatus::Paid, raw_status: None, source: "test" })
            .unwrap();
        if i % 10 == 0 {
            let r = ledger.insert_refund(p.id, &format!("RF-BOOK-{i}"), 50).unwrap();
            ledger.finish_refund(r.id, RefundStatus::Succeeded, Some(&format!("RTXBOOK{i}"))).unwrap();
        }
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

    let path = paydesk_e2e::path_without_printers(home.path());
    let driver = Driver::start(home.path(), &[("PATH", &path)]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    // One sale still waiting, for Refresh unsettled to ask about.
    let _link = s.sell_at_counter("3.00");

    s.post("/window/rect", serde_json::json!({"width": 720, "height": 560}));
    s.click("#tab-transactions");
    s.wait_for(
        "a page of 50 rows",
        Duration::from_secs(10),
        "return document.querySelectorAll('#tx-rows tr').length === 50",
    );

    // A row far down the list: its detail is in the window, beside it, and it is marked.
    s.click("#tx-rows tr:nth-child(45) td:nth-child(2)");
    let chosen = s.script("return document.querySelector('#tx-rows tr:nth-child(45)').dataset.reference");
    let seen = s.wait_for(
        "the detail of row 45",
        Duration::from_secs(10),
        &format!("const v = (() => {{ {PANEL_IN_VIEW} }})(); return v && v.reference === {chosen} && v"),
    );
    let number = |k: &str| seen[k].as_f64().unwrap();
    assert!(
        number("top") >= 0.0 && number("bottom") <= number("height") + 0.5,
        "the panel is inside the window: {seen}"
    );
    assert!(number("left") > 150.0 && number("width") >= 280.0, "beside the list, wide enough to read: {seen}");
    assert_eq!(seen["selected"], serde_json::json!([chosen]), "the chosen row alone is marked");
    assert_eq!(seen["row_visible"], true, "and still in view: {seen}");
    let marked =
        s.script("return getComputedStyle(document.querySelector('#tx-rows tr[aria-selected=true]')).boxShadow");
    assert!(marked.as_str().unwrap().contains("inset"), "marked by a bar at its edge: {marked}");
    std::fs::write(evidence.join("window-detail-720.png"), s.screenshot_png()).unwrap();

    // Down and up walk the rows, the detail following.
    s.type_keys(ARROW_DOWN);
    let next = s.script("return document.querySelector('#tx-rows tr:nth-child(46)').dataset.reference");
    s.wait_for("the next row's detail", Duration::from_secs(10), &format!("const v = (() => {{ {PANEL_IN_VIEW} }})(); return v && v.reference === {next} && v.selected.length === 1 && v.selected[0] === {next}"));
    s.type_keys(ARROW_UP);
    s.type_keys(ARROW_UP);
    let above = s.script("return document.querySelector('#tx-rows tr:nth-child(44)').dataset.reference");
    s.wait_for(
        "two rows up",
        Duration::from_secs(10),
        &format!("const v = (() => {{ {PANEL_IN_VIEW} }})(); return v && v.reference === {above} && v.row_visible"),
    );
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

    // Reports: a chart with axes at the width it is shown, gross / refunded / net a day with
    // a total row, by provider on request, exported with `report daily`'s numbers.
    let cli = paydesk_e2e::run(
        {
            let mut c = paydesk_e2e::paydesk(home.path());
            c.args(["--json", "report", "daily", "--period", "this_month", "--by", "provider"]);
            c
        },
        None,
    );
    assert_eq!(cli.code, 0, "{}", cli.stderr);
    let report: Vec<serde_json::Value> = serde_json::from_str(&cli.stdout).unwrap();
    let total = report.iter().find(|r| r["day"] == "total").unwrap();
    assert_eq!(
        (&total["gross"], &total["refunded"]),
        (&serde_json::json!("1540.00"), &serde_json::json!("3.00")),
        "{total}"
    );
    s.click("#tab-reports");
    s.wait_for("the report", Duration::from_secs(10), "return document.getElementById('report-charts').dataset.ready === 'true' && document.querySelector('#report-charts svg')");
    let chart = s.script(
        "const c = document.querySelector('#report-charts svg[data-currency=USD]'); \
         return { axes: c.querySelectorAll('.chart-axis').length, ticks: [...c.querySelectorAll('text.chart-label[text-anchor=end]')].map(t => t.textContent), \
           title: c.querySelector('.chart-title').textContent, width: c.getBoundingClientRect().width, shown: document.getElementById('report-charts').clientWidth, \
           refunded: c.querySelectorAll('rect.refunded').length }",
    );
    assert_eq!(chart["axes"], 2, "{chart}");
    assert_eq!(chart["ticks"], serde_json::json!(["0", "1,000", "2,000"]), "0, half and a round top: {chart}");
    assert_eq!(chart["title"], "USD: 1,540.00 USD taken · 3.00 USD refunded · 1,537.00 USD net", "{chart}");
    assert!(chart["refunded"].as_u64().unwrap() >= 1, "refunds shown on the bars: {chart}");
    assert!(
        (chart["width"].as_f64().unwrap() - chart["shown"].as_f64().unwrap()).abs() < 2.0,
        "drawn at its width: {chart}"
    );
    let totals =
        s.script("return [...document.querySelectorAll('#report-rows tr.total td')].map(td => td.textContent)");
    assert_eq!(totals, serde_json::json!(["Total", "USD", "", "55", "1,540.00 USD", "3.00 USD", "1,537.00 USD"]));
    s.tick("#report-by-provider");
    s.wait_for(
        "rows by provider",
        Duration::from_secs(10),
        "return document.getElementById('report-table').classList.contains('by-provider') && [...document.querySelectorAll('#report-rows tr:not(.total) td:nth-child(3)')].every(td => td.textContent === 'pockyt')",
    );
    let file = home.path().join("report.csv");
    s.script(&format!("import('./reports.js').then(m => m.exportReportTo({:?})); return true", file.to_str().unwrap()));
    let said = s.wait_for(
        "the report exported",
        Duration::from_secs(10),
        "const m = document.getElementById('report-message'); return !m.hidden && m.textContent",
    );
    assert_eq!(said, format!("Exported {} rows to report.csv.", report.len()));
    let csv = std::fs::read_to_string(&file).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("day,currency,provider,payments,gross,refunded,net"));
    for (line, row) in lines.zip(&report) {
        let want = format!(
            "{},{},{},{},{},{},{}",
            row["day"].as_str().unwrap(),
            row["currency"].as_str().unwrap(),
            row["provider"].as_str().unwrap_or(""),
            row["count"],
            row["gross"].as_str().unwrap(),
            row["refunded"].as_str().unwrap(),
            row["net"].as_str().unwrap()
        );
        assert_eq!(line, want, "the same numbers as report daily");
    }

    // Print…: laid out as on paper (the page's styles apply in the window's print frame),
    // and with no printer set up the window says so instead of a dialog that could only
    // save a file.
    s.click("#report-print");
    let said = s.wait_for(
        "no printer said",
        Duration::from_secs(10),
        "const n = document.getElementById('print-note'); return !n.hidden && n.textContent",
    );
    assert!(said.as_str().unwrap().contains("No printer is set up on this computer"), "{said}");
    assert_eq!(s.script("return document.getElementById('print-anyway').hidden"), false, "one button prints anyway");
    let laid_out = s.script(
        "const d = document.getElementById('print-frame').contentDocument; \
         return [getComputedStyle(d.querySelector('td.num')).textAlign, getComputedStyle(d.querySelector('tr.total td')).fontWeight]",
    );
    assert_eq!(laid_out, serde_json::json!(["right", "700"]), "the printed report keeps its layout");
    s.click("#print-note-close");
    assert_eq!(s.script("return document.getElementById('print-note').hidden"), true);
    s.post("/window/rect", serde_json::json!({"width": 720, "height": 560}));
    s.wait_for(
        "the chart redrawn for the narrow window",
        Duration::from_secs(5),
        "const c = document.querySelector('#report-charts svg'); return c && c.getBoundingClientRect().right <= innerWidth && Number(document.getElementById('report-charts').dataset.width) < 720",
    );
    std::fs::write(evidence.join("window-report-720.png"), s.screenshot_png()).unwrap();
    s.end();
    drop(driver);
}
