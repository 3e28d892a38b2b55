//! Cancelling a sale that was not paid, at the provider where it can be.

use super::*;

impl Paydesk {
    /// Cancels a payment nobody has paid yet. Only an answer that names this transaction
    /// as closed cancels it in the ledger.
    pub async fn cancel(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        let status = row.status;
        if !matches!(status, PaymentStatus::Pending | PaymentStatus::Created | PaymentStatus::Unknown) {
            return Err(AppError::NotAllowed {
                message: format!(
                    "Payment {reference} is {}; only unpaid payments can be cancelled{}.",
                    row.status,
                    if status.is_paid() { " (refund it instead)" } else { "" }
                ),
            });
        }
        require_flow(&row.provider, paydesk_gateways::gateway::Flow::Cancel)?;
        let profile = self.profile(&row.profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.cancel(payment_ref(&row)).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        let done = outcome.result;
        let done = match done {
            Ok(done) => done,
            // Recorded but never answered, and the provider has no trace of it: it never
            // arrived, so it is cancelled here (it can never be paid, and recovery will not
            // send it).
            Err(e) if e.is_unknown_transaction() && status == PaymentStatus::Created => {
                return crate::blocking(|| {
                    let ledger = self.ledger();
                    ledger.apply_status(
                        row.id,
                        &StatusChange {
                            status: PaymentStatus::Cancelled,
                            raw_status: Some("never reached the provider"),
                            source: "cancel",
                        },
                    )?;
                    Ok(ledger.payment_by_id(row.id)?.expect("payment exists").into())
                });
            }
            Err(e) => return Err(AppError::from(e).with_reference(reference)),
        };
        crate::blocking(|| {
            let ledger = self.ledger();
            // A cancel answer names no reference of ours: no id is adopted from it.
            let raw = shown(&done.raw_status);
            let applied = ledger.apply_status(
                row.id,
                &StatusChange { status: PaymentStatus::Cancelled, raw_status: Some(raw.as_str()), source: "cancel" },
            )?;
            if let Applied::Refused { from, .. } = applied {
                return Err(AppError::NotAllowed {
                    message: format!("Payment {reference} became {} meanwhile; it was not cancelled.", from.as_str()),
                });
            }
            Ok(ledger.payment_by_id(row.id)?.expect("payment exists").into())
        })
    }
}
