//! Three languages: English, Traditional Chinese and Simplified Chinese.
//!
//! The English text is the key (as gettext does): a string the window, the customer
//! display, printed pages or the CLI show to a person is written in English where it is
//! used and looked up here; `locales/zh-Hant.json` and `locales/zh-Hans.json` translate
//! every one of them (a test fails on a missing key). `{name}` placeholders are filled in
//! after the lookup. Machine output (the CLI's JSON, error `kind`s) is never translated.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-Hant")]
    ZhHant,
    #[serde(rename = "zh-Hans")]
    ZhHans,
}

pub const LOCALES: [Locale; 3] = [Locale::En, Locale::ZhHant, Locale::ZhHans];

impl Locale {
    /// The tag the app stores and the UI sends ("en", "zh-Hant", "zh-Hans").
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhHant => "zh-Hant",
            Self::ZhHans => "zh-Hans",
        }
    }

    /// The tag dates, numbers and currencies are formatted with (`Intl` in the window).
    pub fn format_tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhHant => "zh-TW",
            Self::ZhHans => "zh-CN",
        }
    }

    /// The language's own name, as the Settings list shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::ZhHant => "繁體中文",
            Self::ZhHans => "简体中文",
        }
    }

    /// Reads a tag or a POSIX locale: "zh-Hant", "zh_TW.UTF-8", "zh-HK", "zh_CN", "en_US"…
    /// Chinese without a script or region reads as Simplified; anything else as English.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().split(['.', '@']).next().unwrap_or("").replace('_', "-").to_ascii_lowercase();
        if t.is_empty() {
            return None;
        }
        if t == "en" || t.starts_with("en-") || t == "c" || t == "posix" {
            return Some(Self::En);
        }
        if t == "zh" || t.starts_with("zh-") {
            let traditional = ["hant", "tw", "hk", "mo"];
            let is_traditional = t.split('-').skip(1).any(|part| traditional.contains(&part));
            return Some(if is_traditional { Self::ZhHant } else { Self::ZhHans });
        }
        None
    }

    /// The system's language, as the desktop sets it.
    pub fn from_system() -> Self {
        // The desktop's own setting: LC_ALL, LC_MESSAGES or LANG on Linux, the user's
        // preferred language on macOS and Windows.
        sys_locale::get_locale().and_then(|tag| Self::parse(&tag)).unwrap_or(Self::En)
    }

    /// The language in use: `PAYDESK_LANG` if set, else `saved` (chosen in Settings, see
    /// `settings::chosen_locale`), else the system's.
    pub fn chosen(saved: Option<&str>) -> Self {
        if let Some(l) = std::env::var("PAYDESK_LANG").ok().and_then(|v| Self::parse(&v)) {
            return l;
        }
        saved.and_then(Self::parse).unwrap_or_else(Self::from_system)
    }
}

fn catalog(locale: Locale) -> &'static HashMap<String, String> {
    static HANT: OnceLock<HashMap<String, String>> = OnceLock::new();
    static HANS: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EMPTY: OnceLock<HashMap<String, String>> = OnceLock::new();
    let parse = |text: &str| serde_json::from_str(text).expect("locale catalogs are valid JSON (tested)");
    match locale {
        Locale::En => EMPTY.get_or_init(HashMap::new),
        Locale::ZhHant => HANT.get_or_init(|| parse(include_str!("../locales/zh-Hant.json"))),
        Locale::ZhHans => HANS.get_or_init(|| parse(include_str!("../locales/zh-Hans.json"))),
    }
}

/// Every translation of a language, English text → translated text (empty for English),
/// for the window to look its strings up in.
pub fn words(locale: Locale) -> &'static HashMap<String, String> {
    catalog(locale)
}

/// `english` in `locale`; English itself where a translation is missing.
pub fn tr(locale: Locale, english: &str) -> String {
    catalog(locale).get(english).cloned().unwrap_or_else(|| english.to_string())
}

/// `english` in `locale` with its `{name}` placeholders filled in.
pub fn tr_with(locale: Locale, english: &str, values: &[(&str, &str)]) -> String {
    let mut text = tr(locale, english);
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

static CURRENT: RwLock<Locale> = RwLock::new(Locale::En);

/// The language the app speaks now (printed pages, the customer display, the CLI).
pub fn current() -> Locale {
    *CURRENT.read().unwrap_or_else(|p| p.into_inner())
}

pub fn set_current(locale: Locale) {
    *CURRENT.write().unwrap_or_else(|p| p.into_inner()) = locale;
}

/// The placeholders a text names, in order of appearance.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else { break };
        names.push(&rest[start + 1..start + end]);
        rest = &rest[start + end + 1..];
    }
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On Linux the desktop's language is the environment's (each test is a process of its
    /// own under nextest, so setting it here touches no other test).
    #[test]
    fn the_systems_language_is_the_desktops() {
        std::env::remove_var("LC_ALL");
        std::env::remove_var("LC_MESSAGES");
        std::env::set_var("LANG", "zh_TW.UTF-8");
        assert_eq!(Locale::from_system(), Locale::ZhHant);
        std::env::set_var("LANG", "zh_CN.UTF-8");
        assert_eq!(Locale::from_system(), Locale::ZhHans);
        std::env::set_var("LANG", "C");
        assert_eq!(Locale::from_system(), Locale::En);
    }

    #[test]
    fn reads_tags_and_posix_locales() {
        assert_eq!(Locale::parse("zh_TW.UTF-8"), Some(Locale::ZhHant));
        assert_eq!(Locale::parse("zh-HK"), Some(Locale::ZhHant));
        assert_eq!(Locale::parse("zh-Hant"), Some(Locale::ZhHant));
        assert_eq!(Locale::parse("zh_CN.UTF-8"), Some(Locale::ZhHans));
        assert_eq!(Locale::parse("zh-Hans"), Some(Locale::ZhHans));
        assert_eq!(Locale::parse("zh"), Some(Locale::ZhHans));
        assert_eq!(Locale::parse("en_US.UTF-8"), Some(Locale::En));
        assert_eq!(Locale::parse("C"), Some(Locale::En));
        assert_eq!(Locale::parse("fr_FR"), None);
        assert_eq!(Locale::parse(""), None);
    }

    /// Both Chinese catalogs translate the same texts, keep every placeholder, and
    /// translate to something (not an empty string).
    #[test]
    fn catalogs_match_each_other() {
        let hant = catalog(Locale::ZhHant);
        let hans = catalog(Locale::ZhHans);
        let mut only_one: Vec<&String> = hant.keys().filter(|k| !hans.contains_key(*k)).collect();
        only_one.extend(hans.keys().filter(|k| !hant.contains_key(*k)));
        assert!(only_one.is_empty(), "translated in one Chinese catalog only: {only_one:?}");
        for (key, value) in hant.iter().chain(hans.iter()) {
            assert!(!value.trim().is_empty(), "empty translation of {key:?}");
            assert_eq!(placeholders(key), placeholders(value), "placeholders differ in the translation of {key:?}");
        }
    }

    #[test]
    fn fills_placeholders_after_translating() {
        assert_eq!(
            tr_with(Locale::En, "Use at most {n} decimal places.", &[("n", "2")]),
            "Use at most 2 decimal places."
        );
        assert_eq!(tr(Locale::ZhHant, "Paid"), "已付款");
        assert_eq!(tr(Locale::ZhHans, "Paid"), "已付款");
    }
}
