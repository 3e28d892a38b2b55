//! "Refresh every unsettled payment in this filter": the providers are asked with bounded
//! concurrency and a rate limit per provider; progress is reported as it goes, the caller
//! may stop it, and the end is a summary. A provider that cannot be reached leaves its
//! payments exactly as they were.

use crate::books::{shop_time_zone, TxQuery};
use crate::{AppError, Paydesk};
use futures_util::stream::{self, StreamExt};
use paydesk_gateways::gateway::Outcome;
use paydesk_gateways::{GatewayError, PaymentReport, PaymentStatus};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// How many answers are written per transaction.
const CHUNK: usize = 256;

/// One payment asked about: its row as the job found it, and what the provider said (or
/// why nothing was asked: no profile, no secret).
struct Answer {
    row: paydesk_ledger::PaymentRow,
    outcome: Result<Outcome<PaymentReport>, AppError>,
}

enum Verdict {
    /// Moved to this status.
    Changed(PaymentStatus),
    Unchanged,
    Unreachable,
    Failed,
}

impl Answer {
    fn failed(&self) -> bool {
        !matches!(&self.outcome, Ok(o) if o.result.is_ok())
    }

    /// Writes what the answer says, through the same rules as a single refresh; never
    /// fails the batch (a refused answer is kept as evidence and counted).
    fn apply(&self, ledger: &paydesk_ledger::Ledger) -> Verdict {
        let row = &self.row;
        let outcome = match &self.outcome {
            Ok(outcome) => outcome,
            Err(AppError::ProviderUnreachable { .. }) => return Verdict::Unreachable,
            Err(_) => return Verdict::Failed,
        };
        if crate::payments::log_exchange_in(ledger, Some(row.id), &outcome.exchange).is_err() {
            return Verdict::Failed;
        }
        match &outcome.result {
            Ok(report) => {
                let source = crate::payments::source_of(&outcome.exchange, "query");
                if crate::payments::apply_report_in(ledger, row, report, &source).is_err() {
                    return Verdict::Failed;
                }
                match ledger.payment_by_id(row.id) {
                    Ok(Some(after)) if after.status != row.status => Verdict::Changed(after.status),
                    Ok(Some(_)) => Verdict::Unchanged,
                    _ => Verdict::Failed,
                }
            }
            Err(GatewayError::Unreachable { .. }) => Verdict::Unreachable,
            Err(_) => Verdict::Failed,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct BulkOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests per second to any one provider.
    pub per_provider_rate: u32,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self { concurrency: 8, per_provider_rate: 50 }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct BulkProgress {
    pub done: u64,
    pub total: u64,
    pub failures: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BulkSummary {
    pub total: u64,
    pub changed: u64,
    /// The changed ones by the status they moved to ("paid": 3, "failed": 1).
    pub outcomes: std::collections::BTreeMap<String, u64>,
    pub unchanged: u64,
    /// The provider could not be reached: those payments were not touched.
    pub unreachable: u64,
    /// Refused or not understood (each kept in its payment's history).
    pub failed: u64,
    /// Stopped before the end: what was not asked stays as it was.
    pub cancelled: bool,
    pub elapsed_ms: u64,
}

/// Spaces request starts per provider: at most `rate` a second each, one at a time (no
/// burst: a provider sees an even pace).
struct Pacer(governor::DefaultKeyedRateLimiter<String>);

impl Pacer {
    fn new(rate: u32) -> Self {
        let rate = std::num::NonZeroU32::new(rate.max(1)).expect("at least one");
        let quota = governor::Quota::per_second(rate).allow_burst(std::num::NonZeroU32::MIN);
        Self(governor::RateLimiter::keyed(quota))
    }

    async fn wait(&self, provider: &str) {
        self.0.until_key_ready(&provider.to_string()).await;
    }
}

impl Paydesk {
    /// Asks the provider about one payment, writing nothing yet.
    async fn ask(&self, row: paydesk_ledger::PaymentRow) -> Answer {
        let gateway = self.profile(&row.profile).and_then(|p| self.gateway_for(&p));
        let outcome = match gateway {
            Ok(g) => Ok(g.query(crate::payments::payment_ref(&row)).await),
            Err(e) => Err(e),
        };
        Answer { row, outcome }
    }

    /// Refreshes every unsettled payment the query selects (its status filter, if any, is
    /// narrowed to unsettled ones). `progress` is called after each payment.
    pub async fn refresh_all(
        &self,
        q: &TxQuery,
        options: BulkOptions,
        progress: &(dyn Fn(BulkProgress) + Send + Sync),
        cancel: &AtomicBool,
    ) -> Result<BulkSummary, AppError> {
        let started = Instant::now();
        let filter = q.to_filter(&shop_time_zone())?;
        let mut targets: Vec<paydesk_ledger::PaymentRow> = Vec::new();
        crate::blocking(|| {
            self.ledger().each_payment(&filter, |p| {
                if p.status.awaits_the_provider() {
                    targets.push(p);
                }
                true
            })
        })?;
        let total = targets.len() as u64;
        let pacer = Pacer::new(options.per_provider_rate);
        // Progress counts answers as they come; they are written at the end of each chunk.
        let (asked, failing) = (AtomicU64::new(0), AtomicU64::new(0));
        let (mut changed, mut unchanged, mut unreachable, mut failed) = (0u64, 0u64, 0u64, 0u64);
        let mut outcomes = std::collections::BTreeMap::new();
        progress(BulkProgress { done: 0, total, failures: 0 });
        // Asked concurrently a chunk at a time; each chunk's answers are written in one
        // transaction (one write to disk), each answer still all-or-nothing on its own.
        for chunk in targets.chunks(CHUNK) {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let answers: Vec<Option<Answer>> = stream::iter(chunk.iter().cloned())
                .map(|row| {
                    let (pacer, asked, failing) = (&pacer, &asked, &failing);
                    async move {
                        if cancel.load(Ordering::Relaxed) {
                            return None;
                        }
                        pacer.wait(&row.provider).await;
                        if cancel.load(Ordering::Relaxed) {
                            return None;
                        }
                        let answer = self.ask(row).await;
                        let failures = if answer.failed() {
                            failing.fetch_add(1, Ordering::Relaxed) + 1
                        } else {
                            failing.load(Ordering::Relaxed)
                        };
                        let done = asked.fetch_add(1, Ordering::Relaxed) + 1;
                        progress(BulkProgress { done, total, failures });
                        Some(answer)
                    }
                })
                .buffer_unordered(options.concurrency.max(1))
                .collect()
                .await;
            let answers: Vec<Answer> = answers.into_iter().flatten().collect();
            let verdicts = crate::blocking(|| {
                self.ledger().batch(|ledger| Ok(answers.iter().map(|a| a.apply(ledger)).collect::<Vec<_>>()))
            })?;
            for (answer, verdict) in answers.iter().zip(verdicts) {
                match verdict {
                    Verdict::Changed(status) => {
                        changed += 1;
                        *outcomes.entry(status.to_string()).or_insert(0) += 1;
                    }
                    Verdict::Unchanged => unchanged += 1,
                    Verdict::Unreachable => unreachable += 1,
                    Verdict::Failed => failed += 1,
                }
                // A refund that never got its answer is settled as a single refresh would.
                let row = &answer.row;
                let open_refund = crate::blocking(|| self.ledger().refunds(row.id))?
                    .iter()
                    .any(|r| r.status == paydesk_gateways::RefundStatus::Created.as_str());
                if open_refund {
                    let _ = self.settle_refund(row).await;
                }
            }
        }
        Ok(BulkSummary {
            total,
            changed,
            outcomes,
            unchanged,
            unreachable,
            failed,
            cancelled: cancel.load(Ordering::Relaxed),
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider sees an even pace (no burst), and one provider's pace never slows another's.
    #[tokio::test]
    async fn the_pacer_spaces_each_providers_requests() {
        let pacer = Pacer::new(20);
        let started = Instant::now();
        for _ in 0..5 {
            pacer.wait("one").await;
        }
        let paced = started.elapsed();
        assert!(paced >= std::time::Duration::from_millis(190), "5 starts at 20/s took {paced:?}");
        let other = Instant::now();
        pacer.wait("another").await;
        assert!(other.elapsed() < std::time::Duration::from_millis(40), "another provider waited");
    }
}
