//! "Refresh every unsettled payment in this filter": the providers are asked with bounded
//! concurrency and a rate limit per provider; progress is reported as it goes, the caller
//! may stop it, and the end is a summary. A provider that cannot be reached leaves its
//! payments exactly as they were.

use crate::books::{shop_time_zone, TxQuery};
use crate::{AppError, Paydesk};
use futures_util::stream::{self, StreamExt};
use paydesk_gateways::PaymentStatus;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Statuses a refresh may still change.
pub const UNSETTLED: &[&str] = &["created", "pending", "authorized", "unknown"];

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
    pub unchanged: u64,
    /// The provider could not be reached: those payments were not touched.
    pub unreachable: u64,
    /// Refused or not understood (each kept in its payment's history).
    pub failed: u64,
    /// Stopped before the end: what was not asked stays as it was.
    pub cancelled: bool,
    pub elapsed_ms: u64,
}

/// Spaces request starts per provider: at most `rate` a second each.
struct Pacer {
    gap: Duration,
    next: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    async fn wait(&self, provider: &str) {
        let start = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = next.get(provider).copied().filter(|t| *t > now).unwrap_or(now);
            next.insert(provider.to_string(), slot + self.gap);
            slot
        };
        let wait = start.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

impl Paydesk {
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
        let mut targets: Vec<(String, String, PaymentStatus)> = Vec::new();
        crate::blocking(|| {
            self.ledger().each_payment(&filter, |p| {
                if UNSETTLED.contains(&p.status.as_str()) {
                    let status = PaymentStatus::parse(&p.status).unwrap_or(PaymentStatus::Unknown);
                    targets.push((p.reference, p.provider, status));
                }
                true
            })
        })?;
        let total = targets.len() as u64;
        let pacer = Pacer {
            gap: Duration::from_secs_f64(1.0 / options.per_provider_rate.max(1) as f64),
            next: Mutex::new(HashMap::new()),
        };
        let (done, failures) = (AtomicU64::new(0), AtomicU64::new(0));
        let (changed, unchanged, unreachable, failed) =
            (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        progress(BulkProgress { done: 0, total, failures: 0 });
        stream::iter(targets)
            .for_each_concurrent(options.concurrency.max(1), |(reference, provider, before)| {
                let (pacer, done, failures) = (&pacer, &done, &failures);
                let (changed, unchanged, unreachable, failed) = (&changed, &unchanged, &unreachable, &failed);
                async move {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    pacer.wait(&provider).await;
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    match self.refresh(&reference).await {
                        Ok(after) if after.status != before => changed.fetch_add(1, Ordering::Relaxed),
                        Ok(_) => unchanged.fetch_add(1, Ordering::Relaxed),
                        Err(AppError::ProviderUnreachable { .. }) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            unreachable.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                    let done = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(BulkProgress { done, total, failures: failures.load(Ordering::Relaxed) });
                }
            })
            .await;
        Ok(BulkSummary {
            total,
            changed: changed.into_inner(),
            unchanged: unchanged.into_inner(),
            unreachable: unreachable.into_inner(),
            failed: failed.into_inner(),
            cancelled: cancel.load(Ordering::Relaxed),
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }
}
