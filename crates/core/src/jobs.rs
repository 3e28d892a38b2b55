//! Long jobs a host runs for a person (an export, a bulk refresh): one of each at a time,
//! their progress readable at any moment (the window polls it) and told to a sink as it goes
//! (the CLI draws it on stderr), and a switch to stop each. A job's claim is held by a guard:
//! however the job ends (done, refused, panicked, or its future dropped), it is free again.
//! The jobs themselves are the core's (`job_runs.rs`); this is their state, a leaf.

use crate::AppError;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The jobs there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Export,
    Refresh,
}

impl Job {
    pub fn parse(name: &str) -> Result<Self, AppError> {
        match name {
            "export" => Ok(Self::Export),
            "refresh" => Ok(Self::Refresh),
            other => Err(AppError::invalid("job", format!("export or refresh (got '{other}')"))),
        }
    }
}

/// Where a job's progress is, as a host shows it.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct JobProgress {
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub failures: u64,
}

/// Told each step of a job (a progress bar, a channel to a window); the job's state is
/// kept whether or not one listens.
pub type ProgressSink<'a> = &'a (dyn Fn(JobProgress) + Send + Sync);

/// Every job's state, owned by the core.
#[derive(Default)]
pub struct Jobs {
    export: JobState,
    refresh: JobState,
}

#[derive(Default)]
pub(crate) struct JobState {
    done: AtomicU64,
    total: AtomicU64,
    failures: AtomicU64,
    running: AtomicBool,
    pub(crate) cancel: Arc<AtomicBool>,
}

/// The claim on a job while it runs; dropping it frees the job.
pub(crate) struct Running<'a>(&'a JobState);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::SeqCst);
    }
}

impl Jobs {
    pub(crate) fn state(&self, job: Job) -> &JobState {
        match job {
            Job::Export => &self.export,
            Job::Refresh => &self.refresh,
        }
    }
}

impl JobState {
    pub(crate) fn claim(&self) -> Result<Running<'_>, AppError> {
        if self.running.swap(true, Ordering::SeqCst) {
            return Err(AppError::NotAllowed {
                message: "That job is already running; wait for it or stop it.".into(),
            });
        }
        for n in [&self.done, &self.total, &self.failures] {
            n.store(0, Ordering::Relaxed);
        }
        self.cancel.store(false, Ordering::Relaxed);
        Ok(Running(self))
    }

    pub(crate) fn progress(&self) -> JobProgress {
        JobProgress {
            running: self.running.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn step(&self, done: u64, total: u64, failures: u64, sink: Option<ProgressSink<'_>>) {
        self.done.store(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.failures.store(failures, Ordering::Relaxed);
        if let Some(sink) = sink {
            sink(self.progress());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_free_again_however_it_ended() {
        let state = JobState::default();
        let running = state.claim().unwrap();
        assert!(state.progress().running);
        assert!(matches!(state.claim(), Err(AppError::NotAllowed { .. })), "one at a time");
        drop(running);
        assert!(!state.progress().running);
        // A job that panics frees it too: the guard drops while unwinding.
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _running = state.claim().unwrap();
            panic!("the job failed");
        }));
        assert!(unwound.is_err());
        assert!(state.claim().is_ok());
    }

    #[test]
    fn progress_is_kept_and_told() {
        let state = JobState::default();
        let _running = state.claim().unwrap();
        let told = std::sync::Mutex::new(Vec::new());
        let sink = |p: JobProgress| told.lock().unwrap().push(p);
        state.step(3, 10, 1, Some(&sink));
        let expected = JobProgress { running: true, done: 3, total: 10, failures: 1 };
        assert_eq!(state.progress(), expected);
        assert_eq!(told.into_inner().unwrap(), vec![expected]);
        assert!(Job::parse("print").is_err());
    }
}
