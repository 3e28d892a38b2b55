//! What a provider says about a payment, applied only when it matches the ledger, through
//! the one state machine: answers, queries and polls.

use super::*;

/// Why an answer about a payment cannot be applied to it, if it cannot: every field that
/// identifies a payment must agree with the ledger.
pub(crate) fn mismatch(row: &PaymentRow, report: &PaymentReport) -> Option<String> {
    if report.reference != row.reference {
        return Some(format!("it names reference '{}'", shown(&report.reference)));
    }
    match &row.transaction_no {
        Some(ours) if *ours != report.transaction_no => {
            return Some(format!("it names transaction '{}'", shown(&report.transaction_no)));
        }
        // Some providers name the transaction only once the customer pays (the order of a
        // hosted session): none yet is fine; one we will store must be plain.
        None if !report.transaction_no.is_empty() && !valid_provider_id(&report.transaction_no) => {
            return Some(format!("it names no usable transaction number ('{}')", shown(&report.transaction_no)));
        }
        _ => {}
    }
    if let Some(b) = &report.balances {
        let parts = [b.authorized, b.captured, b.capturable, b.voidable, b.refunded, b.refundable];
        let impossible = parts.iter().any(|v| *v < 0)
            || b.authorized > row.amount_minor
            || b.captured > b.authorized
            || b.capturable > b.authorized - b.captured
            || b.refunded > b.captured
            || b.refundable > b.captured - b.refunded;
        if impossible {
            return Some(format!(
                "it reports impossible balances (authorised {}, captured {}, capturable {}, refunded {}, refundable {})",
                b.authorized, b.captured, b.capturable, b.refunded, b.refundable
            ));
        }
    }
    let ours = Currency::from_code(&row.currency).ok().map(|c| Money::new(row.amount_minor, c));
    if report.status == PaymentStatus::PartiallyPaid {
        // Part of the amount arrived: more than nothing, less than all, in its currency.
        let part =
            report.paid_amount.zip(ours).filter(|(paid, all)| paid.currency == all.currency && paid.minor < all.minor);
        if part.is_none() || report.amount.is_some_and(|a| Some(a) != ours) {
            let paid = report.paid_amount.map(|m| m.to_decimal_string()).unwrap_or_else(|| "no valid amount".into());
            return Some(format!("it says {} {} arrived of a partial payment", shown(&paid), shown(&report.currency)));
        }
        return None;
    }
    // A decline moves no money: an answer naming none (an "actually paid" of 0) may
    // still end an unpaid payment; one that names an amount must name ours.
    let moves_no_money =
        matches!(report.status, PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled);
    if report.amount.is_none() && moves_no_money {
        return None;
    }
    if report.amount.is_none() || report.amount != ours {
        return Some(format!("it says {} {}", shown(&amount_shown(report)), shown(&report.currency)));
    }
    None
}

pub(super) fn amount_shown(report: &PaymentReport) -> String {
    report.amount.map(|m| m.to_decimal_string()).unwrap_or_else(|| "no valid amount".into())
}

/// A provider's id we are willing to store: short and plain.
pub(crate) fn valid_provider_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// At most 64 printable characters of something a provider sent, for a message.
pub(crate) fn shown(s: &str) -> String {
    s.chars().filter(|c| !text::is_forbidden(*c)).take(64).collect()
}

/// The evidence kept with a suspicious answer: what it said, bounded.
pub(super) fn evidence(report: &PaymentReport) -> serde_json::Value {
    serde_json::json!({
        "reference": shown(&report.reference),
        "transaction_no": shown(&report.transaction_no),
        "amount": report.amount.map(|m| m.to_decimal_string()),
        "paid_amount": report.paid_amount.map(|m| m.to_decimal_string()),
        "currency": shown(&report.currency),
        "raw_status": shown(&report.raw_status),
    })
}

