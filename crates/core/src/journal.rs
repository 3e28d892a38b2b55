//! The files a counter keeps for selling through a shared ledger's outage: the profiles it
//! last saw there (`shared-profiles.json`, 0600, no secret in them) and the local journal
//! (`journal.sqlite3`, 0600) its sales go to meanwhile. `offline` replays the journal.

use crate::error::AppError;
use paydesk_ledger::{Ledger, ProfileRow};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const JOURNAL_FILE: &str = "journal.sqlite3";
const PROFILES_FILE: &str = "shared-profiles.json";

/// The profiles of one shared ledger, as this counter last saw them.
#[derive(Serialize, Deserialize, PartialEq)]
struct KnownProfiles {
    /// SHA-256 of the ledger's URL: which shared ledger they belong to (the URL itself may
    /// name a user; it stays in the settings).
    ledger: String,
    profiles: Vec<ProfileRow>,
}

fn ledger_key(url: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(url.as_bytes()))
}

pub fn journal_path(home: &Path) -> PathBuf {
    home.join(JOURNAL_FILE)
}

/// Keeps the shared ledger's profiles on this computer, for selling through an outage.
pub(crate) fn remember_profiles(home: &Path, url: &str, shared: &Ledger) -> Result<(), AppError> {
    let known = KnownProfiles { ledger: ledger_key(url), profiles: shared.profiles()? };
    let file = home.join(PROFILES_FILE);
    if std::fs::read(&file).ok().and_then(|b| serde_json::from_slice::<KnownProfiles>(&b).ok()).as_ref() == Some(&known)
    {
        return Ok(());
    }
    let fail =
        |e: std::io::Error| AppError::Storage { message: format!("cannot keep the profiles ({e})"), reference: None };
    let tmp = home.join(format!("{PROFILES_FILE}.tmp"));
    let mut out = paydesk_ledger::create_private_file(&tmp).map_err(fail)?;
    std::io::Write::write_all(&mut out, &serde_json::to_vec(&known).expect("profiles serialize")).map_err(fail)?;
    std::fs::rename(&tmp, &file).map_err(fail)
}

/// The journal to sell into while the shared ledger at `url` cannot be reached: only for a
/// counter that has worked on that ledger (it knows its profiles); else None.
pub(crate) fn open_journal(home: &Path, url: &str) -> Result<Option<Ledger>, AppError> {
    let Some(known) = std::fs::read(home.join(PROFILES_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<KnownProfiles>(&b).ok())
        .filter(|k| k.ledger == ledger_key(url))
    else {
        return Ok(None);
    };
    let journal = Ledger::open(&journal_path(home))?;
    let have: Vec<String> = journal.profiles()?.into_iter().map(|p| p.name).collect();
    for p in known.profiles.iter().filter(|p| !have.contains(&p.name)) {
        journal.save_profile(p)?;
    }
    Ok(Some(journal))
}

/// Replays a journal left in `home` before the core opens (the CLI's next command).
pub fn journal_exists(home: &Path) -> bool {
    journal_path(home).exists()
}
