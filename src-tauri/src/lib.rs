//! The desktop shell: Tauri commands that hand straight over to `paydesk-core`.
//! No payment logic lives here.

// A window without a core (its ledger would not open): its own commands, by the same names.
mod unavailable;

mod accounts;
mod books;
mod counter;
mod display;
mod settings;
mod startup;

use display::*;
use settings::*;
use startup::*;
pub use startup::{choose_renderer, mark_process_start, run};

use base64::Engine;
use paydesk_core::books::{export_format, ChainReport, DayRow, ExportOptions, ExportSummary, Totals, TxPage, TxQuery};
use paydesk_core::bulk::{BulkOptions, BulkSummary};
use paydesk_core::demo;
use paydesk_core::display::{CustomerDisplay, DisplaySettings, DisplayState};
use paydesk_core::jobs::{Job, JobProgress};
use paydesk_core::providers::{provider_infos, ProviderInfo};
use paydesk_core::{
    secrets, AppError, CreatePayment, CustomerFields, CustomerKey, Paydesk, PaymentDetail, PaymentView, Profile,
    ProfileInput, RefundOutcome,
};
use paydesk_gateways::ApiSecret;
use paydesk_ledger::PaymentFilter;
use paydesk_ledger::{CustomerRow, TokenRow};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tauri::{Runtime, State};

type Core<'a> = State<'a, Arc<Paydesk>>;

/// What the window receives when a command fails: the core's error, in words a person
/// reads (field labels, where to fix it in the window); `kind` and `field` unchanged.
#[derive(Debug)]
pub struct UiError(pub AppError);

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        UiError(e.for_people_in(paydesk_core::i18n::current()))
    }
}

impl Serialize for UiError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Runs a core call that reads or writes SQLite (or the keyring) on a blocking thread:
/// never on the UI thread, never on an async worker.
async fn off_thread<T: Send + 'static>(
    core: &Arc<Paydesk>,
    f: impl FnOnce(&Paydesk) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let core = core.clone();
    tauri::async_runtime::spawn_blocking(move || f(&core))
        .await
        .map_err(|e| AppError::Internal { message: e.to_string() })?
}

/// The Tauri config (at the workspace root) with the UI embedded.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!("../tauri.conf.json")
}

/// Registers the core and the commands on a builder (the real runtime or the mock one).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>, core: Arc<Paydesk>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        .manage(core)
        .manage(Arc::new(CustomerDisplay::default()))
        .invoke_handler(tauri::generate_handler![
            counter::app_info,
            counter::ui_ready,
            counter::create_payment,
            counter::poll_payment,
            counter::refresh_payment,
            counter::retry_payment,
            books::list_payments,
            books::payment_detail,
            books::refund_payment,
            counter::cancel_payment,
            counter::settle_demo_sale,
            books::capture_payment,
            books::void_payment,
            accounts::list_customers,
            accounts::create_customer,
            accounts::get_customer,
            accounts::update_customer,
            accounts::list_profiles,
            accounts::save_profile,
            accounts::delete_profile,
            accounts::delete_secret,
            accounts::profile_history,
            books::tx_totals_by_shop,
            counter::recall_payer,
            counter::forget_payer,
            counter::import_payers,
            accounts::test_connection,
            accounts::diagnose_connection,
            accounts::list_tokens,
            accounts::saved_tokens,
            accounts::remove_token,
            accounts::cancel_recurring,
            books::tx_page,
            books::tx_totals,
            books::daily_report,
            books::export_daily_report,
            books::ledger_status,
            books::choose_export_file,
            books::export_ledger,
            books::show_exported_file,
            books::refresh_unsettled,
            books::job_progress,
            books::cancel_job,
            counter::print_page,
            counter::printers,
            counter::notify_paid,
            settings::ui_language,
            settings::set_language,
            display::display_settings,
            display::save_display_settings,
            settings::demo_phones,
            settings::set_demo_phones,
            settings::ledger_settings,
            settings::save_shared_ledger,
            display::display_state,
            display::show_on_display,
            display::open_customer_display,
            display::close_customer_display
        ])
}
