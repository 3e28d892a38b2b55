//! Crash recovery: what a crash (or an outage) left unanswered is settled on start and by
//! `paydesk tx recover`. A payment still `created` is looked up first; only one the provider
//! has never seen is sent again, with its own reference, so nothing is ever sold twice. A
//! refund never confirmed is resent with its own refund reference, which the provider
//! answers with the refund it made (or makes it now, once).

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
            "payments left unanswered: {} ({} settled by a query, {} sent again); refunds unconfirmed: {} ({} settled)",
            self.payments_found, self.payments_settled, self.payments_resent, self.refunds_found, self.refunds_settled
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
        if summary.payments_found + summary.refunds_found > 0 {
            tracing::info!(?summary, "recovery");
        }
        Ok(summary)
    }

    async fn recover_payment(&self, row: &PaymentRow) -> Result<Recovered, AppError> {
        if self.query_provider(row).await.map_err(|e| e.with_reference(&row.reference))? {
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
