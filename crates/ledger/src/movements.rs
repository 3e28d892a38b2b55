//! Captures and voids: money movements on an authorised payment, each a row of its own
//! written before it is sent, with its own reference (`REF-C1`, `REF-V1`). The limits are
//! checked inside that write against what was actually captured, so two counters (or two
//! windows) can never take more than was authorised; while one movement is not confirmed,
//! no other capture or void of the payment is recorded (and so none is sent).

use crate::db::{args, Row};
use crate::payments::insert_event;
use crate::{now, Ledger, LedgerError, Result, StatusChange};
use paydesk_types::{MovementKind, MovementStatus, PaymentStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovementRow {
    pub id: i64,
    pub payment_id: i64,
    /// capture or void.
    pub kind: String,
    pub reference: String,
    /// What it captures, or what it releases (a void: everything not captured).
    pub amount_minor: i64,
    pub currency: String,
    /// A capture that closes the authorisation (nothing more may be captured).
    pub is_final: bool,
    /// What was captured of the payment when it was recorded: against it the provider's
    /// balances show whether it happened, whatever else was applied meanwhile.
    pub captured_before: i64,
    /// created, sent, unknown, succeeded, failed (a name this build does not know: unknown).
    pub status: MovementStatus,
    pub provider_id: Option<String>,
    /// The process that recorded or sent it (`BOOT-ID:PID`), while it may be in flight.
    pub sent_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// How long a request another machine sent may still be under way (the HTTP client gives
/// up after 20 s): only after it may an unconfirmed capture or void be judged by the
/// provider's balances, or it could be sent again while the first is still arriving.
pub const IN_FLIGHT_LEASE: std::time::Duration = std::time::Duration::from_secs(45);

/// This process, as `BOOT-ID:PID` (the boot id tells this machine and boot apart).
pub fn this_process() -> String {
    format!("{}:{}", boot_id(), std::process::id())
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_default()
}

impl MovementRow {
    /// Whether its request may still be under way: recorded or sent by a process that is
    /// still running on this machine, or by another machine within the lease. An unknown
    /// one (its sender gave up waiting) is never in flight.
    pub fn may_be_in_flight(&self) -> bool {
        if !matches!(self.status, MovementStatus::Created | MovementStatus::Sent) {
            return false;
        }
        let ours = boot_id();
        match self.sent_by.as_deref().and_then(|s| s.split_once(':')) {
            Some((boot, pid)) if !ours.is_empty() && boot == ours => {
                std::path::Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => self
                .updated_at
                .parse::<jiff::Timestamp>()
                .map(|t| jiff::Timestamp::now().duration_since(t).as_secs() < IN_FLIGHT_LEASE.as_secs() as i64)
                .unwrap_or(true),
        }
    }

    pub fn kind(&self) -> MovementKind {
        MovementKind::parse(&self.kind).unwrap_or(MovementKind::Capture)
    }
}

fn from_row(r: &Row) -> Result<MovementRow> {
    Ok(MovementRow {
        id: r.get("id")?,
        payment_id: r.get("payment_id")?,
        kind: r.get("kind")?,
        reference: r.get("reference")?,
        amount_minor: r.get("amount_minor")?,
        currency: r.get("currency")?,
        is_final: r.get::<i64>("is_final")? != 0,
        captured_before: r.get("captured_before")?,
        status: MovementStatus::parse(&r.get::<String>("status")?).unwrap_or(MovementStatus::Unknown),
        provider_id: r.get("provider_id")?,
        sent_by: r.get("sent_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// What has been captured of a payment in `status` whose `paid_minor` is what: nothing of
/// an authorisation, the recorded part of a partial capture, else all that was taken.
pub fn captured_minor(status: PaymentStatus, amount_minor: i64, paid_minor: Option<i64>) -> i64 {
    match status {
        PaymentStatus::Authorized => 0,
        PaymentStatus::PartiallyCaptured => paid_minor.unwrap_or(0),
        s if s.took_money() => paid_minor.unwrap_or(amount_minor),
        _ => 0,
    }
}

impl Ledger {
    /// Records a capture (of `amount_minor`; `is_final` closes the authorisation) or a void
    /// (of whatever is not captured) before it is sent. Refused, in the write, when the
    /// payment holds nothing to capture or release, when the amount is above what can still
    /// be captured, or while another capture or void of it is unconfirmed.
    pub fn insert_movement(
        &self,
        payment_id: i64,
        kind: MovementKind,
        amount_minor: i64,
        is_final: bool,
    ) -> Result<MovementRow> {
        let tx = self.write()?;
        let p = self.db.query_one(
            "SELECT reference, status, amount_minor, paid_minor, currency FROM payments WHERE id = ?1",
            args![payment_id],
        )?;
        let (reference, status, amount, paid, currency): (String, String, i64, Option<i64>, String) =
            (p.get(0)?, p.get(1)?, p.get(2)?, p.get(3)?, p.get(4)?);
        let status = PaymentStatus::from_stored(&status);
        if let Some(open) = self.open_movement(payment_id)? {
            return Err(LedgerError::Conflict(format!(
                "{} {} of {} (minor units) is not confirmed yet",
                open.kind, open.reference, open.amount_minor
            )));
        }
        if !matches!(status, PaymentStatus::Authorized | PaymentStatus::PartiallyCaptured) {
            return Err(LedgerError::Conflict(format!(
                "payment {reference} is {}; nothing on it is authorised to {}",
                status.as_str(),
                kind.as_str()
            )));
        }
        let captured_before = captured_minor(status, amount, paid);
        let left = amount - captured_before;
        let amount_minor = match kind {
            MovementKind::Capture => amount_minor,
            MovementKind::Void => left,
        };
        if amount_minor <= 0 || amount_minor > left {
            return Err(LedgerError::Conflict(format!(
                "a capture of {amount_minor} exceeds the {left} still authorised (minor units)"
            )));
        }
        let letter = match kind {
            MovementKind::Capture => 'C',
            MovementKind::Void => 'V',
        };
        let earlier: i64 = self
            .db
            .query_one(
                "SELECT count(*) FROM movements WHERE payment_id = ?1 AND kind = ?2",
                args![payment_id, kind.as_str()],
            )?
            .get(0)?;
        let movement_reference = format!("{reference}-{letter}{}", earlier + 1);
        let at = now();
        let id: i64 = self
            .db
            .query_one(
                "INSERT INTO movements (payment_id, kind, reference, amount_minor, currency, is_final, captured_before, status, sent_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'created', ?8, ?9, ?9) RETURNING id",
                args![payment_id, kind.as_str(), &movement_reference, amount_minor, &currency, is_final as i64, captured_before, this_process(), at],
            )?
            .get(0)?;
        insert_event(
            self,
            Some(payment_id),
            &format!("{}_created", kind.as_str()),
            &serde_json::json!({"reference": movement_reference, "amount_minor": amount_minor, "currency": currency, "final": is_final}),
        )?;
        tx.commit()?;
        self.movement(id)
    }

    /// Moves a movement on (sent, unknown; or ended: succeeded, failed) once: an ended one
    /// never changes again, and an attempt is recorded as `suspicious`. A success moves the
    /// payment's money in the same write: `captured_total` is what the provider says is
    /// captured in all (None: what was captured before plus this capture).
    pub fn finish_movement(
        &self,
        id: i64,
        status: MovementStatus,
        provider_id: Option<&str>,
        captured_total: Option<i64>,
    ) -> Result<bool> {
        let tx = self.write()?;
        let m = self.movement(id)?;
        let current = m.status;
        if current == status {
            return Ok(false);
        }
        if !current.can_move_to(status) {
            insert_event(
                self,
                Some(m.payment_id),
                "suspicious",
                &serde_json::json!({
                    "reason": format!("{} {} already {}; it cannot become {}", m.kind, m.reference, m.status, status.as_str()),
                    "reference": m.reference,
                }),
            )?;
            tx.commit()?;
            return Ok(false);
        }
        // Sent: this process holds it while its request is under way.
        let sender = (status == MovementStatus::Sent).then(this_process);
        self.db.execute(
            "UPDATE movements SET status = ?2, provider_id = COALESCE(?3, provider_id), sent_by = ?5, updated_at = ?4 WHERE id = ?1",
            args![id, status.as_str(), provider_id, now(), sender],
        )?;
        insert_event(
            self,
            Some(m.payment_id),
            &format!("{}_{}", m.kind, status.as_str()),
            &serde_json::json!({"reference": m.reference, "amount_minor": m.amount_minor, "status": status.as_str()}),
        )?;
        if status == MovementStatus::Succeeded {
            self.book_movement(&m, captured_total)?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// What a confirmed capture or void does to its payment: captured money only grows, and
    /// the payment is paid once captured in full, by a final capture, or by voiding the rest.
    fn book_movement(&self, m: &MovementRow, captured_total: Option<i64>) -> Result<()> {
        let p = self
            .db
            .query_one("SELECT status, amount_minor, paid_minor FROM payments WHERE id = ?1", args![m.payment_id])?;
        let (status, amount, paid): (String, i64, Option<i64>) = (p.get(0)?, p.get(1)?, p.get(2)?);
        let status = PaymentStatus::from_stored(&status);
        let before = captured_minor(status, amount, paid).max(m.captured_before);
        let (captured, next) = match m.kind() {
            MovementKind::Capture => {
                let captured = captured_total.unwrap_or(before + m.amount_minor).clamp(before, amount);
                let whole = captured >= amount || m.is_final;
                (captured, if whole { PaymentStatus::Paid } else { PaymentStatus::PartiallyCaptured })
            }
            MovementKind::Void if before > 0 => (before, PaymentStatus::Paid),
            MovementKind::Void => (0, PaymentStatus::Cancelled),
        };
        if captured > 0 {
            self.db.execute(
                "UPDATE payments SET paid_minor = ?2 WHERE id = ?1 AND (paid_minor IS NULL OR paid_minor < ?2)",
                args![m.payment_id, captured],
            )?;
        }
        self.apply_status(m.payment_id, &StatusChange { status: next, raw_status: None, source: &m.kind })?;
        Ok(())
    }

    pub fn movement(&self, id: i64) -> Result<MovementRow> {
        from_row(&self.db.query_one("SELECT * FROM movements WHERE id = ?1", args![id])?)
    }

    pub fn movements(&self, payment_id: i64) -> Result<Vec<MovementRow>> {
        self.db
            .query("SELECT * FROM movements WHERE payment_id = ?1 ORDER BY id", args![payment_id])?
            .iter()
            .map(from_row)
            .collect()
    }

    /// The payment's capture or void not yet confirmed, if any (at most one).
    pub fn open_movement(&self, payment_id: i64) -> Result<Option<MovementRow>> {
        self.db
            .query_opt(
                "SELECT * FROM movements WHERE payment_id = ?1 AND status IN ('created', 'sent', 'unknown') ORDER BY id LIMIT 1",
                args![payment_id],
            )?
            .map(|r| from_row(&r))
            .transpose()
    }

    /// Every capture and void not confirmed, oldest first, for recovery.
    pub fn open_movements(&self) -> Result<Vec<MovementRow>> {
        self.db
            .query("SELECT * FROM movements WHERE status IN ('created', 'sent', 'unknown') ORDER BY id", vec![])?
            .iter()
            .map(from_row)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewPayment;

    fn authorised(ledger: &Ledger, reference: &str, amount_minor: i64) -> i64 {
        let p = ledger
            .insert_payment(&NewPayment {
                reference: reference.into(),
                profile: "shop".into(),
                provider: "paykka".into(),
                method: "link".into(),
                wallet: None,
                amount_minor,
                currency: "USD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        let change = StatusChange { status: PaymentStatus::Authorized, raw_status: Some("AUTHORIZED"), source: "t" };
        ledger.apply_status(p.id, &change).unwrap();
        p.id
    }

    #[test]
    fn a_partial_capture_is_partly_captured_and_the_rest_can_be_voided() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let id = authorised(&ledger, "PD-M1", 2500);
        let c = ledger.insert_movement(id, MovementKind::Capture, 1500, false).unwrap();
        assert_eq!((c.reference.as_str(), c.status.as_str()), ("PD-M1-C1", "created"));
        // Nothing else while it is unconfirmed.
        assert!(matches!(ledger.insert_movement(id, MovementKind::Capture, 100, false), Err(LedgerError::Conflict(_))));
        assert!(matches!(ledger.insert_movement(id, MovementKind::Void, 0, false), Err(LedgerError::Conflict(_))));
        ledger.finish_movement(c.id, MovementStatus::Sent, None, None).unwrap();
        ledger.finish_movement(c.id, MovementStatus::Unknown, None, None).unwrap();
        ledger.finish_movement(c.id, MovementStatus::Succeeded, None, Some(1500)).unwrap();
        let p = ledger.payment_by_id(id).unwrap().unwrap();
        assert_eq!((p.status.as_str(), p.paid_minor), ("partially_captured", Some(1500)));
        assert!(!ledger.finish_movement(c.id, MovementStatus::Failed, None, None).unwrap(), "ended stays ended");
        // More than what is left is refused in the write.
        assert!(matches!(
            ledger.insert_movement(id, MovementKind::Capture, 1001, false),
            Err(LedgerError::Conflict(_))
        ));
        let v = ledger.insert_movement(id, MovementKind::Void, 0, false).unwrap();
        assert_eq!((v.reference.as_str(), v.amount_minor), ("PD-M1-V1", 1000), "a void releases the rest");
        ledger.finish_movement(v.id, MovementStatus::Succeeded, None, None).unwrap();
        let p = ledger.payment_by_id(id).unwrap().unwrap();
        assert_eq!((p.status.as_str(), p.paid_minor), ("paid", Some(1500)), "paid what was captured");
        assert!(ledger.insert_movement(id, MovementKind::Capture, 1, false).is_err());
        assert!(ledger.verify().unwrap().ok, "movements are sealed by the chain");
    }

    #[test]
    fn a_final_capture_closes_the_authorisation_and_a_void_of_nothing_captured_cancels() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let id = authorised(&ledger, "PD-M2", 1300);
        let c = ledger.insert_movement(id, MovementKind::Capture, 800, true).unwrap();
        ledger.finish_movement(c.id, MovementStatus::Succeeded, None, None).unwrap();
        let p = ledger.payment_by_id(id).unwrap().unwrap();
        assert_eq!((p.status.as_str(), p.paid_minor), ("paid", Some(800)));
        let id = authorised(&ledger, "PD-M3", 1300);
        let v = ledger.insert_movement(id, MovementKind::Void, 0, false).unwrap();
        ledger.finish_movement(v.id, MovementStatus::Failed, None, None).unwrap();
        assert_eq!(ledger.payment_by_id(id).unwrap().unwrap().status, "authorized", "a failed void moves nothing");
        let v = ledger.insert_movement(id, MovementKind::Void, 0, false).unwrap();
        assert_eq!(v.reference, "PD-M3-V2");
        ledger.finish_movement(v.id, MovementStatus::Succeeded, None, None).unwrap();
        assert_eq!(ledger.payment_by_id(id).unwrap().unwrap().status, "cancelled");
    }
}
