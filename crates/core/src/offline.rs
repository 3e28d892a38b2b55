//! Counters that keep selling while the shared ledger is down. A counter that has worked
//! on a shared ledger remembers its profiles (`shared-profiles.json`, 0600; no secret is in
//! them); when the server cannot be reached it records sales, their answers and events in a
//! local journal (`journal.sqlite3`, 0600, a Paydesk ledger with its own chain) and keeps
//! selling. When the server is back the journal is merged into the shared ledger exactly once
//! (matched by reference, in one transaction, so a replay cut short is simply done again),
//! then moved aside (`journal-replayed-TIME.sqlite3`) as evidence.

use crate::error::AppError;
use crate::payments::Paydesk;
use paydesk_ledger::{Ledger, LedgerError, Location, ProfileRow};
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
    Sha256::digest(url.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
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

/// What `ledger sync` did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    /// Journaled payments added to the shared ledger now.
    pub replayed: i64,
    /// Journaled payments the shared ledger already had (an earlier replay cut short).
    pub already_there: i64,
    /// Payments still waiting in the journal (the server is not back yet).
    pub waiting: i64,
}

impl Paydesk {
    /// Sales recorded in the journal while the shared ledger is away; None when this
    /// counter is not journaling.
    pub fn offline_waiting(&self) -> Option<i64> {
        self.shared_url()?;
        let ledger = self.ledger();
        if ledger.is_shared() {
            return None;
        }
        ledger.count_payments().ok()
    }

    /// Replays the journal into the shared ledger when it can be reached, and sells into the
    /// shared ledger again. Safe to run at any time, as often as wished.
    pub fn sync_ledger(&self) -> Result<SyncReport, AppError> {
        let Some(url) = self.shared_url().map(String::from) else { return Ok(SyncReport::default()) };
        let path = journal_path(self.home());
        if !path.exists() {
            return Ok(SyncReport::default());
        }
        crate::blocking(|| {
            // While journaling, no sale may land in the journal between the copy and its
            // retirement: the ledger stays held throughout.
            let mut ledger = self.ledger();
            let reader = Ledger::open(&path)?;
            crate::books::refuse_unverified(&reader, "the offline journal")?;
            let waiting = reader.count_payments()?;
            let copied = crate::books::with_shared_ledger(&url, move |client| reader.copy_to_postgres(client));
            let report = match copied {
                Ok(report) => report,
                Err(AppError::Storage { .. }) if !ledger.is_shared() => {
                    return Ok(SyncReport { waiting, ..SyncReport::default() })
                }
                Err(e) => return Err(e),
            };
            if !report.conflicts.is_empty() {
                return Err(AppError::NotAllowed {
                    message: format!(
                        "The offline journal holds sales the shared ledger has with other content ({}); it was kept as it is.",
                        report.conflicts.join(", ")
                    ),
                });
            }
            let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
            let aside = self.home().join(format!("journal-replayed-{stamp}.sqlite3"));
            if ledger.is_shared() {
                // Another process may still be journaling into it: moved aside only alone.
                if let Err(e) = Ledger::open(&path).and_then(|j| j.retire_to(&aside)) {
                    tracing::warn!("the replayed journal stays in place for now: {e}");
                }
            } else {
                let mut shared = match Ledger::open_at(&Location::Shared(url.clone())) {
                    Ok(s) => s,
                    Err(LedgerError::Unreachable(_)) => return Ok(SyncReport { waiting, ..SyncReport::default() }),
                    Err(e) => return Err(e.into()),
                };
                self.follow_shared(&mut shared, &url)?;
                let journal = std::mem::replace(&mut *ledger, shared);
                journal.retire_to(&aside)?;
                // The windows read everything again: the journaled sales now live there.
                self.announce_all_changed();
            }
            Ok(SyncReport { replayed: report.inserted, already_there: report.already_there, waiting: 0 })
        })
    }

    /// A payment that is not in the journal while it is in use: a sale made elsewhere, or
    /// before the outage, whose refund or capture must wait for the shared ledger.
    pub(crate) fn not_here_offline(&self, reference: &str) -> Option<AppError> {
        self.offline_waiting()?;
        Some(AppError::NotAllowed {
            message: format!(
                "The shared ledger is offline: {reference} is not among this counter's sales since it went away. \
                 Refunds, captures, voids and look-ups of other sales wait until it is back."
            ),
        })
    }
}

/// Replays a journal left in `home` before the core opens (the CLI's next command).
pub fn journal_exists(home: &Path) -> bool {
    journal_path(home).exists()
}
