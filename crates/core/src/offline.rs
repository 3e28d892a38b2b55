//! Counters that keep selling while the shared ledger is down. A counter that has worked
//! on a shared ledger remembers its profiles (`shared-profiles.json`, 0600; no secret is in
//! them); when the server cannot be reached it records sales, their answers and events in a
//! local journal (`journal.sqlite3`, 0600, a Paydesk ledger with its own chain) and keeps
//! selling. When the server is back the journal is merged into the shared ledger exactly once
//! (matched by reference, in one transaction, so a replay cut short is simply done again),
//! then moved aside (`journal-replayed-TIME.sqlite3`) as evidence.

use crate::error::AppError;
use crate::journal::journal_path;
use crate::payments::Paydesk;
use paydesk_ledger::{Ledger, LedgerError, Location};
use serde::Serialize;

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
