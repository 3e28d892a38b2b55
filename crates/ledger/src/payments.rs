use crate::db::{args, Row};
use crate::{now, Ledger, LedgerError, Result};
use paydesk_types::PaymentStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What is known before the request leaves.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub reference: String,
    pub profile: String,
    pub provider: String,
    /// "link" (hosted page) or "qr" (counter QR).
    pub method: String,
    /// The wallet asked for (alipay, wechatpay, ...), where the provider asks for one.
    pub wallet: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub customer_no: Option<String>,
    /// Provider options of the checkout (JSON), kept so a retry sends the same.
    pub checkout_options: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRow {
    pub id: i64,
    pub reference: String,
    pub profile: String,
    pub provider: String,
    pub method: String,
    /// The wallet asked for; "vendor" in JSON, as scripts know it.
    #[serde(rename = "vendor")]
    pub wallet: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub transaction_no: Option<String>,
    pub link: Option<String>,
    /// Its status in the one state machine (a name this build does not know reads unknown;
    /// the provider's own word is in `raw_status`).
    pub status: PaymentStatus,
    /// The provider's own status string, kept as received.
    pub raw_status: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub checked_at: Option<String>,
    pub customer_no: Option<String>,
    /// A hosted session's id, where the provider has one.
    pub session_id: Option<String>,
    /// The last balances the provider reported, where it reports them.
    pub balances: Option<paydesk_types::Balances>,
    /// Provider options of the checkout (manual capture, shopper, saved card, payer).
    pub checkout_options: Option<Value>,
    /// What actually arrived, when it was less than the amount (a partial payment).
    pub paid_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    pub payment_id: Option<i64>,
    pub at: String,
    pub kind: String,
    pub detail: Value,
}

/// A status the provider reported (or an action confirmed), and what reported it
/// ("tran-query", "ipn", "refund", ...).
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    pub status: PaymentStatus,
    pub raw_status: Option<&'a str>,
    pub source: &'a str,
}

/// What applying a status did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Changed,
    Unchanged,
    /// The state machine refused it (it would move the payment backwards); recorded as a
    /// `suspicious` event, the payment left as it was.
    Refused {
        from: PaymentStatus,
        to: PaymentStatus,
    },
}

impl Applied {
    pub fn changed(self) -> bool {
        self == Applied::Changed
    }
}

pub(crate) fn payment_from_row(r: &Row) -> Result<PaymentRow> {
    Ok(PaymentRow {
        id: r.get("id")?,
        reference: r.get("reference")?,
        profile: r.get("profile")?,
        provider: r.get("provider")?,
        method: r.get("method")?,
        wallet: r.get("wallet")?,
        amount_minor: r.get("amount_minor")?,
        currency: r.get("currency")?,
        transaction_no: r.get("transaction_no")?,
        link: r.get("link")?,
        status: PaymentStatus::from_stored(&r.get::<String>("status")?),
        raw_status: r.get("raw_status")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        checked_at: r.get("checked_at")?,
        customer_no: r.get("customer_no")?,
        session_id: r.get("session_id")?,
        balances: r.get::<Option<String>>("balances")?.and_then(|b| serde_json::from_str(&b).ok()),
        checkout_options: r.get::<Option<String>>("checkout_options")?.and_then(|o| serde_json::from_str(&o).ok()),
        paid_minor: r.get("paid_minor")?,
    })
}

/// The most an event stores of what it records: history must not grow with what an
/// attacker or a broken provider sends.
pub const EVENT_DETAIL_MAX: usize = 8 * 1024;

/// `detail` as stored: whole when small, else a bounded excerpt that says it was cut.
/// Never a signature: they are removed first (see `paydesk_types::scrub`).
pub fn bounded_detail(detail: &Value) -> String {
    let text = paydesk_types::scrub::without_signatures(detail).to_string();
    if text.len() <= EVENT_DETAIL_MAX {
        return text;
    }
    let mut cut = EVENT_DETAIL_MAX - 256;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    serde_json::json!({"truncated": true, "bytes": text.len(), "excerpt": &text[..cut]}).to_string()
}

/// Appends an event; inside the caller's write.
pub(crate) fn insert_event(ledger: &Ledger, payment_id: Option<i64>, kind: &str, detail: &Value) -> Result<()> {
    ledger.db.execute(
        "INSERT INTO events (payment_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
        args![payment_id, now(), kind, bounded_detail(detail)],
    )?;
    Ok(())
}

