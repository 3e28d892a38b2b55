//! Crash recovery: what a crash (or an outage) left unanswered is settled on start and by
//! `paydesk tx recover`. A payment still `created` is looked up first; only one the provider
//! has never seen is sent again, with its own reference, so nothing is ever sold twice. A
//! refund never confirmed is resent with its own refund reference, which the provider
//! answers with the refund it made (or makes it now, once). A capture or void never
//! confirmed is settled by the provider's balances, and sent again only when they show it
//! never arrived.

use crate::{AppError, Paydesk};
use paydesk_ledger::PaymentRow;
use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct RecoverySummary {
    /// Payments found `created` (recorded, maybe sent, never answered).
    pub payments_found: usize,
    /// ... that the provider knew, now with its status.
    pub payments_settled: usize,
    /// ... that the provider had never seen, now sent (same reference).
    pub payments_resent: usize,
    /// Refunds found unconfirmed.
    pub refunds_found: usize,
    pub refunds_settled: usize,
    /// Captures and voids found unconfirmed.
    pub movements_found: usize,
    /// ... settled by the provider's balances (done, or sent again having never arrived).
    pub movements_settled: usize,
    /// What could not be settled now (provider unreachable, refused, ...), to try again.
    pub left: Vec<RecoveryProblem>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecoveryProblem {
    pub reference: String,
    pub kind: &'static str,
    pub message: String,
}

impl RecoverySummary {
    pub fn describe(&self) -> String {
        let mut text = format!(
            "payments left unanswered: {} ({} settled by a query, {} sent again); refunds unconfirmed: {} ({} settled); \
             captures and voids unconfirmed: {} ({} settled)",
            self.payments_found,
            self.payments_settled,
            self.payments_resent,
            self.refunds_found,
            self.refunds_settled,
            self.movements_found,
            self.movements_settled
        );
        for p in &self.left {
            text.push_str(&format!("\nstill open: {} ({}): {}", p.reference, p.kind, p.message));
        }
        text
    }
}

impl Paydesk {
    /// Settles every payment and refund left unanswered (of one profile, or all).
    pub async fn recover(&self, profile: Option<&str>) -> Result<RecoverySummary, AppError> {
        let mine = |p: &str| profile.is_none_or(|wanted| wanted == p);
        let mut summary = RecoverySummary::default();
        let payments: Vec<PaymentRow> = crate::blocking(|| self.ledger().payments_left_created())?
            .into_iter()
            .filter(|p| mine(&p.profile))
            .collect();
        summary.payments_found = payments.len();
        for row in payments {
            match self.recover_payment(&row).await {
                Ok(Recovered::Settled) => summary.payments_settled += 1,
                Ok(Recovered::Resent) => summary.payments_resent += 1,
                Err(e) => summary.left.push(problem(&row.reference, e)),
            }
        }
        let refunds = crate::blocking(|| self.ledger().unanswered_refunds())?;
        for refund in refunds {
            let Some(row) = crate::blocking(|| self.ledger().payment_by_id(refund.payment_id))? else { continue };
            if !mine(&row.profile) {
                continue;
            }
            summary.refunds_found += 1;
            match self.settle_refund(&row).await {
                Ok(()) => summary.refunds_settled += 1,
                Err(e) => summary.left.push(problem(&refund.refund_reference, e)),
            }
        }
        let movements = crate::blocking(|| self.ledger().open_movements())?;
        for m in movements {
            let Some(row) = crate::blocking(|| self.ledger().payment_by_id(m.payment_id))? else { continue };
            if !mine(&row.profile) {
                continue;
            }
            summary.movements_found += 1;
            match self.settle_movements_of(&row, true).await {
                Ok(Some(crate::movements::Judgement::Unclear)) => summary.left.push(RecoveryProblem {
                    reference: m.reference.clone(),
                    kind: "provider_protocol",
                    message: format!("the provider's balances do not show whether {} {} happened", m.kind, m.reference),
                }),
                Ok(_) => summary.movements_settled += 1,
                Err(e) => summary.left.push(problem(&m.reference, e)),
            }
        }
        if summary.payments_found + summary.refunds_found + summary.movements_found > 0 {
            tracing::info!(?summary, "recovery");
        }
        Ok(summary)
    }

    async fn recover_payment(&self, row: &PaymentRow) -> Result<Recovered, AppError> {
        if self.query_provider(row).await.map_err(|e| e.with_reference(&row.reference))? {
            // The provider has it, still unpaid, but its link was never recorded: asked for
            // again (same reference, the same session), else cancelled where the provider
            // can, else left pending, which the counter and bulk refresh keep asking about.
            if let Err(e) = self.restore_link(&row.reference).await {
                tracing::warn!(reference = %row.reference, "could not restore the payment's link: {e}");
                let _ = self.cancel(&row.reference).await;
            }
            return Ok(Recovered::Settled);
        }
        self.retry_payment(&row.reference).await?;
        Ok(Recovered::Resent)
    }
}

enum Recovered {
    Settled,
    Resent,
}

fn problem(reference: &str, e: AppError) -> RecoveryProblem {
    RecoveryProblem { reference: reference.into(), kind: e.kind(), message: e.to_string() }
}
