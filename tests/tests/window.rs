//! The real window: paydesk-app under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! A person's path at the counter: type an amount, Enter, the QR shows, the customer pays
//! (through the sandbox hook), and the screen turns PAID by itself.

use paydesk_e2e::webdriver::{Driver, Session, ENTER, ESCAPE, F2};
use paydesk_e2e::{bin_dir, binary};
use std::time::Duration;

#[test]
fn counter_sale_turns_paid_in_the_real_window() {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: scripts/test runs this under Xvfb");
    let home = tempfile::tempdir().unwrap();
    let evidence = bin_dir().parent().unwrap().join("e2e");
    std::fs::create_dir_all(&evidence).unwrap();

    let driver = Driver::start(home.path(), &[]);
    let driver_url = driver.url.clone();
    let http = reqwest::blocking::Client::new();

    let app = binary("paydesk-app");
    let s = Session::start(&driver_url, app.to_str().unwrap());
    s.wait_until_ready();
    let badge = s.script("return document.getElementById('mode-badge').textContent");
    assert_eq!(badge, "DEMO", "demo mode is the default and visible");

    // Thousands are grouped as typed; ten digits before the point at most, and a point
    // after them still takes decimals.
    s.type_keys("12345678901.5");
    assert_eq!(s.script("return document.getElementById('amount-display').textContent"), "1,234,567,890.5");
    s.type_keys(ESCAPE);
    assert_eq!(s.script("return document.getElementById('create-label').textContent"), "Create QR");

    // Keyboard only: the amount, then Enter.
    s.type_keys("13.00");
    assert_eq!(s.script("return document.getElementById('amount-display').textContent"), "13.00");
    s.type_keys(ENTER);
    let width = s.wait_for(
        "the QR code",
        Duration::from_secs(15),
        "const i = document.getElementById('qr-img'); return !document.getElementById('sale').hidden && i.complete && i.naturalWidth",
    );
    // One pixel per module in the file; the page scales it up crisply.
    assert!(width.as_u64().unwrap() < 100, "QR drawn at one pixel per module: {width}");
    let shown = s.script("return document.getElementById('qr-img').getBoundingClientRect().width");
    assert!(shown.as_f64().unwrap() >= 300.0, "QR shown large: {shown}");
    assert_eq!(s.script("return getComputedStyle(document.getElementById('qr-img')).imageRendering"), "pixelated");
    assert_eq!(s.script("return document.getElementById('sale-amount').textContent"), "13.00 USD");
    assert_eq!(s.script("return document.getElementById('sale').dataset.method"), "qr", "counter QR is the default");
    assert_eq!(s.script("return document.getElementById('sale-wallet').textContent"), "Scan with Alipay");
    std::fs::write(evidence.join("window-qr.png"), s.screenshot_png()).unwrap();

    // The customer pays: the sandbox hook stands in for the phone.
    let link = s.script("return document.getElementById('sale').dataset.link");
    paydesk_e2e::settle(link.as_str().unwrap(), "pay");

    s.wait_for(
        "the PAID screen",
        Duration::from_secs(15),
        "return !document.getElementById('outcome').hidden && document.getElementById('outcome-title').textContent === 'PAID'",
    );
    assert_eq!(s.script("return document.getElementById('outcome-amount').textContent"), "13.00 USD");
    // Pushed, not polled: the notification turned the screen PAID, and no status query ran.
    assert_eq!(s.script("return document.getElementById('outcome').dataset.via"), "push");
    let paid_ref = s.script("return document.getElementById('sale-reference').textContent");
    // From the notification's arrival to PAID on screen, nothing asked the provider.
    let queried_after = paydesk_e2e::queries_after_notification(home.path(), paid_ref.as_str().unwrap());
    assert_eq!(queried_after, 0, "PAID came from the notification, pushed to the window");
    std::fs::write(evidence.join("window-paid.png"), s.screenshot_png()).unwrap();

    // One key starts the next sale.
    s.type_keys(ENTER);
    s.wait_for("a fresh counter", Duration::from_secs(5), "return !document.getElementById('entry').hidden");
    assert_eq!(s.script("return document.getElementById('amount-display').textContent"), "0");

    // The ledger shows it.
    s.click("#tab-transactions");
    s.wait_for(
        "the paid row",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#tx-rows tr'); return r.length === 1 && r[0].innerText.includes('Paid')",
    );
    let totals = s.script("return document.getElementById('tx-totals').textContent");
    assert_eq!(totals, "1 paid · 13.00 USD gross", "outcomes by count, then money taken");

    // The accountant refunds part of it from the detail view, confirming the amount.
    s.click("#tx-rows tr td:nth-child(2)");
    s.wait_for("the detail", Duration::from_secs(10), "return !document.getElementById('action-refund').hidden");
    assert_eq!(s.script("return document.getElementById('refund-amount').value"), "13.00");
    s.fill("#refund-amount", "4.00");
    s.click("#action-refund");
    let asked = s.wait_for(
        "the confirmation",
        Duration::from_secs(5),
        "return !document.getElementById('confirm').hidden && document.getElementById('confirm-text').textContent",
    );
    assert!(asked.as_str().unwrap().starts_with("Refund 4.00 USD of PD"), "{asked}");
    s.click("#confirm-yes");
    s.wait_for(
        "the partly refunded row",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#tx-rows tr'); return r.length === 1 && r[0].innerText.includes('Partly refunded')",
    );
    assert_eq!(
        s.script("return document.getElementById('refund-amount').value"),
        "9.00",
        "the remainder is offered next"
    );
    let done = s.wait_for(
        "the refund's confirmation",
        Duration::from_secs(5),
        "const m = document.getElementById('action-message'); return !m.hidden && document.getElementById('action-message-text').textContent",
    );
    assert!(done.as_str().unwrap().starts_with("Refunded 4.00 USD of PD"), "{done}");
    let fields = s.script("return document.getElementById('detail-fields').innerText");
    for shown in ["13.00 USD", "4.00 USD", "9.00 USD"] {
        assert!(fields.as_str().unwrap().contains(shown), "paid / refunded / remaining: {fields}");
    }

    // Amounts are checked before anything is asked, and the error stays until dismissed.
    for (typed, needle) in [
        ("20.00", "more than the 9.00 USD"),
        ("abc", "not an amount"),
        ("0", "more than zero"),
        ("13.505", "2 decimal"),
    ] {
        s.fill("#refund-amount", typed);
        s.click("#action-refund");
        let said = s.wait_for(
            "the refund amount error",
            Duration::from_secs(5),
            "const m = document.getElementById('action-message'); return !m.hidden && m.dataset.kind === 'error' && document.getElementById('action-message-text').textContent",
        );
        assert!(said.as_str().unwrap().contains(needle), "{typed}: {said}");
        assert_eq!(s.script("return document.getElementById('confirm').hidden"), true, "{typed}: nothing asked");
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.script("return document.getElementById('action-message').hidden"), false, "the error stays");
    std::fs::write(evidence.join("window-refund-error.png"), s.screenshot_png()).unwrap();
    s.click("#action-message-close");
    assert_eq!(s.script("return document.getElementById('action-message').hidden"), true);
    std::fs::write(evidence.join("window-transactions.png"), s.screenshot_png()).unwrap();

    // A regular customer is registered through the Customers screen.
    s.click("#tab-customers");
    s.fill("#cust-first-name", "Ada");
    s.fill("#cust-last-name", "Lovelace");
    s.fill("#cust-email", "ada@example.com");
    s.fill("#cust-country-code", "US");
    s.click("#cust-save");
    let refused = s.wait_for(
        "the state rule",
        Duration::from_secs(10),
        "const m = document.getElementById('cust-message'); return !m.hidden && m.textContent",
    );
    assert!(refused.as_str().unwrap().starts_with("State: is required"), "US needs a state, in words: {refused}");
    s.fill("#cust-state", "CA");
    s.fill("#cust-city", "Oakland");
    s.click("#cust-save");
    let registered = s.wait_for(
        "the registered customer",
        Duration::from_secs(10),
        "const m = document.getElementById('cust-message'); return m.textContent.startsWith('Registered customer') && m.dataset.customerNo",
    );
    s.wait_for(
        "the customer in the list",
        Duration::from_secs(10),
        &format!(
            "return [...document.querySelectorAll('#cust-rows tr')].some(r => r.dataset.customerNo === '{}')",
            registered.as_str().unwrap()
        ),
    );
    std::fs::write(evidence.join("window-customer.png"), s.screenshot_png()).unwrap();

    // F2 switches the counter to a payment link, which can carry the registered customer.
    s.click("#tab-counter");
    s.type_keys(F2);
    s.wait_for(
        "the customer choice",
        Duration::from_secs(10),
        &format!("return !document.getElementById('customer-field').hidden && document.querySelector(\"#customer option[value='{}']\")", registered.as_str().unwrap()),
    );
    s.click(&format!("#customer option[value='{}']", registered.as_str().unwrap()));
    assert_eq!(s.script("return document.getElementById('create-label').textContent"), "Create link");
    s.type_keys("20");
    s.type_keys(ENTER);
    s.wait_for(
        "the link sale",
        Duration::from_secs(15),
        "return !document.getElementById('sale').hidden && document.getElementById('sale').dataset.method === 'link'",
    );
    assert_eq!(s.script("return document.getElementById('copy-link').hidden"), false, "a link sale offers Copy link");
    assert_eq!(s.script("return document.getElementById('working').hidden"), true, "no longer contacting");
    s.type_keys(ESCAPE);
    s.type_keys(F2);
    assert_eq!(s.script("return document.getElementById('method-qr').getAttribute('aria-checked')"), "true");
    s.click("#tab-transactions");
    s.wait_for(
        "the link sale with its customer",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#tx-rows tr'); return r.length === 2",
    );
    s.click("#tx-rows tr:first-child td:nth-child(2)");
    // The detail of the earlier sale may still be open: wait for this one's.
    let fields = s.wait_for(
        "the link sale's detail",
        Duration::from_secs(10),
        "const f = document.getElementById('detail-fields').innerText; return !document.getElementById('tx-detail').hidden && f.includes('Payment link') && f",
    );
    assert!(fields.as_str().unwrap().contains(registered.as_str().unwrap()), "customer on the payment: {fields}");
    assert!(fields.as_str().unwrap().contains("Payment link"));
    s.click("#tab-settings");

    // Settings shows the demo profile; its token is built in, never displayed.
    let listed =
        s.wait_for("the profiles", Duration::from_secs(10), "return document.getElementById('profile-list').innerText");
    assert!(listed.as_str().unwrap().contains("token built in"), "{listed}");

    // A second store: added in Settings with its token (into the keyring), tested, chosen
    // with one click, used for a sale, then deleted without touching its history.
    let token = "5cbfb079f15b150122261c8537086d77a";
    let sandbox_base = link.as_str().unwrap().split("/cashier/").next().unwrap().to_string();
    // Settings shows the chain's head, to keep elsewhere (`ledger verify --head` checks it later).
    s.wait_for(
        "the head to keep",
        Duration::from_secs(10),
        "return /^[0-9a-f]{64}$/.test(document.getElementById('chain-head').textContent) && !document.getElementById('chain-head-line').hidden",
    );
    // Each provider asks for its own settings and secret, as it declares them: the form's
    // fields are exactly each provider's declared settings, and its secret as it names it.
    let providers = paydesk_core::providers::provider_infos();
    assert!(providers.len() >= 3);
    for p in &providers {
        s.click(&format!("#pf-provider option[value={}]", p.provider));
        let form = s.script(
            "const shown = [...document.getElementById('pf-settings').children].filter(e => !e.hidden); \
             return { keys: shown.map(e => e.dataset.key), labels: shown.map(e => e.textContent.replace('*', '').trim()), \
                      secret: document.getElementById(document.getElementById('pf-key-field').hidden ? 'pf-token-label' : 'pf-key-label').textContent }",
        );
        let keys: Vec<&str> = p.settings.iter().map(|d| d.key).collect();
        let labels: Vec<&str> = p.settings.iter().map(|d| d.label).collect();
        assert_eq!(form["keys"], serde_json::json!(keys), "{}'s form is its declaration", p.label);
        assert_eq!(form["labels"], serde_json::json!(labels), "{}'s labels", p.label);
        assert_eq!(form["secret"], p.secret.label, "{}'s secret", p.label);
    }
    s.click("#pf-provider option[value=pockyt]");
    s.fill("#pf-name", "Store-2");
    s.click("#pf-environment option[value=custom]");
    s.fill("#pf-base-url", &sandbox_base);
    s.fill("#pf-merchant-no", "200043");
    s.fill("#pf-store-no", "300014");
    s.fill("#pf-ipn-url", &format!("{sandbox_base}/sandbox/ipn-sink"));
    s.fill("#pf-callback-url", &format!("{sandbox_base}/return"));
    s.fill("#pf-token", token);
    s.click("#pf-save");
    let saved = s.wait_for(
        "the saved profile",
        Duration::from_secs(10),
        "const m = document.getElementById('profile-message'); return m.textContent.startsWith('Saved') && m.textContent",
    );
    assert!(saved.as_str().unwrap().contains("API secret saved in the OS keyring"), "{saved}");
    s.wait_for(
        "Store-2 listed with its token saved",
        Duration::from_secs(10),
        "const li = document.querySelector('li[data-profile=\"Store-2\"]'); return li && li.innerText.includes('token saved')",
    );
    let leaked = s.script(&format!(
        "return document.body.innerText.includes('{token}') || [...document.querySelectorAll('input')].some(i => i.value.includes('{token}'))"
    ));
    assert_eq!(leaked, false, "the token is never shown once saved");
    s.click("li[data-profile=\"Store-2\"] .actions button:nth-child(2)");
    let tested = s.wait_for(
        "the connection test",
        Duration::from_secs(10),
        "const m = document.querySelector('li[data-profile=\"Store-2\"] .row-message'); const t = m && m.textContent; return t && t.startsWith('Connected') && t",
    );
    assert!(tested.as_str().unwrap().contains("signature accepted"), "the result beside the profile tested: {tested}");
    s.click("li[data-profile=\"Store-2\"] .actions button:nth-child(1)");
    assert_eq!(s.script("return document.getElementById('profile-switch').value"), "Store-2");
    assert_eq!(s.script("return document.getElementById('mode-badge').textContent"), "CUSTOM");
    s.wait_for(
        "Store-2 marked in use",
        Duration::from_secs(5),
        "const li = document.querySelector('li[data-profile=\"Store-2\"]'); return li && li.dataset.inUse === 'true'",
    );
    let strip = s.script("return document.getElementById('mode-strip').textContent");
    assert!(strip.as_str().unwrap().starts_with("Custom address"), "an honest label: {strip}");
    std::fs::write(evidence.join("window-settings.png"), s.screenshot_png()).unwrap();

    s.click("#tab-counter");
    s.type_keys("5");
    s.type_keys(ENTER);
    s.wait_for(
        "the Store-2 QR",
        Duration::from_secs(15),
        "return !document.getElementById('sale').hidden && document.getElementById('qr-img').naturalWidth",
    );
    let link2 = s.script("return document.getElementById('sale').dataset.link");
    let resp = http.post(link2.as_str().unwrap().replace("/cashier/", "/sandbox/settle/")).send().unwrap();
    assert!(resp.status().is_success());
    s.wait_for("PAID for Store-2", Duration::from_secs(15), "return document.getElementById('outcome-title').textContent === 'PAID' && !document.getElementById('outcome').hidden");
    s.type_keys(ESCAPE);

    s.click("#tab-settings");
    s.wait_for(
        "the profile list",
        Duration::from_secs(10),
        "return !document.getElementById('profile-list').dataset.loading && document.querySelector('li[data-profile=\"Store-2\"] .danger')",
    );
    s.click("li[data-profile=\"Store-2\"] .danger");
    // Asked first, in the row.
    let asked = s.wait_for(
        "the delete confirmation",
        Duration::from_secs(5),
        "const t = document.querySelector('li[data-profile=\"Store-2\"] .confirm-text'); return t && t.textContent",
    );
    assert!(asked.as_str().unwrap().contains("payments stay in the ledger"), "{asked}");
    s.click("li[data-profile=\"Store-2\"] .confirm-yes");
    s.wait_for(
        "the deletion",
        Duration::from_secs(10),
        "return document.getElementById('profile-message').textContent.includes('stay in the ledger')",
    );
    s.click("#tab-transactions");
    s.wait_for(
        "both payments still listed",
        Duration::from_secs(10),
        "return document.getElementById('tx-totals').textContent === '1 cancelled · 1 paid · 1 partly refunded · 18.00 USD gross · 4.00 USD refunded · 14.00 USD net'",
    );

    // The provider does not answer: the payment is kept, and Enter sends the same one again.
    let sandbox_faults = format!("{sandbox_base}/sandbox/faults");
    s.click("#tab-counter");
    let fault = http
        .post(&sandbox_faults)
        .json(&serde_json::json!({"endpoint": "create-trans-qrcode", "fault": "no_answer", "times": 1}))
        .send()
        .unwrap();
    assert!(fault.status().is_success());
    s.type_keys("6");
    s.type_keys(ENTER);
    let kept = s.wait_for(
        "the kept payment",
        Duration::from_secs(15),
        "const e = document.getElementById('counter-error'); return !e.hidden && document.getElementById('create').dataset.reference",
    );
    std::fs::write(evidence.join("window-unreachable.png"), s.screenshot_png()).unwrap();
    // One sentence: what happened and what to do; one button doing it.
    let said = s.script("return document.getElementById('counter-error').textContent");
    assert!(
        said.as_str().unwrap().starts_with("Pockyt did not answer (")
            && said.as_str().unwrap().ends_with("; the payment is kept, so try again."),
        "{said}"
    );
    assert_eq!(s.script("return document.getElementById('create-label').textContent"), "Try again");
    assert_eq!(s.script("return document.querySelectorAll('#entry button:not([hidden])').length > 0 && [...document.querySelectorAll('#entry button')].filter(b => !b.hidden && /again/i.test(b.textContent)).length"), 1);
    s.type_keys(ENTER);
    s.wait_for("the resent sale", Duration::from_secs(15), "return !document.getElementById('sale').hidden");
    assert_eq!(s.script("return document.getElementById('sale-reference').textContent"), kept, "the same payment");
    s.type_keys(ESCAPE);
    assert_eq!(cli_status(home.path(), kept.as_str().unwrap()), "cancelled");

    // A sale left with Esc is cancelled at the provider: the customer can no longer pay it.
    s.type_keys("8");
    s.type_keys(ENTER);
    s.wait_for("the sale to leave", Duration::from_secs(15), "return !document.getElementById('sale').hidden");
    let left = s.script("return document.getElementById('sale-reference').textContent");
    s.type_keys(ESCAPE);
    let cancelled = cli_status(home.path(), left.as_str().unwrap());
    assert_eq!(cancelled, "cancelled", "an abandoned sale is cancelled at the provider");

    // When the provider cannot cancel it, the counter keeps watching: a late payment raises
    // an alert with its amount, never passes silently.
    s.type_keys("7");
    s.type_keys(ENTER);
    s.wait_for("the sale to abandon", Duration::from_secs(15), "return !document.getElementById('sale').hidden");
    let late_link = s.script("return document.getElementById('sale').dataset.link");
    let late_ref = s.script("return document.getElementById('sale-reference').textContent");
    let fault = http
        .post(&sandbox_faults)
        .json(&serde_json::json!({"endpoint": "cancel", "fault": "unreachable", "times": 1}))
        .send()
        .unwrap();
    assert!(fault.status().is_success(), "fault: {}", fault.status());
    s.type_keys(ESCAPE);
    s.wait_for("a fresh counter", Duration::from_secs(5), "return !document.getElementById('entry').hidden");
    std::thread::sleep(Duration::from_millis(500));
    let settle_url = late_link.as_str().unwrap().replace("/cashier/", "/sandbox/settle/");
    let resp = http.post(&settle_url).json(&serde_json::json!({"outcome": "pay"})).send().unwrap();
    assert!(resp.status().is_success(), "settle: {}", resp.status());
    let alert = s.wait_for(
        "the late-payment alert",
        Duration::from_secs(20),
        "const a = document.querySelector('#late-alerts .notice span'); return a && a.textContent",
    );
    assert!(alert.as_str().unwrap().contains("7.00 USD"), "{alert}");
    assert!(alert.as_str().unwrap().contains(late_ref.as_str().unwrap()), "{alert}");
    std::fs::write(evidence.join("window-late-payment.png"), s.screenshot_png()).unwrap();
    s.click("#late-alerts .notice button");

    s.end();
    drop(driver);
}

