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
