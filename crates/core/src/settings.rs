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
}

/// Chooses the language (none = the system's), keeps the choice in `home` and makes it the
/// one in use.
pub fn choose_language(home: &Path, language: Option<&str>) -> Result<crate::i18n::Locale, AppError> {
    use crate::i18n::{self, Locale};
    let language = language.filter(|l| !l.is_empty());
    let locale = match language {
        Some(tag) => Locale::parse(tag)
            .ok_or_else(|| AppError::invalid("language", format!("language: en, zh-Hant or zh-Hans (got '{tag}')")))?,
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
        std::fs::write(&tmp, serde_json::to_vec_pretty(self).expect("settings serialize")).map_err(fail)?;
        std::fs::rename(&tmp, Self::file(home)).map_err(fail)
    }
}