/// A payment's status in the window's own ledger, through the CLI (the same core).
fn cli_status(home: &std::path::Path, reference: &str) -> String {
    for _ in 0..50 {
        let out = paydesk_e2e::run(
            {
                let mut c = paydesk_e2e::paydesk(home);
                c.args(["--json", "tx", "show", reference]);
                c
            },
            None,
        );
        let status = out.json()["payment"]["status"].as_str().unwrap_or_default().to_string();
        if status.is_empty() {
            let list = paydesk_e2e::run(
                {
                    let mut c = paydesk_e2e::paydesk(home);
                    c.args(["tx", "list", "--limit", "20"]);
                    c
                },
                None,
            );
            panic!("tx show {reference}: {}\n{}\nledger: {}", out.stdout, out.stderr, list.stdout);
        }
        if status != "pending" {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    "pending".into()
}

/// PayKKa in the real window: a profile added in Settings (with the merchant's private key
/// pasted, into the keyring), a sale authorised only and its card saved on the hosted page,
/// part of it captured as the last capture, some of that refunded, and the saved card
/// removed on the Cards on file screen.
#[test]
fn paykka_sale_capture_refund_and_card_on_file_in_the_real_window() {
    const MERCHANT_PRIVATE: &str = include_str!("../../crates/gateways/test-vectors/paykka-test-merchant-private.pem");
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: scripts/test runs this under Xvfb");
    let home = tempfile::tempdir().unwrap();
    let evidence = bin_dir().parent().unwrap().join("e2e");
    std::fs::create_dir_all(&evidence).unwrap();
    let driver = Driver::start(home.path(), &[]);
    let http = reqwest::blocking::Client::new();
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();

    // Demo mode offers PayKKa's demo profile beside Pockyt's; its base URL names the sandbox.
    s.click("#tab-settings");
    let paykka_base = s.wait_for(
        "PayKKa's demo profile",
        Duration::from_secs(10),
        "const li = document.querySelector('li[data-profile=\"demo-paykka\"]'); return li && li.dataset.baseUrl",
    );
    let paykka_base = paykka_base.as_str().unwrap().to_string();
    let root = paykka_base.trim_end_matches("/paykka").to_string();
    let platform_key = http.get(format!("{paykka_base}/sandbox/platform-public-key")).send().unwrap().text().unwrap();

    s.click("#pf-provider option[value=paykka]");
    s.fill("#pf-name", "Shop-K");
    s.click("#pf-environment option[value=custom]");
    s.fill("#pf-base-url", &paykka_base);
    s.fill("#pf-merchant-id", "18356675194960");
    s.fill("#pf-app-id", "paydesk-demo");
    s.fill("#pf-ipn-url", &format!("{root}/sandbox/ipn-sink"));
    s.fill("#pf-callback-url", &format!("{root}/return"));
    // Keys are pasted, not typed.
    let paste = |css: &str, text: &str| {
        s.script(&format!(
            "const e = document.querySelector({css:?}); e.value = {}; e.dispatchEvent(new Event('input')); return true",
            serde_json::to_string(text).unwrap()
        ));
    };
    paste("#pf-platform-public-key", &platform_key);
    paste("#pf-key", MERCHANT_PRIVATE);
    s.click("#pf-save");
    let saved = s.wait_for(
        "the saved PayKKa profile",
        Duration::from_secs(15),
        "const m = document.getElementById('profile-message'); return m.textContent.length > 0 && !m.textContent.startsWith('Testing') && m.textContent",
    );
    assert!(saved.as_str().unwrap().starts_with("Saved Shop-K"), "{saved}");
    let key_line = MERCHANT_PRIVATE.lines().nth(1).unwrap();
    let leaked = s.script(&format!(
        "return document.body.innerText.includes('{key_line}') || [...document.querySelectorAll('input, textarea')].some(i => i.value.includes('{key_line}'))"
    ));
    assert_eq!(leaked, false, "the private key is never shown once saved");
    s.wait_for(
        "Shop-K listed with its key saved",
        Duration::from_secs(10),
        "const li = document.querySelector('li[data-profile=\"Shop-K\"]'); return li && li.innerText.includes('key saved')",
    );
    s.click("li[data-profile=\"Shop-K\"] .actions button:nth-child(1)");
    assert_eq!(s.script("return document.getElementById('profile-switch').value"), "Shop-K");

    // The counter offers what PayKKa does: no wallet to choose (its page offers them),
    // authorise-only, and a card saved for a shopper.
    s.click("#tab-counter");
    assert_eq!(s.script("return document.getElementById('wallet-field').hidden"), true);
    assert_eq!(s.script("return document.getElementById('sale-options').hidden"), false);
    s.type_keys("25.00");
    s.fill("#shopper-reference", "alice-w");
    s.tick("#manual-capture");
    s.tick("#save-card");
    assert_eq!(s.script("return document.getElementById('amount-display').textContent"), "25.00");
    s.type_keys(ENTER);
    s.wait_for(
        "the PayKKa QR",
        Duration::from_secs(15),
        "return !document.getElementById('sale').hidden && document.getElementById('qr-img').naturalWidth",
    );
    let link = s.script("return document.getElementById('sale').dataset.link");
    let link = link.as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{paykka_base}/checkout/")), "the hosted page: {link}");
    std::fs::write(evidence.join("window-paykka-qr.png"), s.screenshot_png()).unwrap();

    // The shopper pays on the hosted page with the test card and keeps it on file.
    let page = http
        .post(&link)
        .form(&[("card_number", "4242 4242 4242 4242"), ("expiry", "12/30"), ("cvc", "123"), ("save_card", "on")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Authorised"), "{page}");
    s.wait_for(
        "the AUTHORIZED screen (not in PAID's green)",
        Duration::from_secs(15),
        "return !document.getElementById('outcome').hidden && document.getElementById('outcome-title').textContent === 'AUTHORIZED' && getComputedStyle(document.getElementById('outcome')).backgroundColor === 'rgb(5, 80, 174)'",
    );
    s.type_keys(ENTER);

    // The accountant captures 15.00 of it (not the last capture): partly captured, with
    // money taken 15.00; then voids the rest and refunds 5.00.
    s.click("#tab-transactions");
    s.wait_for(
        "the authorised row",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#tx-rows tr'); return r.length === 1 && r[0].innerText.includes('Authorized')",
    );
    s.click("#tx-rows tr td:nth-child(2)");
    s.wait_for(
        "the capture action",
        Duration::from_secs(10),
        "return !document.getElementById('action-capture').hidden",
    );
    assert_eq!(s.script("return document.getElementById('capture-amount').value"), "25.00");
    assert_eq!(s.script("return document.getElementById('action-void').hidden"), false, "void while authorised");
    s.fill("#capture-amount", "15.00");
    s.click("#action-capture");
    let asked = s.wait_for(
        "the capture confirmation",
        Duration::from_secs(5),
        "return !document.getElementById('confirm').hidden && document.getElementById('confirm-text').textContent",
    );
    assert!(asked.as_str().unwrap().contains("15.00 USD"), "{asked}");
    s.click("#confirm-yes");
    s.wait_for(
        "the partly captured row",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#tx-rows tr'); return r.length === 1 && r[0].innerText.includes('Partly captured')",
    );
    s.wait_for(
        "the partly captured detail",
        Duration::from_secs(10),
        "return document.getElementById('detail-title').textContent === 'Partly captured 15.00 USD of 25.00 USD'",
    );
    assert_eq!(s.script("return document.getElementById('action-void').hidden"), false, "the rest can be voided");
    assert_eq!(s.script("return document.getElementById('capture-amount').value"), "10.00", "the rest can be captured");
    s.wait_for(
        "money taken in the totals",
        Duration::from_secs(10),
        "return document.getElementById('tx-totals').textContent === '1 partly captured · 15.00 USD gross'",
    );
    std::fs::write(evidence.join("window-paykka-partly-captured.png"), s.screenshot_png()).unwrap();
    s.click("#action-void");
    let asked = s.wait_for(
        "the void confirmation",
        Duration::from_secs(5),
        "return !document.getElementById('confirm').hidden && document.getElementById('confirm-text').textContent",
    );
    assert!(
        asked.as_str().unwrap().starts_with("Void the rest of PD") && asked.as_str().unwrap().contains("10.00 USD"),
        "{asked}"
    );
    s.click("#confirm-yes");
    s.wait_for(
        "the captured (paid) row",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#tx-rows tr'); return r.length === 1 && r[0].innerText.includes('Paid')",
    );
    s.wait_for("the refund action", Duration::from_secs(10), "return !document.getElementById('action-refund').hidden");
    assert_eq!(
        s.script("return document.getElementById('refund-amount').value"),
        "15.00",
        "refundable: what was captured"
    );
    assert_eq!(s.script("return document.getElementById('action-capture').hidden"), true, "the void closed it");
    s.fill("#refund-amount", "5.00");
    s.click("#action-refund");
    s.wait_for("the refund confirmation", Duration::from_secs(5), "return !document.getElementById('confirm').hidden");
    s.click("#confirm-yes");
    s.wait_for(
        "the partly refunded row",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#tx-rows tr'); return r.length === 1 && r[0].innerText.includes('Partly refunded')",
    );
    let fields = s.script("return document.getElementById('detail-fields').innerText");
    for shown in ["25.00 USD", "15.00 USD", "5.00 USD"] {
        assert!(fields.as_str().unwrap().contains(shown), "authorised / captured / refunded: {fields}");
    }
    std::fs::write(evidence.join("window-paykka-detail.png"), s.screenshot_png()).unwrap();

    // The saved card, found by shopper reference and removed with confirmation.
    assert_eq!(s.script("return document.getElementById('tab-cards').hidden"), false);
    s.click("#tab-cards");
    s.fill("#cards-shopper", "alice-w");
    s.click("#cards-find");
    let token = s.wait_for(
        "the saved card",
        Duration::from_secs(10),
        "const r = document.querySelectorAll('#cards-rows tr'); return r.length === 1 && r[0].dataset.token",
    );
    // In words: brand, last four, expiry, use and status; the token only behind "details".
    let words =
        s.script("return [...document.querySelectorAll('#cards-rows tr td')].slice(0, 4).map(c => c.textContent)");
    assert_eq!(words, serde_json::json!(["VISA •••• 4242", "03/30", "Saved for later purchases", "Active"]));
    let shown = s.script("return document.querySelector('#cards-rows tr').innerText");
    assert!(!shown.as_str().unwrap().contains(token.as_str().unwrap()), "the token is folded away: {shown}");
    std::fs::write(evidence.join("window-paykka-cards.png"), s.screenshot_png()).unwrap();
    s.click("#cards-rows tr button");
    let asked = s.wait_for(
        "the removal confirmation",
        Duration::from_secs(5),
        "return !document.getElementById('cards-confirm').hidden && document.getElementById('cards-confirm-text').textContent",
    );
    assert!(asked.as_str().unwrap().starts_with("Remove VISA •••• 4242 of shopper alice-w?"), "{asked}");
    s.click("#cards-confirm-yes");
    let said = s.wait_for(
        "the card removed",
        Duration::from_secs(10),
        "const m = document.getElementById('cards-message'); return !m.hidden && document.querySelectorAll('#cards-rows tr').length === 0 && m.textContent",
    );
    assert!(said.as_str().unwrap().contains("removed"), "{said}");
    s.click("#cards-find");
    s.wait_for(
        "no cards left at the provider",
        Duration::from_secs(10),
        "return !document.getElementById('cards-empty').hidden",
    );

    // Back on a Pockyt profile, the PayKKa-only screens and choices go away.
    s.click("#profile-switch option[value=demo]");
    s.wait_for("the counter again", Duration::from_secs(5), "return document.getElementById('tab-cards').hidden");
    assert_eq!(s.script("return document.getElementById('sale-options').hidden"), true);
    s.end();
    drop(driver);
}

/// Vexora in the real window, through its demo profile: the counter asks for the payer
/// (the channel's own fields only), sells by convenience store and turns PAID; the next
/// sale needs only its amount (the payer stays), and a partial payment shows PARTLY PAID
/// with what arrived.
#[test]
fn vexora_store_sale_paid_then_partly_paid_in_the_real_window() {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: scripts/test runs this under Xvfb");
    let home = tempfile::tempdir().unwrap();
    let evidence = bin_dir().parent().unwrap().join("e2e");
    std::fs::create_dir_all(&evidence).unwrap();
    let driver = Driver::start(home.path(), &[]);
    let http = reqwest::blocking::Client::new();
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();

    // A payer an older counter kept in the web view moves into the ledger once, and leaves it.
    s.script(
        "localStorage.setItem('paydesk.payers', JSON.stringify({'0987654321': {mobile: '0987654321', first_name: 'Old', last_name: 'Friend', at: 1}})); location.reload(); return true",
    );
    s.wait_until_ready();
    s.wait_for(
        "the old payers moved",
        Duration::from_secs(10),
        "return localStorage.getItem('paydesk.payers') === null",
    );
    s.click("#profile-switch option[value=demo-vexora]");
    s.wait_for("the payer fields", Duration::from_secs(5), "return !document.getElementById('payer').hidden");
    s.fill("#payer-mobile", "0987654321");
    s.wait_for(
        "the moved payer recalled by number",
        Duration::from_secs(5),
        "return document.getElementById('payer-first-name').value === 'Old'",
    );
    s.click("#payer-forget");
    s.wait_for(
        "the payer forgotten",
        Duration::from_secs(5),
        "return document.getElementById('payer-said').textContent.startsWith('Forgotten') && document.getElementById('payer-mobile').value === ''",
    );
    assert_eq!(s.script("return document.getElementById('currency').value"), "TWD");
    assert_eq!(s.script("return document.getElementById('wallet-field').hidden"), true);
    s.click("#payer-channel option[value=STORE]");
    let shown = s.script(
        "return [...document.querySelectorAll('.payer-field')].filter(l => !l.hidden).map(l => l.dataset.field).join(',')",
    );
    assert_eq!(
        shown, "channel,mobile,first_name,last_name,email,postcode,address",
        "STORE asks postcode and address; never the payer's IP address (the profile's public one goes)"
    );
    s.click("#payer-channel option[value=NET_BANKING]");
    assert_eq!(
        s.script("return document.querySelector('.payer-field[data-field=bank_number]').hidden"),
        false,
        "a bank transfer asks for the payer's account"
    );
    s.click("#payer-channel option[value=STORE]");
    // Every problem at once, each under its field, before anything is sent.
    s.fill("#payer-mobile", "12345");
    s.fill("#payer-postcode", "10a");
    s.click("#amount-display");
    s.type_keys("300");
    s.type_keys(ENTER);
    let marked = s.wait_for(
        "the payer's problems under their fields",
        Duration::from_secs(10),
        "const m = [...document.querySelectorAll('#payer .field-error')].map(e => e.dataset.field); return m.length > 1 && m",
    );
    assert_eq!(
        marked,
        serde_json::json!(["mobile", "first_name", "last_name", "email", "postcode", "address"]),
        "all at once"
    );
    assert_eq!(
        s.script("return document.getElementById('counter-error').textContent"),
        "6 payer details need fixing; each is marked under its field."
    );
    s.type_keys(ESCAPE);
    s.fill("#payer-mobile", "0912345678");
    s.fill("#payer-first-name", "Mei");
    s.fill("#payer-last-name", "Lin");
    s.fill("#payer-email", "mei@example.com");
    s.fill("#payer-postcode", "100");
    s.fill("#payer-address", "1 Zhongshan Rd, Taipei");
    s.click("#amount-display");
    s.type_keys("300");
    assert_eq!(s.script("return document.getElementById('amount-display').textContent"), "300");
    s.type_keys(ENTER);
    s.wait_for(
        "the Vexora QR",
        Duration::from_secs(15),
        "return !document.getElementById('sale').hidden && document.getElementById('qr-img').naturalWidth",
    );
    assert_eq!(s.script("return document.getElementById('sale-amount').textContent"), "300.00 TWD");
    let link = s.script("return document.getElementById('sale').dataset.link");
    let link = link.as_str().unwrap().to_string();
    assert!(link.contains("/vexora/pay/"), "{link}");
    std::fs::write(evidence.join("window-vexora-qr.png"), s.screenshot_png()).unwrap();
    let settle = |link: &str, outcome: &str| {
        let r = http
            .post(link.replace("/pay/", "/sandbox/settle/"))
            .json(&serde_json::json!({ "outcome": outcome }))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "settle: {}", r.status());
    };
    settle(&link, "pay");
    s.wait_for(
        "the PAID screen",
        Duration::from_secs(15),
        "return !document.getElementById('outcome').hidden && document.getElementById('outcome-title').textContent === 'PAID'",
    );
    s.type_keys(ENTER);

    // The next customer sees nobody's details; the same payer again is their number away.
    s.wait_for("a fresh counter", Duration::from_secs(5), "return !document.getElementById('entry').hidden");
    assert_eq!(s.script("return document.getElementById('payer-mobile').value"), "");
    assert_eq!(s.script("return document.getElementById('payer-first-name').value"), "");
    assert_eq!(
        s.script("return localStorage.getItem('paydesk.payers')"),
        serde_json::Value::Null,
        "nothing in the web view"
    );
    s.fill("#payer-mobile", "0912345678");
    s.wait_for(
        "the payer recalled by number",
        Duration::from_secs(5),
        "return document.getElementById('payer-first-name').value === 'Mei' && document.getElementById('payer-address').value === '1 Zhongshan Rd, Taipei'",
    );
    s.click("#amount-display");
    s.type_keys("500");
    s.type_keys(ENTER);
    s.wait_for("the second QR", Duration::from_secs(15), "return !document.getElementById('sale').hidden");
    let link = s.script("return document.getElementById('sale').dataset.link");
    settle(link.as_str().unwrap(), "partial");
    let detail = s.wait_for(
        "the PARTLY PAID screen",
        Duration::from_secs(15),
        "return !document.getElementById('outcome').hidden && document.getElementById('outcome-title').textContent === 'PARTLY PAID' && document.getElementById('outcome-detail').textContent",
    );
    assert!(
        detail.as_str().unwrap().starts_with("250.00 TWD of 500.00 TWD received — 250.00 TWD still due · PD"),
        "{detail}"
    );
    assert_eq!(
        s.script("return document.getElementById('outcome-amount').textContent"),
        "250.00 TWD",
        "what arrived, large"
    );
    assert_eq!(s.script("return document.getElementById('collect-rest').textContent"), "Collect the rest (250.00 TWD)");
    // The customer display says the same, without a QR.
    let shown = s.script("return window.__TAURI_INTERNALS__.invoke('display_state')");
    assert_eq!(
        (&shown["phase"], &shown["title"], &shown["amount"]),
        (&serde_json::json!("partly_paid"), &serde_json::json!("PARTLY PAID"), &serde_json::json!("250.00 TWD")),
        "{shown}"
    );
    assert_eq!(shown["note"], "250.00 TWD of 500.00 TWD received — 250.00 TWD still due");
    assert!(shown.get("qr").is_none(), "no QR left to scan: {shown}");
    assert_eq!(shown["badge"], "DEMO", "a demo sale says so to the customer too");
    s.wait_for(
        "the refund offer settled",
        Duration::from_secs(5),
        "return document.getElementById('refund-arrived').hidden",
    );
    std::fs::write(evidence.join("window-vexora-partly-paid.png"), s.screenshot_png()).unwrap();
    let first = s.script("return document.getElementById('sale-reference').textContent");

    // Collect the rest: a new sale for what is due, linked to the first, the payer reused.
    s.click("#collect-rest");
    let link = s.wait_for_qr();
    assert_eq!(s.script("return document.getElementById('sale-amount').textContent"), "250.00 TWD");
    let rest_ref = s.script("return document.getElementById('sale-reference').textContent");
    assert_ne!(rest_ref, first, "a sale of its own");
    settle(&link, "pay");
    s.wait_for(
        "the rest PAID",
        Duration::from_secs(15),
        "return !document.getElementById('outcome').hidden && document.getElementById('outcome-title').textContent === 'PAID'",
    );
    let history = s.script(&format!(
        "return window.__TAURI_INTERNALS__.invoke('payment_detail', {{ reference: {first} }}).then(d => d.events.filter(e => e.kind === 'rest_requested').map(e => e.detail.reference))"
    ));
    assert_eq!(history, serde_json::json!([rest_ref]), "the first sale names the one that collected its rest");
    s.type_keys(ENTER);

    s.click("#tab-transactions");
    s.wait_for(
        "both sales listed",
        Duration::from_secs(10),
        "const r = [...document.querySelectorAll('#tx-rows tr')].map(r => r.innerText); return r.length === 3 && r.some(t => t.includes('Partly paid')) && r.some(t => t.includes('Paid'))",
    );

    // The accountant: today's takings (what arrived: 300 + 250 of 500 + the rest 250), yesterday's none.
    s.click("#tx-period option[value=today]");
    s.wait_for(
        "today's totals",
        Duration::from_secs(10),
        "return document.getElementById('tx-totals').textContent === '2 paid · 1 partly paid · 800.00 TWD gross'",
    );
    let yesterday = s.script("const d = new Date(Date.now() - 86400000); return d.toISOString().slice(0, 10)");
    s.click("#tx-period option[value=custom]");
    s.script(&format!(
        "for (const id of ['tx-from', 'tx-to']) {{ const e = document.getElementById(id); e.value = {yesterday}; e.dispatchEvent(new Event('change')); }} return true"
    ));
    s.wait_for(
        "an empty day",
        Duration::from_secs(10),
        "return document.getElementById('tx-totals').textContent === '0 payments' && !document.getElementById('tx-empty').hidden",
    );
    s.click("#tx-period option[value=today]");
    s.wait_for("today again", Duration::from_secs(10), "return document.querySelectorAll('#tx-rows tr').length === 3");
    // The export the Save dialog starts, given the file it would have chosen.
    let file = home.path().join("today.csv");
    s.script(&format!(
        "window.__TAURI_INTERNALS__.invoke('export_ledger', {{ query: {{ period: 'today' }}, format: 'csv', path: {:?}, refunds: false, events: false }}).then(r => document.body.dataset.exported = r.payments); return true",
        file.display().to_string()
    ));
    s.wait_for("the export", Duration::from_secs(10), "return document.body.dataset.exported === '3'");
    let csv = std::fs::read_to_string(&file).unwrap();
    assert_eq!(csv.lines().count(), 4, "a header and three payments: {csv}");
    assert!(csv.contains("300.00") && csv.contains("250.00"), "{csv}");

    // The report: a chart of the days' takings.
    s.click("#tab-reports");
    let bars = s.wait_for(
        "the report chart",
        Duration::from_secs(10),
        "const c = document.querySelector('#report-charts svg[data-currency=TWD]'); return c && c.querySelectorAll('rect.bar').length",
    );
    assert!(bars.as_u64().unwrap() >= 1, "{bars}");
    std::fs::write(evidence.join("window-report.png"), s.screenshot_png()).unwrap();
    s.end();
    drop(driver);
}

/// Settings → Test connection → Details: the plain diagnosis, the clock skew to the
/// provider, and the exchange itself with its signature removed — what a shop sends its
/// provider's support.
#[test]
fn test_connection_shows_its_details_for_support() {
    let home = tempfile::tempdir().unwrap();
    let driver = Driver::start(home.path(), &[]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    s.click("#tab-settings");
    s.wait_for(
        "the demo profile's row",
        Duration::from_secs(10),
        "return !!document.querySelector('#profile-list li[data-profile=\"demo-paykka\"]')",
    );
    s.script(
        "[...document.querySelectorAll('#profile-list li[data-profile=\"demo-paykka\"] button')] \
         .find(b => b.textContent === 'Test connection').click()",
    );
    let diagnosis = s.wait_for(
        "the details",
        Duration::from_secs(15),
        "const d = document.querySelector('#profile-list li[data-profile=\"demo-paykka\"] .connection-details'); \
         return d && !d.hidden && d.dataset.diagnosis",
    );
    assert_eq!(diagnosis, "connected");
    let shown = s.script(
        "return document.querySelector('#profile-list li[data-profile=\"demo-paykka\"] .connection-details pre').textContent",
    );
    let shown = shown.as_str().unwrap();
    assert!(shown.contains("/v3/payment/acq/query"), "{shown}");
    assert!(shown.contains("\"x-paykka-sign\": \"(removed)\""), "the signature is removed: {shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    s.end();
}

/// Two shops in one ledger, in the accountant's window: the list starts at this counter's
/// shop (the demo's, "main"), "All shops" shows every sale and each shop's totals beside the
/// whole.
#[test]
fn transactions_start_at_this_counters_shop_and_show_each_shops_totals() {
    let home = tempfile::tempdir().unwrap();
    let sandbox = paydesk_e2e::SandboxProcess::start(home.path(), "127.0.0.1:0");
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut c = paydesk_e2e::paydesk(home.path());
        c.arg("--json").args(args);
        let r = paydesk_e2e::run(c, stdin);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        r.json()
    };
    let name = paydesk_e2e::unique_name("north");
    cli(
        &[
            "profile",
            "add",
            &name,
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
            "Taipei-101",
        ],
        None,
    );
    cli(&["secret", "set", &name], Some("5cbfb079f15b150122261c8537086d77a\n"));
    let north =
        cli(&["pay", "qr", "--profile", &name, "--amount", "8.00", "--currency", "USD", "--vendor", "alipay"], None);
    let north = north["reference"].as_str().unwrap().to_string();

    let driver = Driver::start(home.path(), &[]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    let here = s.sell_at_counter("3.00");
    assert!(!here.is_empty());
    s.click("#tab-transactions");
    s.wait_for(
        "the shop filter at this counter's shop",
        Duration::from_secs(10),
        "const f = document.getElementById('tx-shop'); return !f.hidden && f.value === 'main'",
    );
    s.wait_for(
        "only this shop's sale",
        Duration::from_secs(10),
        "return document.querySelectorAll('#tx-rows tr[data-reference]').length === 1",
    );
    let listed =
        s.script("return [...document.querySelectorAll('#tx-rows tr')].map(r => r.dataset.reference).join(' ')");
    assert!(!listed.as_str().unwrap().contains(&north), "{listed}");
    s.script("const f = document.getElementById('tx-shop'); f.value = ''; f.dispatchEvent(new Event('change'))");
    s.wait_for(
        "every shop's sale and each shop's totals",
        Duration::from_secs(10),
        "return document.querySelectorAll('#tx-rows tr[data-reference]').length === 2 \
         && document.querySelectorAll('#tx-shop-totals .shop-total').length === 2",
    );
    let shops = s.script(
        "return [...document.querySelectorAll('#tx-shop-totals .shop-total')].map(e => e.dataset.shop).join(',')",
    );
    assert_eq!(shops, "Taipei-101,main");
    s.end();
    let _ = cli(&["secret", "delete", &name], None);
}

/// Esc while the provider is slow: typed 3, Enter, Esc, 7 — the counter says "Sale
/// cancelled", never shows a QR for the 3.00 when its answer comes late, shows 7, and the
/// 3.00 sale is cancelled at the provider (nobody can pay it).
#[test]
fn esc_during_a_slow_create_never_shows_the_older_amounts_qr() {
    let home = tempfile::tempdir().unwrap();
    let driver = Driver::start(home.path(), &[]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    // The sandbox's address, from a first sale's link.
    let link = s.sell_at_counter("1.00");
    s.type_keys(ESCAPE);
    let sandbox_base = link.split("/cashier/").next().unwrap().to_string();
    let http = reqwest::blocking::Client::new();
    let slow = http
        .post(format!("{sandbox_base}/sandbox/faults"))
        .json(&serde_json::json!({"endpoint": "create-trans-qrcode", "fault": "delay", "ms": 2000, "times": 1}))
        .send()
        .unwrap();
    assert!(slow.status().is_success(), "{}", slow.status());

    s.wait_for("a fresh counter", Duration::from_secs(5), "return !document.getElementById('entry').hidden");
    s.type_keys("3");
    s.type_keys(ENTER);
    s.wait_for("the provider being asked", Duration::from_secs(5), "return !document.getElementById('working').hidden");
    s.type_keys(ESCAPE);
    assert_eq!(s.script("return document.getElementById('sale-cancelled').hidden"), false, "said at once");
    s.type_keys("7");
    s.wait_for("the late answer", Duration::from_secs(15), "return document.getElementById('working').hidden");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.script("return document.getElementById('sale').hidden"), true, "no QR for the older amount");
    assert_eq!(s.script("return document.getElementById('amount-display').textContent"), "7");

    // The 3.00 sale: recorded, then cancelled at the provider.
    let mut cancelled = String::new();
    for _ in 0..50 {
        let mut c = paydesk_e2e::paydesk(home.path());
        c.args(["--json", "tx", "list", "--min-amount", "3.00", "--max-amount", "3.00"]);
        let listed = paydesk_e2e::run(c, None).json();
        cancelled = listed[0]["status"].as_str().unwrap_or_default().to_string();
        if cancelled == "cancelled" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(cancelled, "cancelled", "the cancelled sale cannot be paid");
    s.end();
}

/// A first demo sale finishes at the counter alone: the QR points at the sandbox on this
/// computer, which no phone reaches, so the waiting screen (marked DEMO) lets the cashier
/// be the customer: pay, or decline; the outcome arrives as a real one would. A PayKKa
/// demo sale (its hosted page) is paid the same way.
#[test]
fn a_demo_sale_is_paid_or_declined_from_the_counter() {
    let home = tempfile::tempdir().unwrap();
    let path = paydesk_e2e::path_without_printers(home.path());
    let driver = Driver::start(home.path(), &[("PATH", &path)]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    let outcome = |title: &str| {
        s.wait_for(
            title,
            Duration::from_secs(15),
            &format!(
                "return !document.getElementById('outcome').hidden && document.getElementById('outcome-title').textContent === {title:?}"
            ),
        );
    };

    s.sell_at_counter("4.00");
    assert_eq!(s.script("return document.getElementById('demo-pay').hidden"), false, "offered in demo mode");
    assert_eq!(s.script("return document.querySelector('#demo-pay .badge').textContent"), "DEMO");
    s.click("#demo-pay-ok");
    outcome("PAID");
    // Print receipt with no printer set up: said, with one button to print anyway; the
    // receipt keeps its layout in the print frame.
    s.click("#print-receipt");
    let said = s.wait_for(
        "no printer said",
        Duration::from_secs(10),
        "const n = document.getElementById('print-note'); return !n.hidden && n.textContent",
    );
    assert!(said.as_str().unwrap().contains("No printer is set up on this computer"), "{said}");
    let receipt = s.script(
        "const d = document.getElementById('print-frame').contentDocument; \
         return [d.querySelector('.amount').textContent, getComputedStyle(d.querySelector('.amount')).fontWeight]",
    );
    assert_eq!(receipt[1], "700", "the receipt's own styles apply: {receipt}");
    assert!(receipt[0].as_str().unwrap().contains("4.00"), "{receipt}");
    s.click("#print-note-close");
    s.type_keys(ENTER);

    s.sell_at_counter("5.00");
    s.click("#demo-pay-decline");
    outcome("DECLINED");
    assert_eq!(s.script("return document.getElementById('outcome').dataset.status"), "failed");
    let said = s.script("return document.getElementById('outcome-detail').textContent");
    assert!(!said.as_str().unwrap().contains("provider:"), "in words, without the provider's code: {said}");
    s.type_keys(ENTER);

    // Esc mid-sale: the counter says the sale was cancelled, with its amount.
    s.sell_at_counter("7.00");
    s.type_keys(ESCAPE);
    let said = s.wait_for(
        "the sale said cancelled",
        Duration::from_secs(5),
        "const p = document.getElementById('sale-cancelled'); return !p.hidden && !document.getElementById('entry').hidden && p.textContent",
    );
    assert!(said.as_str().unwrap().starts_with("Sale cancelled: 7.00 USD"), "{said}");

    s.click("#profile-switch option[value=demo-paykka]");
    s.wait_for(
        "the PayKKa demo",
        Duration::from_secs(5),
        "return document.getElementById('profile-switch').value === 'demo-paykka'",
    );
    s.sell_at_counter("6.00");
    s.click("#demo-pay-ok");
    outcome("PAID");
    s.end();
    drop(driver);
}

#[test]
fn phones_on_this_network_pay_a_demo_sale() {
    // 127.0.0.2 stands for the shop's network address: tests send nothing off loopback, and
    // a sandbox only on 127.0.0.1 does not answer there.
    let home = tempfile::tempdir().unwrap();
    let driver = Driver::start(home.path(), &[("PAYDESK_LAN_ADDRESS", "127.0.0.2")]);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    let http = reqwest::blocking::Client::builder().no_proxy().build().unwrap();

    let link = s.sell_at_counter("3.00");
    assert!(link.starts_with("http://127.0.0.1:"), "loopback until phones are let in: {link}");
    let phone_side = link.replacen("127.0.0.1", "127.0.0.2", 1);
    assert!(http.get(&phone_side).send().is_err(), "a phone cannot reach a loopback sandbox");
    s.type_keys(ESCAPE);

    s.click("#tab-settings");
    s.wait_for("the demo section", Duration::from_secs(5), "return !document.getElementById('demo-settings').hidden");
    assert_eq!(s.script("return document.getElementById('demo-phones').checked"), false, "off by default");
    s.tick("#demo-phones");
    let url = s.wait_for(
        "the sandbox open to the network",
        Duration::from_secs(5),
        "return document.getElementById('demo-settings').dataset.url",
    );
    let url = url.as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.2:"), "{url}");
    let said = s.script("return document.getElementById('demo-message').textContent");
    assert!(said.as_str().unwrap().contains(&url), "Settings says where phones pay: {said}");

    // A new sale's QR now opens a page the phone reaches; paying there turns the counter PAID.
    s.click("#tab-counter");
    let link = s.sell_at_counter("4.00");
    assert!(link.starts_with(&format!("{url}/cashier/")), "{link}");
    let page = http.get(&link).send().unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    assert!(page.text().unwrap().contains("id=\"pay\""), "the customer page with its Pay button");
    let paid = http.post(format!("{link}/pay")).send().unwrap();
    assert!(paid.status().is_success() || paid.status().is_redirection(), "{}", paid.status());
    s.wait_for(
        "PAID from the phone",
        Duration::from_secs(15),
        "return !document.getElementById('outcome').hidden && document.getElementById('outcome-title').textContent === 'PAID'",
    );
    s.type_keys(ENTER);

    // Off again: the door closes and sales are back on this computer only.
    s.click("#tab-settings");
    s.wait_for("the demo section", Duration::from_secs(5), "return !document.getElementById('demo-settings').hidden");
    s.untick("#demo-phones");
    s.wait_for(
        "the door closed",
        Duration::from_secs(5),
        "return document.getElementById('demo-settings').dataset.url === ''",
    );
    let closed = http.get(&link).send();
    assert!(closed.as_ref().map_or(true, |r| r.status() == 503), "closed to the network: {closed:?}");
    s.click("#tab-counter");
    let link = s.sell_at_counter("5.00");
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    s.end();
    drop(driver);
}
