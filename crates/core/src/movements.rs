//! Captures and voids, read top to bottom: recorded (a movement row with its own
//! reference) before anything is sent, sent, then settled only by an explicit answer. An
//! answer that never came, or an accepted one that does not say what happened, leaves the
//! movement unknown: the provider's balances are asked (`tx status`, the same command
//! again, recovery), never the request sent blindly again, so money is never taken twice.

use crate::payments::{mismatch, payment_ref, require_flow, shown, PaymentView};
use crate::{AppError, Paydesk};
use paydesk_gateways::gateway::{CaptureOrder, Flow};
use paydesk_gateways::registry::AnyGateway;
use paydesk_gateways::RuleId;
use paydesk_gateways::{Currency, GatewayError, Money, MovementKind, MovementStatus, PaymentReport, PaymentStatus};
use paydesk_ledger::{captured_minor, LedgerError, MovementRow, PaymentRow};

/// What the provider's own account of a payment says of one capture or void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// It happened: the capture is in the captured balance (the total given), or the
    /// authorisation is released.
    Done { captured_total: Option<i64> },
    /// The provider's balances are as they were before it: it never arrived.
    NeverArrived,
    /// The answer cannot tell (no balances, or balances that fit neither).
    Unclear,
}

/// Judges `m` by a report of the payment, knowing what was captured before it was sent.
pub(crate) fn judge(m: &MovementRow, authorised: i64, report: &PaymentReport) -> Judgement {
    let captured_before = m.captured_before;
    let Some(b) = report.balances else {
        return match (m.kind(), report.status) {
            (MovementKind::Void, PaymentStatus::Cancelled) => Judgement::Done { captured_total: None },
            _ => Judgement::Unclear,
        };
    };
    match m.kind() {
        MovementKind::Capture if b.captured >= captured_before + m.amount_minor => {
            Judgement::Done { captured_total: Some(b.captured) }
        }
        MovementKind::Capture if b.captured == captured_before => Judgement::NeverArrived,
        MovementKind::Capture => Judgement::Unclear,
        MovementKind::Void if report.status == PaymentStatus::Cancelled || (b.capturable == 0 && b.voidable == 0) => {
            Judgement::Done { captured_total: Some(b.captured) }
        }
        MovementKind::Void if b.capturable == authorised - captured_before => Judgement::NeverArrived,
        MovementKind::Void => Judgement::Unclear,
    }
}

