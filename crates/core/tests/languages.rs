//! Every string a person sees exists in all three languages: the window's (every `t('…')`
//! in `ui/*.js` and every text and labelled attribute of its pages), the customer display's,
//! the printed pages', the core's messages for people and the CLI's human messages. English
//! is the key itself, so a text missing from either Chinese catalog fails here.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use paydesk_core::i18n::{self, Locale};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The string literals that follow a call like `t(` (not `alert(`: the name must start
/// there), in single or double quotes, with `locale, ` allowed before it.
fn literals_after(text: &str, names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for name in names {
        let call = format!("{name}(");
        let mut from = 0;
        while let Some(at) = text[from..].find(&call) {
            let start = from + at;
            from = start + call.len();
            if start > 0 {
                let before = bytes[start - 1] as char;
                if before.is_ascii_alphanumeric()
                    || before == '_'
                    || before == '$'
                    || before == '.' && *name != "i18n::tr"
                {
                    continue;
                }
            }
            let mut rest = text[from..].trim_start();
            if let Some(r) = rest.strip_prefix("locale,") {
                rest = r.trim_start();
            }
            let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else { continue };
            let mut value = String::new();
            let mut chars = rest[1..].chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    c if c == quote => break,
                    c => value.push(c),
                }
            }
            found.push(value);
        }
    }
    found
}

/// The text nodes and labelled attributes of a page that hold words (not digits or keys).
fn page_texts(html: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let has_words = |s: &str| s.chars().any(|c| c.is_ascii_alphabetic());
    // Text between tags, skipping <script>, <style> and <kbd> contents.
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        let text = rest[..lt].trim();
        if !text.is_empty() && has_words(text) {
            texts.push(text.replace("&amp;", "&"));
        }
        let tag_end = rest[lt..].find('>').map(|e| lt + e + 1).unwrap_or(rest.len());
        let tag = &rest[lt..tag_end];
        for attr in ["placeholder", "aria-label", "title", "alt"] {
            let needle = format!(" {attr}=\"");
            if let Some(a) = tag.find(&needle) {
                let v = &tag[a + needle.len()..];
                let v = &v[..v.find('"').unwrap_or(v.len())];
                if has_words(v) {
                    texts.push(v.to_string());
                }
            }
        }
        rest = &rest[tag_end..];
        for skipped in ["script", "style", "kbd"] {
            if tag.starts_with(&format!("<{skipped}")) {
                let close = format!("</{skipped}>");
                rest = rest.find(&close).map(|c| &rest[c + close.len()..]).unwrap_or("");
            }
        }
    }
    texts
}

fn ui_strings() -> BTreeSet<String> {
    let ui = workspace().join("ui");
    let mut keys = BTreeSet::new();
    for entry in std::fs::read_dir(&ui).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        match path.extension().and_then(|e| e.to_str()) {
            Some("js") => keys.extend(literals_after(&text, &["t", "tr"])),
            Some("html") => keys.extend(page_texts(&text)),
            _ => {}
        }
    }
    // Looked up by value: the status words, which the core hands the window (app_info).
    keys.extend(paydesk_core::providers::status_labels().into_iter().map(|(_, label)| label.to_string()));
    keys
}

fn core_strings() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    // Every source file, in folders too (a module split by flow is still read).
    let mut dirs: Vec<std::path::PathBuf> = ["crates/core/src", "crates/cli/src"].map(|d| workspace().join(d)).to_vec();
    let mut read = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            keys.extend(literals_after(&text, &["tr", "tr_with", "say", "i18n::tr", "i18n::tr_with", "words"]));
            read += 1;
        }
    }
    assert!(read > 30, "read the core's and the CLI's sources ({read} files)");
    keys.extend(paydesk_core::AppError::sentences().iter().map(|s| s.to_string()));
    keys.extend(paydesk_core::error::all_field_labels());
    keys.extend(paydesk_core::error::all_rule_texts().iter().map(|s| s.to_string()));
    // What the screens show of each provider: wallets and the payer's channels.
    for p in paydesk_core::providers::provider_infos() {
        let info = serde_json::to_value(&p).unwrap();
        // The Settings form and the profile summaries are made from the declarations.
        for setting in info["settings"].as_array().into_iter().flatten() {
            keys.insert(setting["label"].as_str().unwrap().to_string());
            keys.extend(setting["summary"].as_str().filter(|s| !s.is_empty()).map(String::from));
        }
        keys.insert(info["secret"]["label"].as_str().unwrap().to_string());
        keys.insert(info["secret"]["summary"].as_str().unwrap().to_string());
        for list in ["counter_wallets", "link_wallets", "payer_channels"] {
            for item in info[list].as_array().into_iter().flatten() {
                keys.insert(item["label"].as_str().unwrap().to_string());
            }
        }
    }
    keys.extend(paydesk_gateways::PaymentStatus::ALL.iter().map(|s| s.label().to_string()));
    for badge in [
        "DEMO",
        "SANDBOX",
        "PRODUCTION",
        "CUSTOM",
        "demo",
        "sandbox",
        "production",
        "custom",
        "saved",
        "not saved",
        "built in",
        "unavailable",
    ] {
        keys.insert(badge.to_string());
    }
    keys
}

#[test]
fn every_string_exists_in_all_three_languages() {
    let mut keys = ui_strings();
    keys.extend(core_strings());
    // The scanners see a sane number of strings (they broke silently once before they were counted).
    assert!(keys.len() > 300, "only {} strings found", keys.len());
    let mut missing: HashMap<&str, Vec<&String>> = HashMap::new();
    for locale in [Locale::ZhHant, Locale::ZhHans] {
        let words = i18n::words(locale);
        for key in &keys {
            if !words.contains_key(key) {
                missing.entry(locale.tag()).or_default().push(key);
            }
        }
    }
    if !missing.is_empty() {
        let listing = serde_json::to_string_pretty(&missing).unwrap();
        std::fs::write(std::env::temp_dir().join("paydesk-missing-strings.json"), &listing).ok();
        panic!("strings without a translation:\n{listing}");
    }
}

#[test]
fn the_page_scanner_reads_text_and_attributes() {
    let found = page_texts(
        r#"<p title="A tip">Hello <b>there</b> <kbd>F2</kbd> 12 <input placeholder="Type here"></p><script>x('No')</script>"#,
    );
    assert_eq!(found, vec!["A tip", "Hello", "there", "Type here"]);
    assert_eq!(
        literals_after("t('One') alert('x') tr(\"Two\") tr_with(locale, \"Three {n}\")", &["t", "tr", "tr_with"]),
        vec!["One", "Two", "Three {n}"]
    );
}