/// Where an exchange came from, for the events: the endpoint's last path segment
/// ("create-trans-qrcode", "tran-query"), else the flow.
pub(crate) fn source_of(exchange: &Option<Exchange>, flow: &'static str) -> String {
    exchange
        .as_ref()
        .and_then(|e| e.path.rsplit('/').next())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .unwrap_or_else(|| flow.to_string())
}

pub(crate) fn payment_ref(row: &PaymentRow) -> PaymentRef<'_> {
    PaymentRef { reference: &row.reference, transaction_no: row.transaction_no.as_deref() }
}

/// `Paydesk::record_mismatch` on a ledger already in hand (a batch).
pub(crate) fn record_mismatch_in(
    ledger: &Ledger,
    row: &PaymentRow,
    report: &PaymentReport,
    source: &str,
    reason: &str,
) -> Result<AppError, AppError> {
    ledger.append_event(
        Some(row.id),
        "suspicious",
        &serde_json::json!({"source": source, "reason": format!("answer does not match the ledger: {reason}"), "answer": evidence(report)}),
    )?;
    Ok(AppError::ProviderProtocol {
        message: format!(
            "The provider's answer does not match payment {} ({} {}): {reason}. It was recorded as suspicious and not applied.",
            row.reference,
            Currency::from_code(&row.currency).map(|c| Money::new(row.amount_minor, c).to_decimal_string()).unwrap_or_default(),
            row.currency
        ),
        reference: Some(row.reference.clone()),
    })
}

/// `Paydesk::apply_report` on a ledger already in hand (a batch).
pub(crate) fn apply_report_in(
    ledger: &Ledger,
    row: &PaymentRow,
    report: &PaymentReport,
    source: &str,
) -> Result<Applied, AppError> {
    if let Some(reason) = mismatch(row, report) {
        return Err(record_mismatch_in(ledger, row, report, source, &reason)?);
    }
    let raw = shown(&report.raw_status);
    let raw_status = Some(raw.as_str()).filter(|r| !r.is_empty());
    // A status we do not know is kept as the provider's word and never moves the payment.
    if report.status == PaymentStatus::Unknown {
        ledger.append_event(
            Some(row.id),
            "unknown_status",
            &serde_json::json!({"source": source, "raw": raw, "says": format!("the provider says {raw}")}),
        )?;
        return Ok(Applied::Unchanged);
    }
    // Ids are adopted only from an answer that names our reference (checked above).
    if row.transaction_no.is_none() {
        ledger.record_provider_ids(row.id, &report.transaction_no, None)?;
    }
    let (status, taken) = money_taken(row, report);
    let current = row.status;
    if let Some(taken) = taken.filter(|_| current.can_move_to(status)) {
        if !ledger.record_paid(row.id, taken)? {
            // Money taken never decreases: an older or smaller report is kept, not applied.
            ledger.append_event(
                Some(row.id),
                "suspicious",
                &serde_json::json!({"source": source, "reason": "it reports less money taken than the ledger holds; kept, not applied",
                                    "reported_minor": taken, "held_minor": row.paid_minor}),
            )?;
        }
    }
    let applied = ledger.apply_status(row.id, &StatusChange { status, raw_status, source })?;
    if !matches!(applied, Applied::Refused { .. }) {
        if let Some(balances) = &report.balances {
            ledger.record_balances(row.id, balances)?;
        }
    }
    Ok(applied)
}

/// The status a report stands for in the one state machine, and the money it says was
/// taken where less than the amount: what arrived of a partial payment, or what was
/// captured where the balances show a partial capture (more may follow: partly captured;
/// none may: paid, for what was captured).
pub(super) fn money_taken(row: &PaymentRow, report: &PaymentReport) -> (PaymentStatus, Option<i64>) {
    if let (Some(paid), PaymentStatus::PartiallyPaid) = (report.paid_amount, report.status) {
        return (PaymentStatus::PartiallyPaid, Some(paid.minor));
    }
    match (report.status, report.balances) {
        (PaymentStatus::Authorized | PaymentStatus::Paid, Some(b))
            if b.captured > 0 && b.captured < row.amount_minor =>
        {
            let status = if b.capturable > 0 { PaymentStatus::PartiallyCaptured } else { PaymentStatus::Paid };
            (status, Some(b.captured))
        }
        (status, _) => (status, None),
    }
}