impl Paydesk {
    /// Captures `amount` (or all that is still authorised); `last` closes the
    /// authorisation. An unconfirmed capture or void of the payment is settled first: the
    /// same capture asked again after a lost answer is that one, found done or sent again
    /// with its own reference, never a second capture.
    pub async fn capture(&self, reference: &str, amount: Option<&str>, last: bool) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        require_flow(&row.provider, Flow::Capture)?;
        let currency = Currency::from_code(&row.currency)?;
        let requested = match amount.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(Money::parse(a, currency)?),
            None => None,
        };
        let gateway = self.gateway_for(&self.profile(&row.profile)?)?;
        if let Some(open) = self.open_movement(&row)? {
            let same = open.kind() == MovementKind::Capture
                && requested.is_none_or(|m| m.minor == open.amount_minor)
                && open.is_final == last;
            if !same {
                return Err(unconfirmed(&row, &open, currency));
            }
            return self.finish_open(&row, &gateway, open).await;
        }
        let status = row.status;
        let left = row.amount_minor - captured_minor(status, row.amount_minor, row.paid_minor);
        if !matches!(status, PaymentStatus::Authorized | PaymentStatus::PartiallyCaptured) || left <= 0 {
            return Err(AppError::NotAllowed {
                message: format!("Payment {reference} is {}; nothing on it can be captured.", row.status),
            });
        }
        let money = requested.unwrap_or(Money::new(left, currency));
        if money.minor > left {
            return Err(AppError::invalid(
                "amount",
                format!(
                    "{money} is more than the {} that can still be captured on {reference}",
                    Money::new(left, currency)
                ),
            )
            .because(RuleId::OverCapturable));
        }
        let m = self.record_movement(&row, MovementKind::Capture, money.minor, last)?;
        self.send_movement(&row, &gateway, m).await
    }

    /// Releases what is still authorised: all of it, or the rest after a partial capture.
    pub async fn void(&self, reference: &str, reason: Option<&str>) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        require_flow(&row.provider, Flow::Void)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).unwrap_or("REQUESTED_BY_CUSTOMER");
        if reason.len() > 64 || !reason.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            return Err(AppError::invalid(
                "reason",
                "capital letters and '_' only, such as REQUESTED_BY_CUSTOMER or DUPLICATE",
            ));
        }
        let gateway = self.gateway_for(&self.profile(&row.profile)?)?;
        if let Some(open) = self.open_movement(&row)? {
            if open.kind() != MovementKind::Void {
                return Err(unconfirmed(&row, &open, Currency::from_code(&row.currency)?));
            }
            return self.finish_open(&row, &gateway, open).await;
        }
        let status = row.status;
        if !matches!(status, PaymentStatus::Authorized | PaymentStatus::PartiallyCaptured) {
            return Err(AppError::NotAllowed {
                message: format!(
                    "Payment {reference} is {}; only money still authorised can be voided{}.",
                    row.status,
                    if status.is_paid() { " (refund it instead)" } else { "" }
                ),
            });
        }
        let m = self.record_movement(&row, MovementKind::Void, 0, false)?;
        self.send_movement(&row, &gateway, m).await
    }

    fn open_movement(&self, row: &PaymentRow) -> Result<Option<MovementRow>, AppError> {
        Ok(crate::blocking(|| self.ledger().open_movement(row.id))?)
    }

    /// The row, written before anything is sent; the ledger refuses it (in its write) when
    /// another counter got there first or the money is no longer there.
    fn record_movement(
        &self,
        row: &PaymentRow,
        kind: MovementKind,
        amount_minor: i64,
        last: bool,
    ) -> Result<MovementRow, AppError> {
        crate::blocking(|| self.ledger().insert_movement(row.id, kind, amount_minor, last)).map_err(|e| match e {
            LedgerError::Conflict(m) => AppError::NotAllowed {
                message: format!("Payment {} cannot be {} now: {m}.", row.reference, done_word(kind)),
            },
            e => e.into(),
        })
    }

    /// An open movement asked for again: settled by asking the provider, and sent again
    /// (same reference) only when the provider shows it never arrived.
    async fn finish_open(
        &self,
        row: &PaymentRow,
        gateway: &AnyGateway,
        open: MovementRow,
    ) -> Result<PaymentView, AppError> {
        if open.may_be_in_flight() {
            return Err(in_flight(row, &open));
        }
        if open.status != MovementStatus::Created {
            match self.settle_movement(row, gateway, &open).await? {
                Judgement::Done { .. } => return self.payment(&row.reference),
                Judgement::Unclear => return Err(still_unknown(row, &open)),
                Judgement::NeverArrived => {}
            }
        }
        self.send_movement(row, gateway, open).await
    }

    /// Sends a recorded movement and books what the answer proves.
    pub(crate) async fn send_movement(
        &self,
        row: &PaymentRow,
        gateway: &AnyGateway,
        m: MovementRow,
    ) -> Result<PaymentView, AppError> {
        self.mark(&m, MovementStatus::Sent, None)?;
        let currency = Currency::from_code(&row.currency)?;
        let outcome = match m.kind() {
            MovementKind::Capture => {
                let order = CaptureOrder {
                    payment: payment_ref(row),
                    amount: Money::new(m.amount_minor, currency),
                    last: m.is_final,
                };
                gateway.capture(&order).await
            }
            MovementKind::Void => gateway.void(payment_ref(row), "REQUESTED_BY_CUSTOMER").await,
        };
        self.log_exchange(row.id, &outcome.exchange)?;
        let answered = match outcome.result {
            Ok(answer) => answer,
            Err(e @ GatewayError::Rejected { transient: false, .. }) | Err(e @ GatewayError::Invalid(_)) => {
                self.mark(&m, MovementStatus::Failed, None)?;
                return Err(AppError::from(e).with_reference(&row.reference));
            }
            // No answer, or one we cannot read: the provider may have moved the money.
            Err(e) => {
                self.mark(&m, MovementStatus::Unknown, None)?;
                tracing::warn!(reference = %m.reference, "{} unconfirmed: {e}", m.kind);
                return Err(still_unknown(row, &m));
            }
        };
        // Accepted. The answer proves it only where it names the payment with balances that
        // show it; otherwise the provider is asked.
        let report = match answered {
            Some(report) if report.balances.is_some() && mismatch(row, &report).is_none() => report,
            _ => match self.ask_about(row, gateway).await {
                Ok(report) => report,
                Err(_) => {
                    self.mark(&m, MovementStatus::Unknown, None)?;
                    return Err(still_unknown(row, &m));
                }
            },
        };
        match judge(&m, row.amount_minor, &report) {
            // Accepted, yet nothing moved: not proof either way.
            Judgement::NeverArrived => {
                self.mark(&m, MovementStatus::Unknown, None)?;
                Err(still_unknown(row, &m))
            }
            judgement => self.conclude(row, &m, &report, judgement),
        }
    }

    /// Asks the provider about an open movement's payment and books what its balances
    /// prove: done, never arrived (then failed, or left to be sent again by the caller), or
    /// still unclear.
    pub(crate) async fn settle_movement(
        &self,
        row: &PaymentRow,
        gateway: &AnyGateway,
        m: &MovementRow,
    ) -> Result<Judgement, AppError> {
        let row = self.payment_row(&row.reference)?;
        let report = self.ask_about(&row, gateway).await?;
        let judgement = judge(m, row.amount_minor, &report);
        if judgement == Judgement::NeverArrived {
            // Left to the caller: failed, or sent again with its own reference.
            self.apply_report(&row, &report, "query")?;
            return Ok(judgement);
        }
        self.conclude(&row, m, &report, judgement).map(|_| judgement)
    }

    /// Ends the movement by what the provider's account of the payment proved: done (booked,
    /// and the account applied) or unclear (left unknown, kept as evidence).
    fn conclude(
        &self,
        row: &PaymentRow,
        m: &MovementRow,
        report: &PaymentReport,
        judgement: Judgement,
    ) -> Result<PaymentView, AppError> {
        if let Judgement::Done { captured_total } = judgement {
            crate::blocking(|| self.ledger().finish_movement(m.id, MovementStatus::Succeeded, None, captured_total))?;
            self.apply_report(row, report, &m.kind)?;
            return self.payment(&row.reference);
        }
        self.mark(m, MovementStatus::Unknown, None)?;
        crate::blocking(|| {
            self.ledger().append_event(
                Some(row.id),
                "suspicious",
                &serde_json::json!({
                    "reason": format!("the provider's balances do not show whether {} {} happened", m.kind, m.reference),
                    "balances": report.balances, "raw_status": shown(&report.raw_status),
                }),
            )
        })?;
        Err(still_unknown(row, m))
    }

    /// The payment as the provider tells it, checked against the ledger.
    async fn ask_about(&self, row: &PaymentRow, gateway: &AnyGateway) -> Result<PaymentReport, AppError> {
        let outcome = gateway.query(payment_ref(row)).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        let report = outcome.result.map_err(|e| AppError::from(e).with_reference(&row.reference))?;
        if let Some(reason) = mismatch(row, &report) {
            return Err(self.record_mismatch(row, &report, "query", &reason)?);
        }
        Ok(report)
    }

    fn mark(&self, m: &MovementRow, status: MovementStatus, provider_id: Option<&str>) -> Result<(), AppError> {
        crate::blocking(|| self.ledger().finish_movement(m.id, status, provider_id, None))?;
        Ok(())
    }

    /// Settles every open capture and void of the payment (tx status, recovery): by the
    /// provider's balances; one that never arrived is failed, or sent again when `resend`.
    pub(crate) async fn settle_movements_of(
        &self,
        row: &PaymentRow,
        resend: bool,
    ) -> Result<Option<Judgement>, AppError> {
        let Some(open) = self.open_movement(row)? else { return Ok(None) };
        if open.may_be_in_flight() {
            return Err(in_flight(row, &open));
        }
        let gateway = self.gateway_for(&self.profile(&row.profile)?)?;
        if open.status == MovementStatus::Created {
            // Recorded, never sent (a crash in between): the provider cannot have it.
            if resend {
                self.send_movement(row, &gateway, open).await?;
                return Ok(Some(Judgement::Done { captured_total: None }));
            }
            self.mark(&open, MovementStatus::Failed, None)?;
            return Ok(Some(Judgement::NeverArrived));
        }
        let judgement = match self.settle_movement(row, &gateway, &open).await {
            Err(AppError::ProviderProtocol { .. }) => Judgement::Unclear,
            other => other?,
        };
        if judgement == Judgement::NeverArrived {
            if resend {
                let row = self.payment_row(&row.reference)?;
                self.send_movement(&row, &gateway, open).await?;
                return Ok(Some(Judgement::Done { captured_total: None }));
            }
            self.mark(&open, MovementStatus::Failed, None)?;
        }
        Ok(Some(judgement))
    }
}

