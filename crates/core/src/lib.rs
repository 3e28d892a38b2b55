//! Paydesk's services, shared by the desktop shell and the CLI. Never depends on Tauri.
//!
//! - [`Paydesk`] owns the ledger and runs the payment flows (record, send, update).
//! - [`secrets`] keeps API secrets in the OS keyring, never anywhere else.
//! - [`demo`] switches demo mode on against a sandbox the host started.
//! - [`qr`] renders payment links as PNG and SVG.

pub mod app;
pub mod books;
pub mod bulk;
pub mod cards;
pub mod customers;
pub mod demo;
pub mod diagnostics;
pub mod display;
pub mod error;
pub mod i18n;
mod job_runs;
pub mod jobs;
pub mod journal;
pub mod listener;
pub(crate) mod movements;
pub mod notifications;
pub mod offline;
pub mod paths;
pub mod payers;
pub mod payments;
pub mod print;
pub mod profiles;
pub mod qr;
pub mod recovery;
mod refunds;
pub mod secrets;
pub mod settings;

pub use error::AppError;
/// Called first thing by the app and the CLI: servers never starve the process of descriptors.
pub use paydesk_doors::raise_open_files_limit;

pub mod providers;
pub use paydesk_gateways::gateway::customers::{CustomerFields, CustomerKey};
pub use paydesk_gateways::gateway::Payer;
/// Sent on `Paydesk::status_changes` when a profile was saved or removed (on a shared
/// ledger: by any counter).
pub const PROFILES_CHANGED: i64 = paydesk_ledger::postgres::PROFILES_CHANGED;
pub use payments::{CreatePayment, Method, Paydesk, PaymentDetail, PaymentView, RefundOutcome};
pub use profiles::{is_demo_name, Environment, Profile, ProfileInput, DEMO_PROFILE};

/// Runs blocking work (SQLite, the keyring's D-Bus calls) without stalling the async
/// runtime: on a multi-threaded runtime the worker first hands its other tasks to another
/// thread (`block_in_place`); elsewhere it just runs.
pub(crate) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
