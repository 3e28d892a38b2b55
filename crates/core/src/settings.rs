//! What this machine remembers for its person (not the ledger's business): the language
//! and the customer display on the local network. A small JSON file in the home folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalSettings {
    /// "en", "zh-Hant" or "zh-Hans"; none = the system's language.
    pub language: Option<String>,
    /// The address the read-only customer display page listens on; none = off (the default).
    pub lan_display: Option<String>,
    /// The shop's name as the customer display shows it.
    pub shop_name: Option<String>,
    /// The shared ledger this counter uses (`postgres://user@host:port/db`, no password:
    /// that stays in the OS keyring); none = the ledger file in the home folder.
    pub shared_ledger: Option<String>,
    /// How many days a payer is kept after their last sale (none: `PAYER_DAYS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_days: Option<u32>,
    /// Demo mode: phones on this network may pay demo sales (the demo sandbox also listens
    /// on this computer's network address). Off by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo_phones: bool,
}

/// How long a payer is kept after their last sale, unless Settings say otherwise.
pub const PAYER_DAYS: u32 = 90;

/// The keyring entry holding the shared ledger's password (never in a file).
const LEDGER_SECRET: &str = "(shared ledger)";

/// Which ledger this machine uses: `PAYDESK_LEDGER` (a `postgres://` URL or a file), else
/// the shared ledger chosen in Settings (its password from the keyring), else the file.
pub fn ledger_location(home: &Path) -> Result<paydesk_ledger::Location, AppError> {
    use paydesk_ledger::Location;
    if let Some(chosen) = std::env::var("PAYDESK_LEDGER").ok().filter(|v| !v.trim().is_empty()) {
        return Ok(Location::parse(&chosen));
    }
    match LocalSettings::load(home).shared_ledger {
        Some(url) => Ok(Location::Shared(with_saved_password(&url)?)),
        None => Ok(Location::File(home.join(paydesk_ledger::FILE_NAME))),
    }
}

fn with_saved_password(url: &str) -> Result<String, AppError> {
    match crate::secrets::load_secret(LEDGER_SECRET) {
        Ok(password) => Ok(insert_password(url, password.expose())),
        Err(AppError::SecretMissing { .. }) => Ok(url.to_string()),
        Err(e) => Err(e),
    }
}

/// `postgres://user@host/db` with `password` put in (percent-encoded by the URL's own rules).
fn insert_password(url: &str, password: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.to_string() };
    match parsed.set_password(Some(password)) {
        Ok(()) => parsed.into(),
        Err(()) => url.to_string(),
    }
}

/// What Settings shows of the ledger in use.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerSettings {
    /// The URL saved in Settings (without password); none = the file.
    pub shared_ledger: Option<String>,
    /// Whether a password for it is in the keyring.
    pub password_saved: bool,
    /// The ledger this window runs on now, as shown to people.
    pub in_use: String,
    pub shared: bool,
    /// `PAYDESK_LEDGER` decides instead of Settings.
    pub set_by_environment: bool,
}

/// What Settings chose, beside the ledger at `in_use` (which may not have opened).
pub fn ledger_settings_at(home: &Path, in_use: &paydesk_ledger::Location) -> LedgerSettings {
    crate::blocking(|| LedgerSettings {
        shared_ledger: LocalSettings::load(home).shared_ledger,
        password_saved: crate::secrets::has_secret(LEDGER_SECRET).unwrap_or(false),
        in_use: in_use.shown(),
        shared: in_use.is_shared(),
        set_by_environment: std::env::var("PAYDESK_LEDGER").is_ok_and(|v| !v.trim().is_empty()),
    })
}

