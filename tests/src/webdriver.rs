//! A small W3C WebDriver client over blocking HTTP: enough to drive the Paydesk window
//! through tauri-driver + WebKitWebDriver.

use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running tauri-driver (which starts WebKitWebDriver and, per session, the app) in its
/// own process group, so everything it started ends with it.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    /// Starts tauri-driver on free ports, with the app's ledger in `home`, and waits until
    /// it answers.
    pub fn start(home: &Path, env: &[(&str, &str)]) -> Driver {
        let port = free_port();
        let native_port = std::iter::repeat_with(free_port).find(|&p| p != port).unwrap();
        let child = Command::new(tauri_driver())
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("PAYDESK_HOME", home)
            // The web view's own storage (the remembered profile) per test, like the ledger.
            .env("XDG_DATA_HOME", home.join("xdg-data"))
            .env("XDG_CACHE_HOME", home.join("xdg-cache"))
            .env("NO_AT_BRIDGE", "1")
            // The second pass runs the windows on a shared ledger of their own.
            .envs(crate::test_ledger_for(home).map(|url| ("PAYDESK_LEDGER", url)))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("start tauri-driver");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::new();
        for _ in 0..100 {
            if http.get(format!("{url}/status")).send().is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, url }
    }

    /// The process group: tauri-driver, WebKitWebDriver, the app and its WebKit processes.
    pub fn group(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Driver {
    /// tauri-driver starts WebKitWebDriver and the app: end its whole process group.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

pub use crate::free_port;

fn tauri_driver() -> String {
    let cargo_bin = std::env::var("CARGO_HOME").map(|h| format!("{h}/bin/tauri-driver")).unwrap_or_default();
    for candidate in [cargo_bin.as_str(), "tauri-driver"] {
        if !candidate.is_empty()
            && Command::new(candidate).arg("--help").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
        {
            return candidate.to_string();
        }
    }
    panic!("tauri-driver is not installed; scripts/test installs it with `cargo install tauri-driver --locked`");
}

pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    id: String,
}

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    /// Starts a session for a Tauri application. No `browserName`: WebKitWebDriver on
    /// Linux refuses one it does not know.
    pub fn start(driver_url: &str, application: &str) -> Self {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": application}}}});
        let resp: Value = http.post(format!("{driver_url}/session")).json(&caps).send().unwrap().json().unwrap();
        let id = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {resp}")).to_string();
        Session { http, base: driver_url.to_string(), id }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.id, path)
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        let resp: Value = self.http.post(self.url(path)).json(&body).send().unwrap().json().unwrap();
        resp["value"].clone()
    }

    pub fn get(&self, path: &str) -> Value {
        let resp: Value = self.http.get(self.url(path)).send().unwrap().json().unwrap();
        resp["value"].clone()
    }

    pub fn delete(&self, path: &str) -> Value {
        let resp: Value = self.http.delete(self.url(path)).send().unwrap().json().unwrap_or(Value::Null);
        resp["value"].clone()
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v.get(ELEMENT_KEY).and_then(Value::as_str).map(String::from)
    }

    pub fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    /// Waits until `script` returns something truthy; panics with `what` after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.script(script);
            let truthy = !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0));
            if truthy {
                return v;
            }
            if start.elapsed() > timeout {
                let body = self.script("return document.body.innerText");
                panic!("timed out waiting for {what}; the window shows:\n{body}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the app has loaded and the counter can sell.
    pub fn wait_until_ready(&self) {
        self.wait_for("the app to load", Duration::from_secs(30), "return document.body.dataset.ready === 'true'");
    }

    /// Types `amount` at the counter, presses Enter and waits for the QR; the sale's link.
    pub fn sell_at_counter(&self, amount: &str) -> String {
        self.type_keys(amount);
        self.type_keys(ENTER);
        self.wait_for_qr()
    }

    /// Waits until the sale's QR is drawn; the sale's link.
    pub fn wait_for_qr(&self) -> String {
        self.wait_for(
            "the QR code",
            Duration::from_secs(15),
            "const i = document.getElementById('qr-img'); return !document.getElementById('sale').hidden && i.complete && i.naturalWidth",
        );
        self.script("return document.getElementById('sale').dataset.link").as_str().unwrap().to_string()
    }

    /// Clicks the element `css` names. A list that re-renders between finding and clicking
    /// leaves a stale reference or a gap: find it again (for up to two seconds) rather than fail.
    pub fn click(&self, css: &str) {
        let mut last = Value::Null;
        for _ in 0..5 {
            // While the list is being replaced the element may be missing for a moment.
            let Some(id) = (0..20).find_map(|_| {
                self.find(css).or_else(|| {
                    std::thread::sleep(Duration::from_millis(100));
                    None
                })
            }) else {
                panic!("no element {css}")
            };
            self.wait_until_still(css);
            last = self.post(&format!("/element/{id}/click"), json!({}));
            match last.get("error").and_then(Value::as_str) {
                None => return,
                Some("stale element reference") => std::thread::sleep(Duration::from_millis(100)),
                // Under the edge of the view (or its scrollbar): bring it to the middle.
                Some("element click intercepted") => {
                    self.script(&format!(
                        "const e = document.querySelector({css:?}); if (e) e.scrollIntoView({{block: 'center', inline: 'center'}}); return true"
                    ));
                }
                Some(_) => break,
            }
        }
        panic!("click {css}: {last}");
    }

    /// Waits (up to a second) until `css` stays where it is for 50 ms: a check finishing
    /// above it (the ledger's integrity, a message) moves it, and WebDriver clicks the point
    /// where it was a moment before.
    fn wait_until_still(&self, css: &str) {
        let place = format!(
            "const e = document.querySelector({css:?}); if (!e) return null; const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]"
        );
        let mut before = self.script(&place);
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.script(&place);
            if now == before {
                return;
            }
            before = now;
        }
    }

    /// Ticks a checkbox by clicking it, as a person would, and makes sure it took: a line
    /// shown above it a moment before (a check finishing) can move it under the pointer.
    pub fn tick(&self, css: &str) {
        self.set_ticked(css, true);
    }

    /// Unticks a checkbox the same way.
    pub fn untick(&self, css: &str) {
        self.set_ticked(css, false);
    }

    fn set_ticked(&self, css: &str, ticked: bool) {
        let checked = format!("return document.querySelector({css:?}).checked");
        for _ in 0..5 {
            if self.script(&checked) == json!(ticked) {
                return;
            }
            self.script(&format!("document.querySelector({css:?}).scrollIntoView({{block: 'center'}}); return true"));
            self.click(css);
            if self.script(&checked) == json!(ticked) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("could not set {css} to {ticked}");
    }

    /// Clicks a field, clears it and types into it (through the Actions API).
    pub fn fill(&self, css: &str, text: &str) {
        let id = self.find(css).unwrap_or_else(|| panic!("no element {css}"));
        let read = format!("return document.querySelector({css:?}).value");
        // Into the middle of the view: a field at the very bottom sits under the scrollbar.
        self.script(&format!("document.querySelector({css:?}).scrollIntoView({{block: 'center'}}); return true"));
        let focus = format!("document.querySelector({css:?}).focus(); return true");
        for _ in 0..5 {
            // Clear first: clearing blurs the field, the click gives it focus back (and, where
            // another window holds the keyboard, focus() makes sure).
            self.post(&format!("/element/{id}/clear"), json!({}));
            self.post(&format!("/element/{id}/click"), json!({}));
            self.script(&focus);
            self.type_keys(text);
            if self.script(&read) == json!(text) {
                return;
            }
            // The first keys after a screen change can land before focus does.
            std::thread::sleep(Duration::from_millis(300));
        }
        let state = self.script(&format!(
            "const e = document.querySelector({css:?}); return {{active: document.activeElement?.id, shown: e.offsetParent !== null, focused: document.hasFocus()}}"
        ));
        panic!("could not type {text:?} into {css}: it holds {} ({state})", self.script(&read));
    }

    /// Types through the Actions API (keyboard events), as a person at the counter would.
    pub fn type_keys(&self, keys: &str) {
        let mut actions = Vec::new();
        for ch in keys.chars() {
            let k = ch.to_string();
            actions.push(json!({"type": "keyDown", "value": k}));
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        self.post("/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}));
        let _ = self.http.delete(self.url("/actions")).send();
    }

    /// The app's windows (WebDriver's window handles), in the driver's order.
    pub fn windows(&self) -> Vec<String> {
        self.get("/window/handles")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().map(String::from))
            .collect()
    }

    /// The window that `script`, `click` and the rest act on from now.
    pub fn switch_to(&self, handle: &str) {
        self.post("/window", json!({"handle": handle}));
    }

    pub fn current_window(&self) -> String {
        self.get("/window").as_str().unwrap_or_default().to_string()
    }

    pub fn screenshot_png(&self) -> Vec<u8> {
        use base64::Engine;
        // Without compositing (the app turns it off where there is no GPU), WebKitWebDriver
        // takes the picture at the page's next paint, and a still page never paints again:
        // one corner pixel changes every frame while the picture is taken.
        self.script(
            "const d = document.createElement('div');
             d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
             document.documentElement.appendChild(d);
             let odd = false;
             const tick = () => { d.style.background = (odd = !odd) ? '#fffffe' : '#fffffd'; window.__paydeskPaint = requestAnimationFrame(tick); };
             tick();
             window.__paydeskPaintPixel = d;
             return true",
        );
        let b64 = self.get("/screenshot");
        self.script("cancelAnimationFrame(window.__paydeskPaint); window.__paydeskPaintPixel.remove(); return true");
        let Some(text) = b64.as_str() else { panic!("no screenshot: {b64}") };
        let png = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
        // Evidence that is not a picture is no evidence.
        assert!(png.starts_with(b"\x89PNG") && png.len() > 1000, "not a screenshot ({} bytes)", png.len());
        png
    }

    pub fn end(self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.id)).send();
    }
}

/// WebDriver's code for the Enter key.
pub const ENTER: &str = "\u{E007}";
pub const ESCAPE: &str = "\u{E00C}";
pub const F2: &str = "\u{E032}";
pub const F9: &str = "\u{E039}";