fn done_word(kind: MovementKind) -> &'static str {
    match kind {
        MovementKind::Capture => "captured",
        MovementKind::Void => "voided",
    }
}

/// The error for a movement whose outcome is not known yet.
fn still_unknown(row: &PaymentRow, m: &MovementRow) -> AppError {
    AppError::ProviderUnreachable {
        message: format!(
            "The {} {} of payment {} is not confirmed: the provider's answer did not say. Nothing else is captured \
             or voided on it until it is settled; refresh the payment (tx status) to settle it.",
            m.kind, m.reference, row.reference
        ),
        reference: Some(row.reference.clone()),
    }
}

/// The refusal while another window, process or counter is sending one right now.
fn in_flight(row: &PaymentRow, m: &MovementRow) -> AppError {
    AppError::NotAllowed {
        message: format!(
            "Payment {} is being {} right now (at this or another counter, {}); try again in a moment.",
            row.reference,
            done_word(m.kind()),
            m.reference
        ),
    }
}

/// The refusal of another capture or void while one is open.
fn unconfirmed(row: &PaymentRow, open: &MovementRow, currency: Currency) -> AppError {
    AppError::NotAllowed {
        message: format!(
            "The {} {} of {} on payment {} is not confirmed yet; refresh the payment to settle it first.",
            open.kind,
            open.reference,
            Money::new(open.amount_minor, currency),
            row.reference
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_gateways::Balances;

    fn movement(kind: &str, amount_minor: i64, captured_before: i64) -> MovementRow {
        MovementRow {
            id: 1,
            payment_id: 1,
            kind: kind.into(),
            reference: "PD-1-C1".into(),
            amount_minor,
            currency: "USD".into(),
            is_final: false,
            captured_before,
            status: paydesk_gateways::MovementStatus::Unknown,
            provider_id: None,
            sent_by: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn report(status: PaymentStatus, captured: i64, capturable: i64) -> PaymentReport {
        PaymentReport {
            reference: "PD-1".into(),
            transaction_no: "GW1".into(),
            amount: Some(Money::new(2500, Currency::from_code("USD").unwrap())),
            currency: "USD".into(),
            raw_status: "SUCCESS".into(),
            status,
            balances: Some(Balances {
                authorized: 2500,
                captured,
                capturable,
                voidable: capturable,
                refunded: 0,
                refundable: captured,
            }),
            paid_amount: None,
        }
    }

    #[test]
    fn balances_tell_whether_a_lost_capture_happened() {
        let c = movement("capture", 500, 1000);
        let done = judge(&c, 2500, &report(PaymentStatus::Paid, 1500, 1000));
        assert_eq!(done, Judgement::Done { captured_total: Some(1500) });
        assert_eq!(judge(&c, 2500, &report(PaymentStatus::Paid, 1000, 1500)), Judgement::NeverArrived);
        assert_eq!(judge(&c, 2500, &report(PaymentStatus::Paid, 1200, 1300)), Judgement::Unclear);
        let mut no_balances = report(PaymentStatus::Paid, 0, 0);
        no_balances.balances = None;
        assert_eq!(
            judge(&movement("capture", 500, 0), 2500, &no_balances),
            Judgement::Unclear,
            "no balances: no proof"
        );
        let v = movement("void", 1000, 1500);
        assert!(matches!(judge(&v, 2500, &report(PaymentStatus::Paid, 1500, 0)), Judgement::Done { .. }));
        assert_eq!(judge(&v, 2500, &report(PaymentStatus::Paid, 1500, 1000)), Judgement::NeverArrived);
    }
}
