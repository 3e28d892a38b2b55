//! The real window at its smallest supported size (720×560) and at 1280×900, in the light
//! and the dark theme: nothing scrolls sideways, the Create button and New sale stay on
//! screen, the QR takes most of the height, and the key buttons keep WCAG AA contrast.

use paydesk_e2e::webdriver::{Driver, Session, ENTER, ESCAPE};
use paydesk_e2e::{bin_dir, binary};
use std::time::Duration;

/// Contrast ratio of an element's text on its background, computed in the page.
const CONTRAST: &str = r#"
const lum = (c) => { const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const bgOf = (e) => { while (e) { const c = getComputedStyle(e).backgroundColor; if (!/rgba\(.*, 0\)$/.test(c) && c !== 'transparent') return c; e = e.parentElement; } return 'rgb(255, 255, 255)'; };
const e = document.querySelector(arguments[0]);
const a = lum(getComputedStyle(e).color), b = lum(bgOf(e));
return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
"#;

fn contrast(s: &Session, css: &str) -> f64 {
    let v = s.post("/execute/sync", serde_json::json!({"script": CONTRAST, "args": [css]}));
    v.as_f64().unwrap_or_else(|| panic!("contrast of {css}: {v}"))
}

fn check(theme: &str, env: &[(&str, &str)]) {
    let home = tempfile::tempdir().unwrap();
    let evidence = bin_dir().parent().unwrap().join("e2e");
    std::fs::create_dir_all(&evidence).unwrap();
    let driver = Driver::start(home.path(), env);
    let s = Session::start(&driver.url, binary("paydesk-app").to_str().unwrap());
    s.wait_until_ready();
    let dark = s.script("return matchMedia('(prefers-color-scheme: dark)').matches");
    assert_eq!(dark, serde_json::json!(theme == "dark"), "the {theme} theme is in force");
    // The smallest the window allows, its default size, and a larger screen.
    for (w, h) in [(720u32, 560u32), (1100, 760), (1280, 900)] {
        s.post("/window/rect", serde_json::json!({"width": w, "height": h}));
        s.wait_for("the new size", Duration::from_secs(5), &format!("return Math.abs(window.outerWidth - {w}) < 40"));
        std::thread::sleep(Duration::from_millis(300));
        let size = format!("{theme} {w}x{h}");
        let sideways = "return document.documentElement.scrollWidth <= window.innerWidth + 1";
        // Layout settles after a resize: each check may take a moment to come true.
        let settled = |script: &str| -> serde_json::Value {
            for _ in 0..30 {
                if s.script(script) == serde_json::json!(true) {
                    return serde_json::json!(true);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            s.script(script)
        };
        assert_eq!(settled(sideways), true, "{size}: the counter scrolls sideways");
        {
            // At every size the header is one row: the tabs never take a second line.
            let rows = s.script(
                "return new Set([...document.querySelectorAll('.tab')].filter(t => !t.hidden).map(t => Math.round(t.getBoundingClientRect().top))).size",
            );
            assert_eq!(rows, 1, "{size}: the tabs wrap to {rows} rows");
        }
        let visible = |css: &str| {
            settled(&format!(
                "const r = document.querySelector({css:?}).getBoundingClientRect(); return r.bottom <= window.innerHeight + 1 && r.height > 0"
            ))
        };
        let create_visible = visible("#create");
        if create_visible != serde_json::json!(true) {
            std::fs::write(evidence.join(format!("window-{theme}-{w}x{h}-entry-failed.png")), s.screenshot_png())
                .unwrap();
        }
        let where_ = s.script("const r = document.getElementById('create').getBoundingClientRect(); return [r.top, r.bottom, window.innerWidth, window.innerHeight, window.outerHeight]");
        assert_eq!(create_visible, true, "{size}: the Create button is below the fold: {where_}");
        assert!(contrast(&s, "#create") >= 4.5, "{size}: Create button contrast {}", contrast(&s, "#create"));
        s.type_keys("5");
        s.type_keys(ENTER);
        s.wait_for(
            "the QR",
            Duration::from_secs(15),
            "const i = document.getElementById('qr-img'); return !document.getElementById('sale').hidden && i.complete && i.naturalWidth",
        );
        std::thread::sleep(Duration::from_millis(200));
        let share =
            s.script("return document.getElementById('qr-img').getBoundingClientRect().height / window.innerHeight");
        assert!(share.as_f64().unwrap() >= 0.45, "{size}: the QR takes {share} of the height");
        let overflow = s.script("return [document.getElementById('new-sale').getBoundingClientRect().bottom, window.innerHeight, document.getElementById('qr-img').getBoundingClientRect().height, document.querySelector('main').getBoundingClientRect().top]");
        std::fs::write(evidence.join(format!("window-{theme}-{w}x{h}-sale.png")), s.screenshot_png()).unwrap();
        assert_eq!(visible("#new-sale"), true, "{size}: New sale is below the fold: {overflow}");
        assert_eq!(settled(sideways), true, "{size}: the sale scrolls sideways");
        assert!(contrast(&s, "#new-sale") >= 4.5, "{size}: New sale contrast");
        std::fs::write(evidence.join(format!("window-{theme}-{w}x{h}-sale.png")), s.screenshot_png()).unwrap();
        // Settled by the sandbox: the PAID panel's button must read in both themes.
        let link = s.script("return document.getElementById('sale').dataset.link");
        let settle = link.as_str().unwrap().replace("/cashier/", "/sandbox/settle/");
        reqwest::blocking::Client::new().post(settle).json(&serde_json::json!({"outcome": "pay"})).send().unwrap();
        s.wait_for("PAID", Duration::from_secs(15), "return !document.getElementById('outcome').hidden");
        assert!(contrast(&s, "#next-sale") >= 4.5, "{size}: Next sale contrast {}", contrast(&s, "#next-sale"));
        assert_eq!(visible("#next-sale"), true, "{size}: Next sale is below the fold");
        s.type_keys(ESCAPE);
        s.wait_for("a fresh counter", Duration::from_secs(5), "return !document.getElementById('entry').hidden");
        s.click("#tab-transactions");
        s.wait_for("the list", Duration::from_secs(10), "return document.querySelectorAll('#tx-rows tr').length > 0");
        assert_eq!(settled(sideways), true, "{size}: Transactions scrolls sideways");
        std::fs::write(evidence.join(format!("window-{theme}-{w}x{h}-transactions.png")), s.screenshot_png()).unwrap();
        s.click("#tab-counter");
    }
    s.end();
    drop(driver);
}

#[test]
fn every_size_in_the_light_theme() {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: scripts/test runs this under Xvfb");
    check("light", &[("GTK_THEME", "Adwaita")]);
}

#[test]
fn every_size_in_the_dark_theme() {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: scripts/test runs this under Xvfb");
    check("dark", &[("GTK_THEME", "Adwaita:dark")]);
}
