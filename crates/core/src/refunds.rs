//! Refunds, read top to bottom: checked against the money actually taken, recorded (with
//! its own reference, `REF-R1`) before it is sent, and ended only by an explicit answer: paid
//! out (succeeded), refused (failed), or accepted and not finished (pending). One that never
//! got an answer is sent again with its own reference, which the provider answers with the
//! refund it made (or makes it now, once).

use crate::payments::{payment_ref, require_flow, settled_minor, valid_provider_id, RefundOutcome};
use crate::{AppError, Paydesk};
use paydesk_gateways::gateway::RefundOrder;
use paydesk_gateways::registry::AnyGateway;
use paydesk_gateways::RuleId;
use paydesk_gateways::{Currency, GatewayError, Money, PaymentStatus, RefundStatus};
use paydesk_ledger::{PaymentRow, StatusChange};

impl Paydesk {
    /// Resends a refund that never got an answer, with its own reference: a provider without
    /// a refund query answers a refund it made with that refund, or makes it now, once.
    pub(crate) async fn settle_refund(&self, row: &PaymentRow) -> Result<(), AppError> {
        let gateway = self.gateway_for(&self.profile(&row.profile)?)?;
        self.resend_unanswered_refund(row, &gateway).await.map(|_| ())
    }

    /// Refunds `amount` (or everything still refundable), never above the remainder the
    /// ledger knows. The refund is recorded before it is sent; a retry reuses its reference.
    pub async fn refund(&self, reference: &str, amount: Option<&str>) -> Result<RefundOutcome, AppError> {
        let row = self.payment_row(reference)?;
        let status = row.status;
        if !status.is_refundable() {
            return Err(AppError::NotAllowed {
                message: format!("Payment {reference} is {}; only money taken can be refunded.", row.status),
            });
        }
        require_flow(&row.provider, paydesk_gateways::gateway::Flow::Refund)?;
        let currency = Currency::from_code(&row.currency)?;
        let requested = match amount.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(Money::parse(a, currency)?),
            None => None,
        };
        let refunds = crate::blocking(|| self.ledger().refunds(row.id))?;
        let profile = self.profile(&row.profile)?;
        let gateway = self.gateway_for(&profile)?;
        // A refund sent before without an answer is sent again as it was (same refund
        // reference), so it can never be paid out twice.
        if let Some(unconfirmed) = refunds.iter().find(|r| r.status.is_open()) {
            if requested.is_some_and(|m| m.minor != unconfirmed.amount_minor) {
                return Err(AppError::NotAllowed {
                    message: format!(
                        "Refund {} of {} is not confirmed yet; refund again with that amount (or none) to resend it first.",
                        unconfirmed.refund_reference,
                        Money::new(unconfirmed.amount_minor, currency)
                    ),
                });
            }
            return self.send_refund(&row, &gateway, unconfirmed.clone()).await;
        }
        let used = paydesk_ledger::committed_minor(&refunds);
        let remainder = settled_minor(&row) - used;
        let money = requested.unwrap_or(Money::new(remainder, currency));
        if money.minor > remainder || remainder <= 0 {
            return Err(AppError::invalid(
                "amount",
                format!(
                    "{} is more than the {} still refundable on {reference}",
                    money,
                    Money::new(remainder.max(0), currency)
                ),
            )
            .because(RuleId::OverRefundable));
        }
        let refund_row = self.insert_refund(&row, &refunds, money)?;
        self.send_refund(&row, &gateway, refund_row).await
    }

    /// Records a new refund with the next free reference (`REF-R1`, `REF-R2`, ...). Another
    /// window or process may take the same number at the same moment; then the next is tried.
    fn insert_refund(
        &self,
        row: &PaymentRow,
        known: &[paydesk_ledger::RefundRow],
        money: Money,
    ) -> Result<paydesk_ledger::RefundRow, AppError> {
        crate::blocking(|| {
            let mut n = known.len() + 1;
            loop {
                let refund_reference = format!("{}-R{n}", row.reference);
                match self.ledger().insert_refund(row.id, &refund_reference, money.minor) {
                    Ok(r) => return Ok(r),
                    // Another counter took this refund's number: the next one.
                    Err(paydesk_ledger::LedgerError::Duplicate(_)) if n < 1000 => n += 1,
                    // More than is left to refund, with refunds in flight counted.
                    Err(paydesk_ledger::LedgerError::Conflict(m)) => {
                        return Err(AppError::invalid("amount", m).because(RuleId::OverRefundable));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        })
    }

    async fn resend_unanswered_refund(
        &self,
        row: &PaymentRow,
        gateway: &AnyGateway,
    ) -> Result<RefundOutcome, AppError> {
        let unanswered =
            crate::blocking(|| self.ledger().refunds(row.id))?.into_iter().find(|r| r.status.is_open()).ok_or_else(
                || AppError::NotAllowed { message: format!("Payment {} has no unanswered refund", row.reference) },
            )?;
        self.send_refund(row, gateway, unanswered).await
    }

    async fn send_refund(
        &self,
        row: &PaymentRow,
        gateway: &AnyGateway,
        refund_row: paydesk_ledger::RefundRow,
    ) -> Result<RefundOutcome, AppError> {
        let currency = Currency::from_code(&row.currency)?;
        let order = RefundOrder {
            payment: payment_ref(row),
            refund_reference: &refund_row.refund_reference,
            amount: Money::new(refund_row.amount_minor, currency),
        };
        let outcome = gateway.refund(&order).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        let confirmed = outcome.result;
        crate::blocking(|| {
            let ledger = self.ledger();
            match confirmed {
                Ok(done) if done.state == paydesk_gateways::RefundState::Pending => {
                    // Accepted, not paid out: it stays counted against the remainder, and
                    // refreshing the payment asks again.
                    let id = Some(done.refund_transaction_no.as_str()).filter(|t| valid_provider_id(t));
                    ledger.finish_refund(refund_row.id, RefundStatus::Pending, id)?;
                    let refund = ledger.refund_by_reference(&refund_row.refund_reference)?.expect("refund exists");
                    Ok(RefundOutcome { payment: ledger.payment_by_id(row.id)?.expect("payment exists").into(), refund })
                }
                Ok(done) => {
                    ledger.finish_refund(
                        refund_row.id,
                        RefundStatus::Succeeded,
                        Some(done.refund_transaction_no.as_str()),
                    )?;
                    let refunded = ledger.refunded_minor(row.id)?;
                    let fresh = ledger.payment_by_id(row.id)?.expect("payment exists");
                    let status = if refunded >= settled_minor(&fresh) {
                        PaymentStatus::Refunded
                    } else {
                        PaymentStatus::PartiallyRefunded
                    };
                    ledger.apply_status(row.id, &StatusChange { status, raw_status: None, source: "refund" })?;
                    let refund = ledger.refund_by_reference(&refund_row.refund_reference)?.expect("refund exists");
                    Ok(RefundOutcome { payment: ledger.payment_by_id(row.id)?.expect("payment exists").into(), refund })
                }
                Err(e @ GatewayError::Rejected { transient: false, .. }) => {
                    ledger.finish_refund(refund_row.id, RefundStatus::Failed, None)?;
                    Err(e.into())
                }
                // No answer, or one that does not confirm it: the refund stays `created`
                // (counted against the remainder) until it is known; refreshing the payment or
                // refunding again resends it with its own reference.
                Err(e) => Err(e.into()),
            }
        })
    }
}