/// A status a provider reports, squared with what only the ledger knows: refunds it made
/// (a provider may keep saying `success` after one) and a cancellation (then `closed`).
fn reconcile(
    ledger: &Ledger,
    id: i64,
    amount_minor: i64,
    current: PaymentStatus,
    reported: PaymentStatus,
) -> Result<PaymentStatus> {
    Ok(match reported {
        PaymentStatus::Paid if current != PaymentStatus::Disputed => {
            let refunded = ledger.refunded_minor(id)?;
            if refunded >= amount_minor {
                PaymentStatus::Refunded
            } else if refunded > 0 {
                PaymentStatus::PartiallyRefunded
            } else {
                PaymentStatus::Paid
            }
        }
        PaymentStatus::Expired if current == PaymentStatus::Cancelled => PaymentStatus::Cancelled,
        other => other,
    })
}

impl Ledger {
    /// Records a payment with status `created`, before anything is sent.
    pub fn insert_payment(&self, p: &NewPayment) -> Result<PaymentRow> {
        let tx = self.write()?;
        let at = now();
        let inserted = self.db.query_one(
            "INSERT INTO payments (reference, profile, provider, method, wallet, amount_minor, currency, customer_no, checkout_options, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, 'created', ?9, ?9) RETURNING id",
            args![
                &p.reference,
                &p.profile,
                &p.provider,
                &p.method,
                &p.wallet,
                p.amount_minor,
                &p.currency,
                &p.customer_no,
                at,
                p.checkout_options.as_ref().map(Value::to_string)
            ],
        );
        let id: i64 = match inserted {
            Err(LedgerError::Duplicate(_)) => {
                return Err(LedgerError::Conflict(format!("reference {} is already in the ledger", p.reference)));
            }
            other => other?.get(0)?,
        };
        insert_event(
            self,
            Some(id),
            "created",
            // The history's key stays "vendor", as every earlier "created" event says it.
            &serde_json::json!({"amount_minor": p.amount_minor, "currency": p.currency, "vendor": p.wallet, "method": p.method}),
        )?;
        tx.commit()?;
        Ok(self.payment_by_id(id)?.expect("row just inserted"))
    }

    pub fn payment_by_id(&self, id: i64) -> Result<Option<PaymentRow>> {
        self.db.query_opt("SELECT * FROM payments WHERE id = ?1", args![id])?.map(|r| payment_from_row(&r)).transpose()
    }

    pub fn payment_by_reference(&self, reference: &str) -> Result<Option<PaymentRow>> {
        self.db
            .query_opt("SELECT * FROM payments WHERE reference = ?1", args![reference])?
            .map(|r| payment_from_row(&r))
            .transpose()
    }

    /// One statement as a write of its own (all or nothing, in the writers' turn).
    pub(crate) fn write_one(&self, sql: &str, values: Vec<crate::db::Value>) -> Result<u64> {
        let tx = self.write()?;
        let n = self.db.execute(sql, values)?;
        tx.commit()?;
        Ok(n)
    }

    /// Stores what the provider gave back for a created payment (its id and link).
    pub fn record_balances(&self, id: i64, balances: &paydesk_types::Balances) -> Result<()> {
        let text = serde_json::to_string(balances).expect("plain numbers");
        self.write_one("UPDATE payments SET balances = ?2 WHERE id = ?1", args![id, text])?;
        Ok(())
    }

    /// What a partial payment brought in, as the provider reported it. Money taken never
    /// decreases: a smaller (older) report changes nothing and says so (false).
    pub fn record_paid(&self, id: i64, paid_minor: i64) -> Result<bool> {
        // Without a figure, a payment that took money took all of it.
        let taken: Vec<String> = PaymentStatus::taken_names().map(|s| format!("'{s}'")).collect();
        let changed = self.write_one(
            &format!(
                "UPDATE payments SET paid_minor = ?2 WHERE id = ?1
                 AND coalesce(paid_minor, CASE WHEN status IN ({}) THEN amount_minor ELSE 0 END) <= ?2",
                taken.join(", ")
            ),
            args![id, paid_minor],
        )?;
        Ok(changed > 0)
    }

    pub fn record_session(&self, id: i64, session_id: &str) -> Result<()> {
        self.write_one("UPDATE payments SET session_id = ?2 WHERE id = ?1", args![id, session_id])?;
        Ok(())
    }