/// `Paydesk::log_exchange` on a ledger already in hand (a batch).
pub(crate) fn log_exchange_in(
    ledger: &Ledger,
    id: Option<i64>,
    exchange: &Option<Exchange>,
) -> Result<(), paydesk_ledger::LedgerError> {
    let Some(exchange) = exchange else { return Ok(()) };
    let mut events = vec![(
        id,
        "request",
        serde_json::json!({"method": exchange.method, "path": exchange.path, "headers": exchange.headers, "body": exchange.body}),
    )];
    if exchange.http_status.is_some() {
        events.push((
            id,
            "response",
            serde_json::json!({"path": exchange.path, "http_status": exchange.http_status, "body": exchange.response}),
        ));
    }
    ledger.append_events(&events)
}

impl Paydesk {
    /// An answer about another payment (or with another amount) is kept as evidence and
    /// never applied; the error says so.
    pub(crate) fn record_mismatch(
        &self,
        row: &PaymentRow,
        report: &PaymentReport,
        source: &str,
        reason: &str,
    ) -> Result<AppError, AppError> {
        crate::blocking(|| record_mismatch_in(&self.ledger(), row, report, source, reason))
    }

    /// Applies what a provider said about a payment (query answer or notification): only
    /// when it matches the ledger, and only through the state machine.
    pub(crate) fn apply_report(
        &self,
        row: &PaymentRow,
        report: &PaymentReport,
        source: &str,
    ) -> Result<Applied, AppError> {
        crate::blocking(|| apply_report_in(&self.ledger(), row, report, source))
    }

    /// Every request and response becomes an event (the payment's, or unattached for
    /// customer calls), in one shape for every provider. Bodies hold signatures, never secrets.
    pub(crate) fn log_exchange(&self, id: impl Into<Option<i64>>, exchange: &Option<Exchange>) -> Result<(), AppError> {
        let id = id.into();
        crate::blocking(|| Ok(log_exchange_in(&self.ledger(), id, exchange)?))
    }