/// Saves (or with none, forgets) the shared ledger this counter uses from its next start,
/// after checking it can be reached and brought up to date: a password in the URL or given
/// apart goes to the OS keyring, the rest to the settings file.
pub fn choose_shared_ledger(
    home: &Path,
    url: Option<&str>,
    password: Option<&str>,
) -> Result<Option<String>, AppError> {
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    let Some(url) = url else {
        crate::blocking(|| {
            let mut settings = LocalSettings::load(home);
            settings.shared_ledger = None;
            settings.save(home)?;
            crate::secrets::delete_secret(LEDGER_SECRET).map(|_| ())
        })?;
        return Ok(None);
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(AppError::invalid("shared_ledger", "a PostgreSQL URL such as postgres://paydesk@server:5432/shop"));
    }
    // The password, wherever it was given, is taken out of the URL kept in the file.
    let (kept, in_url) = split_password(url);
    let password = password.filter(|p| !p.is_empty()).map(String::from).or(in_url);
    let full = match &password {
        Some(p) => insert_password(&kept, p),
        None => kept.clone(),
    };
    crate::blocking(|| {
        paydesk_ledger::Ledger::open_shared(&full)?;
        if let Some(p) = &password {
            crate::secrets::store_secret(LEDGER_SECRET, &paydesk_gateways::ApiSecret::new(p.clone()))?;
        }
        let mut settings = LocalSettings::load(home);
        settings.shared_ledger = Some(kept.clone());
        settings.save(home)
    })?;
    Ok(Some(kept))
}

/// The URL without its password, and the password (percent-decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    let Ok(mut parsed) = url::Url::parse(url) else { return (url.to_string(), None) };
    let Some(password) =
        parsed.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned())
    else {
        return (url.to_string(), None);
    };
    if parsed.set_password(None).is_err() {
        return (url.to_string(), None);
    }
    (parsed.into(), Some(password))
}

/// Chooses the language (none = the system's), keeps the choice in `home` and makes it the
/// one in use.
/// The language in use on this machine: `PAYDESK_LANG`, else the one chosen in Settings
/// (kept in the home folder), else the system's.
pub fn chosen_locale(home: &Path) -> crate::i18n::Locale {
    crate::i18n::Locale::chosen(LocalSettings::load(home).language.as_deref())
}

pub fn choose_language(home: &Path, language: Option<&str>) -> Result<crate::i18n::Locale, AppError> {
    use crate::i18n::{self, Locale};
    let language = language.filter(|l| !l.is_empty());
    let locale = match language {
        Some(tag) => Locale::parse(tag)
            .ok_or_else(|| AppError::invalid("language", format!("en, zh-Hant or zh-Hans (got '{tag}')")))?,
        None => Locale::from_system(),
    };
    crate::blocking(|| {
        let mut settings = LocalSettings::load(home);
        settings.language = language.map(|_| locale.tag().to_string());
        settings.save(home)
    })?;
    i18n::set_current(locale);
    Ok(locale)
}

/// The language chosen in Settings ("en", "zh-Hant", "zh-Hans"), none for the system's.
pub fn saved_language(home: &Path) -> Option<String> {
    crate::blocking(|| LocalSettings::load(home).language)
}

impl LocalSettings {
    fn file(home: &Path) -> PathBuf {
        home.join("settings.json")
    }

    /// The settings, or the defaults when there are none yet (or the file is unreadable:
    /// a broken settings file must not keep the counter from selling).
    pub fn load(home: &Path) -> Self {
        std::fs::read(Self::file(home)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes the whole file at once (a temporary file renamed over it).
    pub fn save(&self, home: &Path) -> Result<(), AppError> {
        let fail = |e: std::io::Error| AppError::Storage {
            message: format!("Settings could not be saved ({e})"),
            reference: None,
        };
        std::fs::create_dir_all(home).map_err(fail)?;
        let tmp = home.join("settings.json.tmp");
        let mut file = paydesk_ledger::create_private_file(&tmp).map_err(fail)?;
        std::io::Write::write_all(&mut file, &serde_json::to_vec_pretty(self).expect("settings serialize"))
            .map_err(fail)?;
        std::fs::rename(&tmp, Self::file(home)).map_err(fail)
    }
}

#[cfg(test)]
mod ledger_url_tests {
    #[test]
    fn the_password_leaves_the_url_and_comes_back() {
        let (kept, password) = super::split_password("postgres://shop:p%40ss:w@db.example:5432/books?sslmode=require");
        assert_eq!(kept, "postgres://shop@db.example:5432/books?sslmode=require");
        assert_eq!(password.as_deref(), Some("p@ss:w"));
        assert_eq!(
            super::insert_password(&kept, "p@ss:w"),
            "postgres://shop:p%40ss%3Aw@db.example:5432/books?sslmode=require"
        );
    }
}
