//! The long jobs the core runs for a host: an export to a file and a bulk refresh, each
//! claiming its state in [`crate::jobs`] while it runs.

use crate::books::{ExportFormat, ExportOptions, ExportSummary, TxQuery};
use crate::bulk::{BulkOptions, BulkProgress, BulkSummary};
use crate::jobs::{Job, JobProgress, ProgressSink};
use crate::{AppError, Paydesk};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

impl Paydesk {
    pub fn job_progress(&self, job: Job) -> JobProgress {
        self.jobs.state(job).progress()
    }

    /// Asks a running job to stop; what it did so far stays done.
    pub fn cancel_job(&self, job: Job) {
        self.jobs.state(job).cancel.store(true, Ordering::Relaxed);
    }

    /// Writes the filter's payments to a new file (offline), as the export job.
    pub async fn export_job(
        &self,
        query: &TxQuery,
        format: ExportFormat,
        options: &ExportOptions,
        path: PathBuf,
        sink: Option<ProgressSink<'_>>,
    ) -> Result<ExportSummary, AppError> {
        if path.as_os_str().is_empty() || path.is_dir() {
            return Err(AppError::invalid("path", "choose a file to write"));
        }
        let state = self.jobs.state(Job::Export);
        let _running = state.claim()?;
        let target = paydesk_ledger::export::ExportTarget::File(path);
        self.export(query, format, options, target, &mut |done, total| {
            state.step(done, total, 0, sink);
            !state.cancel.load(Ordering::Relaxed)
        })
    }

    /// Asks the providers about every unsettled payment of the filter, as the refresh job.
    pub async fn refresh_job(
        &self,
        query: &TxQuery,
        options: BulkOptions,
        sink: Option<ProgressSink<'_>>,
    ) -> Result<BulkSummary, AppError> {
        let state = self.jobs.state(Job::Refresh);
        let _running = state.claim()?;
        let report = |p: BulkProgress| state.step(p.done, p.total, p.failures, sink);
        self.refresh_all(query, options, &report, &state.cancel).await
    }
}
