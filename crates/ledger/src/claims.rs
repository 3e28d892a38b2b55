//! One capture or void at a time per payment, across every counter on the ledger: the
//! action is claimed in the writers' turn before anything is sent, and released once its
//! answer is recorded. Two counters pressing Capture at once: one sends, the other is told
//! who is at it. A claim a crash left behind lapses after `CLAIM_LAPSES`.

use crate::db::args;
use crate::{now, Ledger, Result};

/// How long a claim holds without being released (longer than any provider call waits).
pub const CLAIM_LAPSES: std::time::Duration = std::time::Duration::from_secs(120);

impl Ledger {
    /// Claims `payment_id` for `action`. None: claimed, go ahead (then release it); Some:
    /// the action another counter is doing on it now.
    pub fn claim_action(&self, payment_id: i64, action: &str) -> Result<Option<String>> {
        let tx = self.write()?;
        let held = self
            .db
            .query_opt("SELECT action, claimed_at FROM action_claims WHERE payment_id = ?1", args![payment_id])?;
        if let Some(row) = held {
            let (other, at): (String, String) = (row.get(0)?, row.get(1)?);
            let lapsed = at
                .parse::<jiff::Timestamp>()
                .map(|t| jiff::Timestamp::now().duration_since(t).as_secs() as u64 >= CLAIM_LAPSES.as_secs())
                .unwrap_or(true);
            if !lapsed {
                return Ok(Some(other));
            }
        }
        self.db.execute(
            "INSERT INTO action_claims (payment_id, action, claimed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (payment_id) DO UPDATE SET action = excluded.action, claimed_at = excluded.claimed_at",
            args![payment_id, action, now()],
        )?;
        tx.commit()?;
        Ok(None)
    }

    /// Ends a claim (whatever the action's outcome).
    pub fn release_action(&self, payment_id: i64) -> Result<()> {
        self.write_one("DELETE FROM action_claims WHERE payment_id = ?1", args![payment_id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Ledger, NewPayment};

    #[test]
    fn one_action_at_a_time_per_payment() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let other = Ledger::open_in(dir.path()).unwrap();
        let p = ledger
            .insert_payment(&NewPayment {
                reference: "PD-C".into(),
                profile: "demo".into(),
                provider: "paykka".into(),
                method: "link".into(),
                vendor: None,
                amount_minor: 1300,
                currency: "USD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        assert_eq!(ledger.claim_action(p.id, "capture").unwrap(), None);
        assert_eq!(other.claim_action(p.id, "void").unwrap().as_deref(), Some("capture"), "the other counter waits");
        ledger.release_action(p.id).unwrap();
        assert_eq!(other.claim_action(p.id, "void").unwrap(), None);
    }
}