    /// Asks the provider (tran-query) and applies what it says, when it is about this
    /// payment and moves it forward. Also settles a refund that never got an answer.
    pub async fn refresh(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        if !self.query_provider(&row).await? {
            return Err(AppError::ProviderRejected {
                code: "unknown_transaction".into(),
                message: format!(
                    "{} has never seen payment {reference}; send it again (retry) or cancel it.",
                    self.profile(&row.profile)?.provider_label()
                ),
            });
        }
        match self.settle_movements_of(&row, false).await {
            // Being sent right now elsewhere: its sender books it.
            Ok(_) | Err(AppError::NotAllowed { .. }) => {}
            Err(e) => return Err(e),
        }
        let unanswered = crate::blocking(|| self.ledger().refunds(row.id))?.iter().any(|r| r.status.is_open());
        if unanswered {
            match self.settle_refund(&row).await {
                Ok(()) | Err(AppError::ProviderUnreachable { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.payment(reference)
    }

    /// Asks the provider about a payment and applies a matching answer. `Ok(false)`: the
    /// provider has never seen it.
    pub(crate) async fn query_provider(&self, row: &PaymentRow) -> Result<bool, AppError> {
        let profile = self.profile(&row.profile)?;
        let gateway = self.gateway_for(&profile)?;
        self.last_query.lock().unwrap_or_else(|p| p.into_inner()).insert(row.reference.clone(), Instant::now());
        let outcome = gateway.query(payment_ref(row)).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        match outcome.result {
            Ok(report) => {
                self.apply_report(row, &report, &source_of(&outcome.exchange, "query"))?;
                Ok(true)
            }
            // Unknown by the number we kept: asked by our own reference, so a wrong number
            // can never lock the payment out.
            Err(e) if e.is_unknown_transaction() && row.transaction_no.is_some() => {
                let by_reference = PaymentRef { reference: &row.reference, transaction_no: None };
                let outcome = gateway.query(by_reference).await;
                self.log_exchange(row.id, &outcome.exchange)?;
                let report = match outcome.result {
                    Ok(report) => report,
                    Err(e) if e.is_unknown_transaction() => return Ok(false),
                    Err(e) => return Err(e.into()),
                };
                let named = report.transaction_no.clone();
                if report.reference != row.reference || !valid_provider_id(&named) {
                    return Err(self.record_mismatch(row, &report, "query", "it does not name our reference")?);
                }
                let kept = row.transaction_no.clone().unwrap_or_default();
                let row = crate::blocking(|| {
                    let ledger = self.ledger();
                    ledger.correct_transaction_no(row.id, &kept, &named)?;
                    ledger.payment_by_id(row.id)
                })?
                .ok_or_else(|| AppError::payment_not_found(&row.reference))?;
                self.apply_report(&row, &report, &source_of(&outcome.exchange, "query"))?;
                Ok(true)
            }
            Err(e) if e.is_unknown_transaction() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// For a waiting screen: the ledger's view, queried from the provider at most every
    /// `interval` (an IPN usually lands first and is read straight from the ledger).
    pub async fn poll(&self, reference: &str, interval: Duration) -> Result<PaymentView, AppError> {
        let view = self.payment(reference)?;
        // Only what the provider has acknowledged (a transaction number, or a hosted
        // session) can be asked about; the rest is for retry or recovery.
        // What reached the provider can be asked about (by its number, else by our
        // reference); a payment still `created` is for retry or recovery.
        if view.status.is_final() || view.status == PaymentStatus::Created {
            return Ok(view);
        }
        let due = self
            .last_query
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(reference)
            .is_none_or(|t| t.elapsed() >= interval);
        if !due {
            return Ok(view);
        }
        match self.refresh(reference).await {
            Ok(v) => Ok(v),
            // A slow or unreachable provider must not break the waiting screen.
            Err(AppError::ProviderUnreachable { .. }) => Ok(view),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;
    use paydesk_gateways::Balances;

    fn ledger_with(dir: &tempfile::TempDir, status: PaymentStatus, amount_minor: i64) -> (Ledger, PaymentRow) {
        let ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let row = ledger
            .insert_payment(&NewPayment {
                reference: "PD-T".into(),
                profile: "shop".into(),
                provider: "paykka".into(),
                method: "link".into(),
                wallet: None,
                amount_minor,
                currency: "TWD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        ledger.apply_status(row.id, &StatusChange { status, raw_status: None, source: "t" }).unwrap();
        let row = ledger.payment_by_id(row.id).unwrap().unwrap();
        (ledger, row)
    }

    fn report(status: PaymentStatus, amount: Option<i64>) -> PaymentReport {
        let twd = Currency::from_code("TWD").unwrap();
        PaymentReport {
            reference: "PD-T".into(),
            transaction_no: "T1".into(),
            amount: amount.map(|a| Money::new(a, twd)),
            currency: "TWD".into(),
            raw_status: "X".into(),
            status,
            balances: None,
            paid_amount: None,
        }
    }

    #[test]
    fn a_partly_paid_amount_never_goes_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, row) = ledger_with(&dir, PaymentStatus::Pending, 50000);
        let twd = Currency::from_code("TWD").unwrap();
        let mut held = row;
        for (paid, expected) in [(15000, 15000), (20000, 20000), (10000, 20000), (100, 20000)] {
            let r = PaymentReport {
                paid_amount: Some(Money::new(paid, twd)),
                ..report(PaymentStatus::PartiallyPaid, None)
            };
            apply_report_in(&ledger, &held, &r, "ipn").unwrap();
            held = ledger.payment_by_id(held.id).unwrap().unwrap();
            assert_eq!(held.paid_minor, Some(expected), "after a report of {paid}");
        }
        let events = ledger.events(held.id).unwrap();
        assert_eq!(events.iter().filter(|e| e.kind == "suspicious").count(), 2, "older reports kept as evidence");
    }

    #[test]
    fn impossible_balances_and_a_session_without_amount_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_ledger, row) = ledger_with(&dir, PaymentStatus::Authorized, 2500);
        let mut r = report(PaymentStatus::Paid, Some(2500));
        let b = Balances { authorized: 2500, captured: -500, capturable: 0, voidable: 0, refunded: 0, refundable: 0 };
        r.balances = Some(b);
        assert!(mismatch(&row, &r).is_some_and(|m| m.contains("impossible balances")), "negative capture");
        r.balances = Some(Balances { captured: 2500, refunded: 3000, ..b });
        assert!(mismatch(&row, &r).is_some(), "refunded more than captured");
        r.balances = Some(Balances { captured: 1000, capturable: 2000, ..b });
        assert!(mismatch(&row, &r).is_some(), "capturable above what is left");
        r.balances =
            Some(Balances { captured: 1000, capturable: 1500, voidable: 1500, refunded: 0, refundable: 1000, ..b });
        assert_eq!(mismatch(&row, &r), None);
        // A session answer that names no amount is not about our payment.
        assert!(mismatch(&row, &report(PaymentStatus::Pending, None)).is_some());
    }

    #[test]
    fn an_unknown_status_never_moves_a_payment() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, row) = ledger_with(&dir, PaymentStatus::Pending, 1300);
        let applied = apply_report_in(&ledger, &row, &report(PaymentStatus::Unknown, Some(1300)), "query").unwrap();
        assert_eq!(applied, Applied::Unchanged);
        assert_eq!(ledger.payment_by_id(row.id).unwrap().unwrap().status, "pending");
        let events = ledger.events(row.id).unwrap();
        assert_eq!(events.last().unwrap().detail["says"], "the provider says X");
    }

    #[test]
    fn a_partial_capture_reported_by_balances_is_partly_captured_not_paid() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, row) = ledger_with(&dir, PaymentStatus::Authorized, 2500);
        let mut r = report(PaymentStatus::Paid, Some(2500));
        r.balances = Some(Balances {
            authorized: 2500,
            captured: 1500,
            capturable: 1000,
            voidable: 1000,
            refunded: 0,
            refundable: 1500,
        });
        apply_report_in(&ledger, &row, &r, "query").unwrap();
        let now = ledger.payment_by_id(row.id).unwrap().unwrap();
        assert_eq!((now.status.as_str(), now.paid_minor), ("partially_captured", Some(1500)));
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;

    #[test]
    fn a_reference_another_counter_already_recorded_is_drawn_again() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let mut new = NewPayment {
            reference: "PD20261201120000-AAAAAA".into(),
            profile: "demo".into(),
            provider: "pockyt".into(),
            method: "qr".into(),
            wallet: Some("alipay".into()),
            amount_minor: 1300,
            currency: "USD".into(),
            customer_no: None,
            checkout_options: None,
        };
        ledger.insert_payment(&new).unwrap();
        let mut drawn = vec!["PD20261201120000-BBBBBB".to_string()];
        let row = record_new_payment(&ledger, &mut new, || drawn.pop().unwrap()).unwrap();
        assert_eq!(row.reference, "PD20261201120000-BBBBBB");
        assert_eq!(new.reference, row.reference, "the checkout goes out under the recorded reference");

        // Drawn three times and taken each time: refused, nothing recorded.
        let row = record_new_payment(&ledger, &mut new, || "PD20261201120000-BBBBBB".into());
        assert!(matches!(row, Err(AppError::Storage { .. })), "{row:?}");
        assert_eq!(ledger.count(&paydesk_ledger::PaymentFilter::default()).unwrap(), 2);
    }
}