    /// An empty `transaction_no` (not named yet) leaves the one stored, if any.
    pub fn record_provider_ids(&self, id: i64, transaction_no: &str, link: Option<&str>) -> Result<()> {
        let transaction_no = Some(transaction_no).filter(|t| !t.is_empty());
        self.write_one(
            "UPDATE payments SET transaction_no = COALESCE(?2, transaction_no), link = COALESCE(?3, link), updated_at = ?4 WHERE id = ?1",
            args![id, transaction_no, link, now()],
        )?;
        Ok(())
    }

    /// Replaces a transaction number the provider does not know by the one it names for
    /// our own reference, keeping the evidence (a wrong id never locks a payment out).
    pub fn correct_transaction_no(&self, id: i64, wrong: &str, right: &str) -> Result<()> {
        let tx = self.write()?;
        self.db.execute(
            "UPDATE payments SET transaction_no = ?2, updated_at = ?3 WHERE id = ?1",
            args![id, right, now()],
        )?;
        insert_event(
            self,
            Some(id),
            "suspicious",
            &serde_json::json!({"reason": "the transaction number kept was unknown to the provider; it names another for our reference",
                                "kept": wrong, "named": right}),
        )?;
        tx.commit()
    }

    /// Applies a status through the one state machine, in one write transaction: a change
    /// writes a `status_changed` event; a move the machine refuses (paid back to pending,
    /// expired after paid, ...) writes a `suspicious` event with the evidence and changes
    /// nothing.
    pub fn apply_status(&self, id: i64, change: &StatusChange<'_>) -> Result<Applied> {
        let tx = self.write()?;
        let r = self.db.query_one("SELECT status, raw_status, amount_minor FROM payments WHERE id = ?1", args![id])?;
        let (old, old_raw, amount_minor): (String, Option<String>, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let current = PaymentStatus::from_stored(&old);
        let next = reconcile(self, id, amount_minor, current, change.status)?;
        if !current.can_move_to(next) {
            insert_event(
                self,
                Some(id),
                "suspicious",
                &serde_json::json!({
                    "reason": format!("a {} payment cannot become {}", current.as_str(), next.as_str()),
                    "from": old, "reported": change.status.as_str(), "raw": change.raw_status, "source": change.source,
                }),
            )?;
            tx.commit()?;
            return Ok(Applied::Refused { from: current, to: next });
        }
        let at = now();
        let changed = current != next || (change.raw_status.is_some() && old_raw.as_deref() != change.raw_status);
        // `updated_at` moves only with a change (it is sealed: a refresh that finds nothing
        // new leaves no entry in the chain).
        self.db.execute(
            "UPDATE payments SET status = ?2, raw_status = COALESCE(?3, raw_status), checked_at = ?4,
                 updated_at = CASE WHEN ?5 = 1 THEN ?4 ELSE updated_at END WHERE id = ?1",
            args![id, next.as_str(), change.raw_status, at, i64::from(changed)],
        )?;
        if changed {
            insert_event(
                self,
                Some(id),
                "status_changed",
                &serde_json::json!({"from": old, "to": next.as_str(), "raw": change.raw_status, "source": change.source}),
            )?;
        }
        tx.commit()?;
        if current != next {
            self.status_changed(id);
        }
        Ok(if changed { Applied::Changed } else { Applied::Unchanged })
    }

    pub fn mark_checked(&self, id: i64) -> Result<()> {
        self.write_one("UPDATE payments SET checked_at = ?2 WHERE id = ?1", args![id, now()])?;
        Ok(())
    }

    pub fn append_event(&self, payment_id: Option<i64>, kind: &str, detail: &Value) -> Result<()> {
        let tx = self.write()?;
        insert_event(self, payment_id, kind, detail)?;
        tx.commit()
    }

    /// Several events in one transaction (a request and its answer): one write to disk.
    pub fn append_events(&self, events: &[(Option<i64>, &str, Value)]) -> Result<()> {
        let tx = self.write()?;
        for (payment_id, kind, detail) in events {
            insert_event(self, *payment_id, kind, detail)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn events(&self, payment_id: i64) -> Result<Vec<EventRow>> {
        self.event_rows(
            "SELECT id, payment_id, at, kind, detail FROM events WHERE payment_id = ?1 ORDER BY id",
            args![payment_id],
        )
    }

    /// The ledger's own history (profiles saved or removed, refused notifications without a
    /// payment), newest first.
    pub fn events_without_payment(&self, limit: i64) -> Result<Vec<EventRow>> {
        self.event_rows(
            "SELECT id, payment_id, at, kind, detail FROM events WHERE payment_id IS NULL ORDER BY id DESC LIMIT ?1",
            args![limit],
        )
    }

    /// A profile's requests and answers (of its payments) and its connection tests
    /// (`probe`, no payment), newest first.
    pub fn provider_exchanges(&self, profile: &str, limit: i64) -> Result<Vec<EventRow>> {
        self.event_rows(
            "SELECT e.id, e.payment_id, e.at, e.kind, e.detail FROM events e
             LEFT JOIN payments p ON p.id = e.payment_id
             WHERE (e.kind IN ('request', 'response') AND p.profile = ?1)
                OR (e.kind = 'probe' AND e.payment_id IS NULL AND e.detail LIKE ?2)
             ORDER BY e.id DESC LIMIT ?3",
            args![profile, format!("%\"profile\":\"{profile}\"%"), limit],
        )
    }

    /// Profiles saved and removed, newest first.
    pub fn profile_events(&self, limit: i64) -> Result<Vec<EventRow>> {
        self.event_rows(
            "SELECT id, payment_id, at, kind, detail FROM events
             WHERE payment_id IS NULL AND kind IN ('profile_saved', 'profile_removed') ORDER BY id DESC LIMIT ?1",
            args![limit],
        )
    }

    fn event_rows(&self, sql: &str, values: Vec<crate::db::Value>) -> Result<Vec<EventRow>> {
        self.db
            .query(sql, values)?
            .iter()
            .map(|r| {
                let detail: String = r.get(4)?;
                Ok(EventRow {
                    id: r.get(0)?,
                    payment_id: r.get(1)?,
                    at: r.get(2)?,
                    kind: r.get(3)?,
                    detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
                })
            })
            .collect()
    }

    /// Newest first.
    /// Counts a refused notification; returns how many of this kind there have been, so the
    /// caller keeps a sample of them rather than every one.
    pub fn count_rejected_notification(&self, provider: &str, reason: &str) -> Result<i64> {
        let at = now();
        let tx = self.write()?;
        let count = self
            .db
            .query_one(
                "INSERT INTO rejected_notifications (provider, reason, count, first_at, last_at) VALUES (?1, ?2, 1, ?3, ?3)
                 ON CONFLICT (provider, reason) DO UPDATE SET count = rejected_notifications.count + 1, last_at = ?3
                 RETURNING count",
                args![provider, reason, at],
            )?
            .get(0)?;
        tx.commit()?;
        Ok(count)
    }

    /// Remembers a notification's nonce; false when it was used before (a replay).
    pub fn first_use_of_nonce(&self, provider: &str, nonce: &str) -> Result<bool> {
        let inserted = self.write_one(
            "INSERT INTO notification_nonces (provider, nonce, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![provider, nonce, now()],
        )?;
        Ok(inserted == 1)
    }

    /// Payments a crash (or an outage) left `created`: recorded, maybe sent, never answered.
    pub fn payments_left_created(&self) -> Result<Vec<PaymentRow>> {
        self.db
            .query("SELECT * FROM payments WHERE status = 'created' ORDER BY id", vec![])?
            .iter()
            .map(payment_from_row)
            .collect()
    }

    pub fn count_payments(&self) -> Result<i64> {
        self.db.query_one("SELECT count(*) FROM payments", vec![])?.get(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PaymentFilter;

    fn new_payment(reference: &str) -> NewPayment {
        NewPayment {
            reference: reference.into(),
            profile: "demo".into(),
            provider: "pockyt".into(),
            method: "link".into(),
            wallet: Some("alipay".into()),
            amount_minor: 1300,
            currency: "USD".into(),
            customer_no: None,
            checkout_options: None,
        }
    }

    #[test]
    fn payment_lifecycle_on_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        assert_eq!(ledger.schema_version().unwrap(), crate::steps::latest_version());
        let p = ledger.insert_payment(&new_payment("PD-1")).unwrap();
        assert_eq!(p.status, "created");
        ledger.record_provider_ids(p.id, "T1", Some("http://x/cashier/T1")).unwrap();
        let change = StatusChange { status: PaymentStatus::Pending, raw_status: Some("init"), source: "secure-pay" };
        assert_eq!(ledger.apply_status(p.id, &change).unwrap(), Applied::Changed);
        assert_eq!(ledger.apply_status(p.id, &change).unwrap(), Applied::Unchanged, "same status twice is one change");
        drop(ledger);

        // Reopening finds everything, and migrations are not re-run.
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let p = ledger.payment_by_reference("PD-1").unwrap().unwrap();
        assert_eq!((p.status.as_str(), p.transaction_no.as_deref()), ("pending", Some("T1")));
        let kinds: Vec<_> = ledger.events(p.id).unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["created", "status_changed"]);
    }

    #[test]
    fn duplicate_reference_is_a_conflict_and_events_are_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        ledger.insert_payment(&new_payment("PD-2")).unwrap();
        assert!(matches!(ledger.insert_payment(&new_payment("PD-2")), Err(LedgerError::Conflict(_))));
        assert_eq!(ledger.count_payments().unwrap(), 1);
        assert!(ledger.db.execute("DELETE FROM events", vec![]).is_err());
        assert!(ledger.db.execute("UPDATE events SET kind = 'x'", vec![]).is_err());
    }

    #[test]
    fn a_paid_payment_never_moves_back_and_the_attempt_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let p = ledger.insert_payment(&new_payment("PD-SM")).unwrap();
        let paid = StatusChange { status: PaymentStatus::Paid, raw_status: Some("success"), source: "ipn" };
        assert_eq!(ledger.apply_status(p.id, &paid).unwrap(), Applied::Changed);
        for (status, raw) in [
            (PaymentStatus::Pending, "init"),
            (PaymentStatus::Expired, "closed"),
            (PaymentStatus::Unknown, "weird"),
            (PaymentStatus::Failed, "failed"),
        ] {
            let back = StatusChange { status, raw_status: Some(raw), source: "ipn" };
            assert_eq!(
                ledger.apply_status(p.id, &back).unwrap(),
                Applied::Refused { from: PaymentStatus::Paid, to: status }
            );
        }
        let row = ledger.payment_by_id(p.id).unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.raw_status.as_deref()), ("paid", Some("success")));
        let suspicious: Vec<_> = ledger.events(p.id).unwrap().into_iter().filter(|e| e.kind == "suspicious").collect();
        assert_eq!(suspicious.len(), 4);
        assert_eq!(suspicious[0].detail["reported"], "pending");
        assert_eq!(suspicious[0].detail["raw"], "init");
    }

    #[test]
    fn oversized_event_details_are_stored_as_bounded_excerpts() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let big = serde_json::json!({"body": "é".repeat(1_000_000)});
        ledger.append_event(None, "response", &big).unwrap();
        let stored: String = ledger.db.query_one("SELECT detail FROM events", vec![]).unwrap().get(0).unwrap();
        assert!(stored.len() <= EVENT_DETAIL_MAX, "{}", stored.len());
        let v: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(v["truncated"], true);
    }

    #[cfg(unix)]
    #[test]
    fn the_ledger_and_its_folder_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let ledger = Ledger::open_in(&home).unwrap();
        ledger.insert_payment(&new_payment("PD-P")).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home), 0o700);
        assert_eq!(mode(&home.join(crate::FILE_NAME)), 0o600);
        assert_eq!(mode(&home.join(format!("{}-wal", crate::FILE_NAME))), 0o600);
    }

    #[test]
    fn a_nonce_is_good_once() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        assert!(ledger.first_use_of_nonce("paykka", "n-0123456789").unwrap());
        assert!(!ledger.first_use_of_nonce("paykka", "n-0123456789").unwrap(), "a replay");
        assert!(ledger.first_use_of_nonce("other", "n-0123456789").unwrap(), "per provider");
    }

    #[test]
    fn zero_amount_is_refused_by_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let mut p = new_payment("PD-3");
        p.amount_minor = 0;
        assert!(ledger.insert_payment(&p).is_err());
    }

    #[test]
    fn filters() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        for r in ["A-1", "A-2", "B-1"] {
            ledger.insert_payment(&new_payment(r)).unwrap();
        }
        let f = PaymentFilter { text: Some("A-".into()), ..Default::default() };
        assert_eq!(ledger.payments(&f).unwrap().len(), 2);
        let f = PaymentFilter { status: Some("paid".into()), ..Default::default() };
        assert!(ledger.payments(&f).unwrap().is_empty());
    }
}
