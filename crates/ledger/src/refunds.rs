use crate::db::{args, Row};
use crate::payments::insert_event;
use crate::{now, Ledger, LedgerError, Result};
use paydesk_types::{PaymentStatus, RefundStatus};
use serde::{Deserialize, Serialize};

/// One refund of a payment. `status`: created (sent or about to be), succeeded, failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRow {
    pub id: i64,
    pub payment_id: i64,
    pub refund_reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: RefundStatus,
    pub refund_transaction_no: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What refunds take from the refundable remainder: succeeded ones and those not yet
/// ended (created or pending: they may have been paid out). The same rule `insert_refund`
/// enforces.
pub fn committed_minor(refunds: &[RefundRow]) -> i64 {
    refunds.iter().filter(|r| r.status != RefundStatus::Failed).map(|r| r.amount_minor).sum()
}

fn from_row(r: &Row) -> Result<RefundRow> {
    Ok(RefundRow {
        id: r.get("id")?,
        payment_id: r.get("payment_id")?,
        refund_reference: r.get("refund_reference")?,
        amount_minor: r.get("amount_minor")?,
        currency: r.get("currency")?,
        status: RefundStatus::from_stored(&r.get::<String>("status")?),
        refund_transaction_no: r.get("refund_transaction_no")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

impl Ledger {
    /// Records a refund before it is sent, refusing one above the refundable remainder.
    /// In-flight refunds count against the remainder, so two at once cannot overdraw.
    pub fn insert_refund(&self, payment_id: i64, refund_reference: &str, amount_minor: i64) -> Result<RefundRow> {
        let tx = self.write()?;
        let r = self.db.query_one(
            "SELECT amount_minor, currency, status, paid_minor FROM payments WHERE id = ?1",
            args![payment_id],
        )?;
        let (amount, currency, status, paid): (i64, String, String, Option<i64>) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        // Against money actually taken: what was captured or paid, never the amount asked.
        let status = PaymentStatus::from_stored(&status);
        let taken = if status.is_refundable() || status == PaymentStatus::Refunded {
            crate::movements::captured_minor(status, amount, paid)
        } else {
            0
        };
        let refunded: i64 = self
            .db
            .query_one(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE payment_id = ?1 AND status != 'failed'",
                args![payment_id],
            )?
            .get(0)?;
        if amount_minor > taken - refunded {
            return Err(LedgerError::Conflict(format!(
                "refund of {amount_minor} exceeds the refundable remainder {} (minor units)",
                (taken - refunded).max(0)
            )));
        }
        let at = now();
        let id: i64 = self
            .db
            .query_one(
                "INSERT INTO refunds (payment_id, refund_reference, amount_minor, currency, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'created', ?5, ?5) RETURNING id",
                args![payment_id, refund_reference, amount_minor, &currency, at],
            )
            .map_err(|e| match e {
                LedgerError::Duplicate(_) => {
                    LedgerError::Duplicate(format!("refund reference {refund_reference} is already in the ledger"))
                }
                e => e,
            })?
            .get(0)?;
        insert_event(
            self,
            Some(payment_id),
            "refund_created",
            &serde_json::json!({"refund_reference": refund_reference, "amount_minor": amount_minor, "currency": currency}),
        )?;
        tx.commit()?;
        from_row(&self.db.query_one("SELECT * FROM refunds WHERE id = ?1", args![id])?)
    }

    /// Ends a refund (succeeded or failed) once: an ended refund never changes again; an
    /// answer that tries is recorded as `suspicious`. Returns whether it changed.
    pub fn finish_refund(&self, id: i64, status: RefundStatus, refund_transaction_no: Option<&str>) -> Result<bool> {
        let tx = self.write()?;
        let r =
            self.db.query_one("SELECT payment_id, refund_reference, status FROM refunds WHERE id = ?1", args![id])?;
        let (payment_id, reference, old): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let current = RefundStatus::from_stored(&old);
        if current == status {
            return Ok(false);
        }
        if !current.can_move_to(status) {
            insert_event(
                self,
                Some(payment_id),
                "suspicious",
                &serde_json::json!({
                    "reason": format!("refund {reference} already {old}; it cannot become {}", status.as_str()),
                    "refund_reference": reference, "refund_transaction_no": refund_transaction_no,
                }),
            )?;
            tx.commit()?;
            return Ok(false);
        }
        self.db.execute(
            "UPDATE refunds SET status = ?2, refund_transaction_no = COALESCE(?3, refund_transaction_no), updated_at = ?4 WHERE id = ?1",
            args![id, status.as_str(), refund_transaction_no, now()],
        )?;
        insert_event(
            self,
            Some(payment_id),
            "refund_finished",
            &serde_json::json!({"refund_reference": reference, "status": status.as_str(), "refund_transaction_no": refund_transaction_no}),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Refunds not ended (sent but never answered, or accepted and not finished), oldest
    /// first, for recovery.
    pub fn unanswered_refunds(&self) -> Result<Vec<RefundRow>> {
        self.db
            .query("SELECT * FROM refunds WHERE status IN ('created', 'pending') ORDER BY id", vec![])?
            .iter()
            .map(from_row)
            .collect()
    }

    pub fn refunds(&self, payment_id: i64) -> Result<Vec<RefundRow>> {
        self.db
            .query("SELECT * FROM refunds WHERE payment_id = ?1 ORDER BY id", args![payment_id])?
            .iter()
            .map(from_row)
            .collect()
    }

    pub fn refund_by_reference(&self, refund_reference: &str) -> Result<Option<RefundRow>> {
        self.db
            .query_opt("SELECT * FROM refunds WHERE refund_reference = ?1", args![refund_reference])?
            .map(|r| from_row(&r))
            .transpose()
    }

    /// Refunded so far (succeeded only), in minor units.
    pub fn refunded_minor(&self, payment_id: i64) -> Result<i64> {
        self.db
            .query_one(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE payment_id = ?1 AND status = 'succeeded'",
                args![payment_id],
            )?
            .get(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Ledger, LedgerError, NewPayment, StatusChange};
    use paydesk_types::{PaymentStatus, RefundStatus};

    #[test]
    fn refunds_never_exceed_the_remainder() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let p = ledger
            .insert_payment(&NewPayment {
                reference: "PD-R".into(),
                profile: "demo".into(),
                provider: "pockyt".into(),
                method: "qr".into(),
                wallet: None,
                amount_minor: 1000,
                currency: "USD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        assert!(ledger.insert_refund(p.id, "PD-R-R0", 1).is_err(), "nothing taken, nothing to refund");
        let paid = StatusChange { status: PaymentStatus::Paid, raw_status: None, source: "t" };
        ledger.apply_status(p.id, &paid).unwrap();
        let r1 = ledger.insert_refund(p.id, "PD-R-R1", 400).unwrap();
        match ledger.insert_refund(p.id, "PD-R-R1", 100) {
            Err(LedgerError::Duplicate(m)) => assert!(m.contains("already in the ledger"), "{m}"),
            other => panic!("refund reference is unique: {other:?}"),
        }
        // In flight counts: 700 more would overdraw.
        assert!(matches!(ledger.insert_refund(p.id, "PD-R-R2", 700), Err(LedgerError::Conflict(_))));
        ledger.finish_refund(r1.id, RefundStatus::Failed, None).unwrap();
        let r2 = ledger.insert_refund(p.id, "PD-R-R2", 1000).unwrap();
        assert!(ledger.finish_refund(r2.id, RefundStatus::Succeeded, Some("T-R2")).unwrap());
        assert!(!ledger.finish_refund(r2.id, RefundStatus::Failed, None).unwrap(), "an ended refund stays ended");
        assert_eq!(ledger.refund_by_reference("PD-R-R2").unwrap().unwrap().status, "succeeded");
        assert_eq!(ledger.refunded_minor(p.id).unwrap(), 1000);
        assert!(ledger.insert_refund(p.id, "PD-R-R3", 1).is_err());
        assert!(ledger.insert_refund(p.id, "PD-R-R2", 1).is_err());
    }
}
