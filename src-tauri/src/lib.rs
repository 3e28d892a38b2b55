//! The desktop shell: Tauri commands that hand straight over to `paydesk-core`.
//! No payment logic lives here.

// Before the commands below: its own commands share their names (a window without a core).
mod unavailable;

use base64::Engine;
use paydesk_core::books::{ChainReport, DayRow, ExportFormat, ExportOptions, ExportSummary, Totals, TxPage, TxQuery};
use paydesk_core::bulk::{BulkOptions, BulkProgress, BulkSummary};
use paydesk_core::demo;
use paydesk_core::display::{CustomerDisplay, DisplaySettings, DisplayState};
use paydesk_core::providers::{provider_infos, ProviderInfo};
use paydesk_core::{
    secrets, AppError, CreatePayment, CustomerFields, CustomerKey, Paydesk, PaymentDetail, PaymentView, Profile,
    ProfileInput, RefundOutcome,
};
use paydesk_gateways::ApiSecret;
use paydesk_ledger::PaymentFilter;
use paydesk_ledger::{CustomerRow, TokenRow};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// How often a waiting screen asks the provider when no IPN has arrived yet.
const PROVIDER_POLL_INTERVAL: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub profile: Profile,
    pub profiles: Vec<Profile>,
    /// What each provider offers (wallets, currencies, flows); the screens read the one of
    /// the profile in use.
    pub providers: Vec<ProviderInfo>,
    pub ledger_path: String,
    /// Sales journaled on this computer while the shared ledger is away (None: not away).
    pub offline_waiting: Option<i64>,
    /// This build's version, for About.
    pub version: &'static str,
}

static PROCESS_STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Notes when the process started, for the start-up figure `ui_ready` prints.
pub fn mark_process_start() {
    PROCESS_STARTED.get_or_init(std::time::Instant::now);
}

/// The counter is ready for a sale: prints (to stderr) how long start-up took, the figure
/// the start-up benchmark reads. Returns the milliseconds.
#[tauri::command]
fn ui_ready() -> u64 {
    let ms = PROCESS_STARTED.get().map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
    eprintln!("paydesk: window ready in {ms} ms");
    ms
}

#[tauri::command]
async fn app_info(core: Core<'_>) -> Result<AppInfo, UiError> {
    let profiles = off_thread(&core, |c| c.profiles()).await?;
    let profile = profiles.first().cloned().ok_or_else(|| AppError::ProfileNotFound {
        profile: String::new(),
        message: "No profile is set up and demo mode is not running".into(),
    })?;
    Ok(AppInfo {
        profile,
        profiles,
        providers: provider_infos(),
        ledger_path: off_thread(&core, |c| Ok(c.ledger_location().shown())).await?,
        offline_waiting: off_thread(&core, |c| Ok(c.offline_waiting())).await?,
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// A payment at the counter, with its QR ready to show.
#[derive(Debug, Serialize)]
pub struct CounterPayment {
    pub payment: PaymentView,
    /// `data:image/png;base64,...`
    pub qr_png: String,
}

async fn with_qr(core: &Arc<Paydesk>, payment: PaymentView) -> Result<CounterPayment, AppError> {
    let reference = payment.reference.clone();
    // One pixel per module: the page scales it crisply (image-rendering: pixelated).
    let png = off_thread(core, move |c| c.qr_png(&reference, 0)).await?;
    let qr_png = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
    Ok(CounterPayment { payment, qr_png })
}

#[tauri::command]
async fn create_payment(core: Core<'_>, request: CreatePayment) -> Result<CounterPayment, UiError> {
    let payment = core.create_payment(&request).await?;
    Ok(with_qr(&core, payment).await?)
}

#[tauri::command]
async fn retry_payment(core: Core<'_>, reference: String) -> Result<CounterPayment, UiError> {
    let payment = core.retry_payment(&reference).await?;
    Ok(with_qr(&core, payment).await?)
}

#[tauri::command]
async fn poll_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.poll(&reference, PROVIDER_POLL_INTERVAL).await?)
}

#[tauri::command]
async fn refresh_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.refresh(&reference).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListFilter {
    pub status: Option<String>,
    pub profile: Option<String>,
    pub text: Option<String>,
}

#[tauri::command]
async fn list_payments(core: Core<'_>, filter: Option<ListFilter>) -> Result<Vec<PaymentView>, UiError> {
    let f = filter.unwrap_or_default();
    let empty_none = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let filter = PaymentFilter {
        status: empty_none(f.status),
        profile: empty_none(f.profile),
        text: empty_none(f.text),
        limit: Some(1000),
        ..PaymentFilter::default()
    };
    Ok(off_thread(&core, move |c| c.payments(&filter)).await?)
}

#[tauri::command]
async fn payment_detail(core: Core<'_>, reference: String) -> Result<PaymentDetail, UiError> {
    Ok(off_thread(&core, move |c| c.payment_detail(&reference)).await?)
}

#[tauri::command]
async fn refund_payment(core: Core<'_>, reference: String, amount: Option<String>) -> Result<RefundOutcome, UiError> {
    Ok(core.refund(&reference, amount.as_deref()).await?)
}

#[tauri::command]
async fn cancel_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.cancel(&reference).await?)
}

/// Demo mode: the sandbox pays or declines the waiting sale, as its customer page would.
#[tauri::command]
async fn settle_demo_sale(core: Core<'_>, reference: String, outcome: demo::DemoOutcome) -> Result<(), UiError> {
    Ok(core.settle_demo_sale(&reference, outcome).await?)
}

#[tauri::command]
async fn capture_payment(
    core: Core<'_>,
    reference: String,
    amount: Option<String>,
    last: Option<bool>,
) -> Result<PaymentView, UiError> {
    Ok(core.capture(&reference, amount.as_deref(), last.unwrap_or(false)).await?)
}

#[tauri::command]
async fn void_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.void(&reference, None).await?)
}

// ----- customers -----

#[tauri::command]
async fn list_customers(
    core: Core<'_>,
    profile: Option<String>,
    text: Option<String>,
) -> Result<Vec<CustomerRow>, UiError> {
    Ok(off_thread(&core, move |c| c.customers(profile.as_deref(), text.as_deref())).await?)
}

#[tauri::command]
async fn create_customer(core: Core<'_>, profile: String, fields: CustomerFields) -> Result<CustomerRow, UiError> {
    Ok(core.create_customer(&profile, &fields).await?)
}

#[tauri::command]
async fn get_customer(
    core: Core<'_>,
    profile: String,
    customer_no: Option<String>,
    customer_code: Option<String>,
) -> Result<CustomerRow, UiError> {
    let key = match (customer_no.filter(|v| !v.trim().is_empty()), customer_code.filter(|v| !v.trim().is_empty())) {
        (Some(no), _) => CustomerKey::CustomerNo(no.trim().into()),
        (None, Some(code)) => CustomerKey::CustomerCode(code.trim().into()),
        (None, None) => {
            return Err(AppError::invalid("customer_no", "customer_no: give a customer number or code").into())
        }
    };
    Ok(core.get_customer(&profile, &key).await?)
}

#[tauri::command]
async fn update_customer(
    core: Core<'_>,
    profile: String,
    customer_no: String,
    changes: CustomerFields,
) -> Result<CustomerRow, UiError> {
    Ok(core.update_customer(&profile, &customer_no, &changes).await?)
}

// ----- profiles and tokens -----

/// A profile as Settings shows it: never the token, only whether one is saved.
#[derive(Debug, Serialize)]
pub struct ProfileSummary {
    #[serde(flatten)]
    pub profile: Profile,
    /// "saved", "not saved", "built in" (demo) or "unavailable" (no keyring).
    pub token: &'static str,
}

#[tauri::command]
async fn list_profiles(core: Core<'_>) -> Result<Vec<ProfileSummary>, UiError> {
    let profiles = off_thread(&core, |c| c.profiles()).await?;
    Ok(tauri::async_runtime::spawn_blocking(move || {
        profiles
            .into_iter()
            .map(|profile| {
                let token = secrets::status_of(&profile);
                ProfileSummary { profile, token }
            })
            .collect()
    })
    .await
    .map_err(|e| AppError::Internal { message: e.to_string() })?)
}

/// Saves a profile and, if one is given, its token (into the keyring only).
#[tauri::command]
async fn save_profile(core: Core<'_>, input: ProfileInput, token: Option<String>) -> Result<Profile, UiError> {
    let token = token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if let Some(t) = token {
        // Validate the profile first so a bad form never leaves a stray keyring entry.
        let profile: Profile = input.clone().validate()?.into();
        let secret = ApiSecret::new(t);
        tauri::async_runtime::spawn_blocking(move || secrets::save_secret(&profile, &secret))
            .await
            .map_err(|e| AppError::Internal { message: e.to_string() })??;
    }
    let saved = off_thread(&core, move |c| c.save_profile(input)).await?;
    // A profile that asks for the IPN listener gets it at once.
    paydesk_core::ipn::start_for_profiles(core.inner()).await?;
    Ok(saved)
}

#[tauri::command]
async fn delete_profile(core: Core<'_>, name: String) -> Result<bool, UiError> {
    let for_name = name.clone();
    let removed = off_thread(&core, move |c| c.remove_profile(&for_name)).await?;
    let _ = tauri::async_runtime::spawn_blocking(move || secrets::delete_token(&name)).await;
    // Its notification listener, if it had one, closes now.
    paydesk_core::ipn::start_for_profiles(core.inner()).await?;
    Ok(removed)
}

/// Every profile saved or removed (here or, on a shared ledger, at another counter), newest
/// first, from the sealed events.
#[tauri::command(async)]
async fn profile_history(core: Core<'_>, limit: Option<i64>) -> Result<Vec<serde_json::Value>, UiError> {
    let events = off_thread(&core, move |c| c.profile_history(None, limit.unwrap_or(20))).await?;
    let here = paydesk_ledger::this_process();
    // `here`: made by this very app (so the window can say "another counter" otherwise).
    Ok(events
        .into_iter()
        .map(|e| {
            let mine = e.detail["by"] == here.as_str();
            let mut doc = serde_json::to_value(e).unwrap_or_default();
            doc["here"] = mine.into();
            doc
        })
        .collect())
}

/// The payer kept under exactly this mobile number (the counter fills the rest in).
#[tauri::command(async)]
async fn recall_payer(core: Core<'_>, mobile: String) -> Result<Option<paydesk_core::Payer>, UiError> {
    Ok(off_thread(&core, move |c| c.recall_payer(&mobile)).await?)
}

/// Erases the payer kept under this mobile number.
#[tauri::command(async)]
async fn forget_payer(core: Core<'_>, mobile: String) -> Result<bool, UiError> {
    Ok(off_thread(&core, move |c| c.forget_payer(&mobile)).await?)
}

/// Moves payers an older counter kept in the web view into the ledger (once).
#[tauri::command(async)]
async fn import_payers(core: Core<'_>, payers: Vec<paydesk_core::Payer>) -> Result<usize, UiError> {
    Ok(off_thread(&core, move |c| c.import_payers(payers)).await?)
}

#[tauri::command]
async fn delete_token(name: String) -> Result<bool, UiError> {
    Ok(tauri::async_runtime::spawn_blocking(move || secrets::delete_token(&name))
        .await
        .map_err(|e| AppError::Internal { message: e.to_string() })??)
}

#[tauri::command]
async fn test_connection(core: Core<'_>, name: String) -> Result<String, UiError> {
    Ok(core.test_connection(&name).await?)
}

/// Test connection with its details: the diagnosis, the clock skew, the scrubbed exchanges.
#[tauri::command]
async fn diagnose_connection(
    core: Core<'_>,
    name: String,
) -> Result<paydesk_core::diagnostics::ConnectionTest, UiError> {
    Ok(core.diagnose_connection(&name).await?)
}

#[tauri::command]
async fn list_tokens(core: Core<'_>, profile: String, shopper_reference: String) -> Result<Vec<TokenRow>, UiError> {
    Ok(core.tokens(&profile, &shopper_reference).await?)
}

/// The shopper's cards as last seen (the ledger), when the provider cannot be reached.
#[tauri::command]
async fn saved_tokens(core: Core<'_>, profile: String, shopper_reference: String) -> Result<Vec<TokenRow>, UiError> {
    Ok(off_thread(&core, move |c| c.tokens_offline(&profile, &shopper_reference)).await?)
}

#[tauri::command]
async fn remove_token(
    core: Core<'_>,
    profile: String,
    shopper_reference: String,
    token: String,
) -> Result<(), UiError> {
    Ok(core.remove_token(&profile, &shopper_reference, &token).await?)
}

#[tauri::command]
async fn cancel_recurring(
    core: Core<'_>,
    profile: String,
    shopper_reference: String,
    agreement_id: String,
) -> Result<(), UiError> {
    Ok(core.cancel_recurring(&profile, &shopper_reference, &agreement_id).await?)
}

/// Long jobs the window runs (an export, a bulk refresh): their progress, read by polling
/// (the page has no event API), and a switch to stop each.
#[derive(Default)]
pub struct Jobs {
    export: Arc<JobState>,
    refresh: Arc<JobState>,
}

#[derive(Default)]
struct JobState {
    done: AtomicU64,
    total: AtomicU64,
    failures: AtomicU64,
    running: AtomicBool,
    cancel: Arc<AtomicBool>,
}

impl Jobs {
    fn get(&self, job: &str) -> Result<&Arc<JobState>, AppError> {
        match job {
            "export" => Ok(&self.export),
            "refresh" => Ok(&self.refresh),
            other => Err(AppError::invalid("job", format!("job: export or refresh (got '{other}')"))),
        }
    }
}

impl JobState {
    fn start(&self) -> Result<(), AppError> {
        if self.running.swap(true, Ordering::SeqCst) {
            return Err(AppError::NotAllowed {
                message: "That job is already running; wait for it or stop it.".into(),
            });
        }
        for n in [&self.done, &self.total, &self.failures] {
            n.store(0, Ordering::Relaxed);
        }
        self.cancel.store(false, Ordering::Relaxed);
        Ok(())
    }
}

#[derive(Debug, Serialize)]
pub struct JobProgress {
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub failures: u64,
}

#[tauri::command]
fn job_progress(jobs: State<'_, Jobs>, job: String) -> Result<JobProgress, UiError> {
    let j = jobs.get(&job)?;
    Ok(JobProgress {
        running: j.running.load(Ordering::Relaxed),
        done: j.done.load(Ordering::Relaxed),
        total: j.total.load(Ordering::Relaxed),
        failures: j.failures.load(Ordering::Relaxed),
    })
}

#[tauri::command]
fn cancel_job(jobs: State<'_, Jobs>, job: String) -> Result<(), UiError> {
    jobs.get(&job)?.cancel.store(true, Ordering::Relaxed);
    Ok(())
}

#[tauri::command]
async fn tx_page(core: Core<'_>, query: TxQuery) -> Result<TxPage, UiError> {
    Ok(off_thread(&core, move |c| c.tx_page(&query)).await?)
}

#[tauri::command]
async fn tx_totals(core: Core<'_>, query: TxQuery) -> Result<Vec<Totals>, UiError> {
    Ok(off_thread(&core, move |c| c.tx_totals(&query)).await?)
}

/// Each shop's totals of the filter (they add up to the whole).
#[tauri::command(async)]
async fn tx_totals_by_shop(core: Core<'_>, query: TxQuery) -> Result<Vec<paydesk_core::books::ShopTotals>, UiError> {
    Ok(off_thread(&core, move |c| c.tx_totals_by_shop(&query)).await?)
}

#[tauri::command]
async fn daily_report(core: Core<'_>, query: TxQuery, by_provider: Option<bool>) -> Result<Vec<DayRow>, UiError> {
    Ok(off_thread(&core, move |c| c.daily_report(&query, by_provider.unwrap_or(false))).await?)
}

/// The daily report (as `daily_report` returns it) written as CSV to `path`; its rows.
#[tauri::command]
async fn export_daily_report(core: Core<'_>, query: TxQuery, by_provider: bool, path: String) -> Result<u64, UiError> {
    let path = std::path::PathBuf::from(path.trim());
    if path.as_os_str().is_empty() || path.is_dir() {
        return Err(AppError::invalid("path", "path: choose a file to write").into());
    }
    Ok(off_thread(&core, move |c| c.export_daily_report(&query, by_provider, &path)).await?)
}

/// The hash chain's state, for Settings.
#[tauri::command]
async fn ledger_status(core: Core<'_>) -> Result<ChainReport, UiError> {
    Ok(off_thread(&core, |c| c.verify_ledger()).await?)
}

/// Asks where to save an export (the system's Save dialog); None when dismissed.
#[tauri::command]
async fn choose_export_file<R: Runtime>(
    app: tauri::AppHandle<R>,
    format: String,
    name: Option<String>,
) -> Result<Option<String>, UiError> {
    use tauri_plugin_dialog::DialogExt;
    let format = ExportFormat::parse(&format)
        .ok_or_else(|| AppError::invalid("format", format!("format: csv, xlsx or jsonl (got '{format}')")))?;
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Xlsx => "xlsx",
        ExportFormat::Jsonl => "jsonl",
    };
    // The name offered (a plain file name, never a path): "paydesk-report", else the ledger's.
    let stem = name
        .filter(|n| {
            !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .unwrap_or_else(|| "paydesk-ledger".into());
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .add_filter(ext.to_uppercase(), &[ext])
            .set_file_name(format!("{stem}.{ext}"))
            .blocking_save_file()
    })
    .await
    .map_err(|e| AppError::Internal { message: e.to_string() })?;
    Ok(chosen.and_then(|p| p.into_path().ok()).map(|p| p.display().to_string()))
}

/// Writes the filter's payments to `path` (offline); progress through `job_progress`.
#[tauri::command]
async fn export_ledger(
    core: Core<'_>,
    jobs: State<'_, Jobs>,
    query: TxQuery,
    format: String,
    path: String,
    refunds: bool,
    events: bool,
) -> Result<ExportSummary, UiError> {
    let format = ExportFormat::parse(&format)
        .ok_or_else(|| AppError::invalid("format", format!("format: csv, xlsx or jsonl (got '{format}')")))?;
    let path = std::path::PathBuf::from(path.trim());
    if path.as_os_str().is_empty() || path.is_dir() {
        return Err(AppError::invalid("path", "path: choose a file to write").into());
    }
    jobs.export.start()?;
    let job = jobs.export.clone();
    let options = ExportOptions { with_refunds: refunds, with_events: events, csv_bom: false };
    let progress = job.clone();
    let result = off_thread(&core, move |c| {
        c.export(&query, format, &options, paydesk_ledger::export::ExportTarget::File(path), &mut |n, of| {
            progress.done.store(n, Ordering::Relaxed);
            progress.total.store(of, Ordering::Relaxed);
            !progress.cancel.load(Ordering::Relaxed)
        })
    })
    .await;
    job.running.store(false, Ordering::SeqCst);
    Ok(result?)
}

/// Shows a file this session exported in the desktop's file manager ("Open folder").
#[tauri::command]
async fn show_exported_file(core: Core<'_>, path: String) -> Result<(), UiError> {
    let file = core.exported_file(&path)?;
    tauri::async_runtime::spawn_blocking(move || tauri_plugin_opener::reveal_item_in_dir(file))
        .await
        .map_err(|e| AppError::Internal { message: e.to_string() })?
        .map_err(|e| AppError::Internal { message: format!("the folder could not be opened: {e}") })?;
    Ok(())
}

/// Asks the providers about every unsettled payment of the filter; progress through
/// `job_progress`, stopped with `cancel_job`.
#[tauri::command]
async fn refresh_unsettled(core: Core<'_>, jobs: State<'_, Jobs>, query: TxQuery) -> Result<BulkSummary, UiError> {
    jobs.refresh.start()?;
    let state = jobs.refresh.clone();
    let report = |p: BulkProgress| {
        state.done.store(p.done, Ordering::Relaxed);
        state.total.store(p.total, Ordering::Relaxed);
        state.failures.store(p.failures, Ordering::Relaxed);
    };
    let cancel = state.cancel.clone();
    let result = core.refresh_all(&query, BulkOptions::default(), &report, &cancel).await;
    state.running.store(false, Ordering::SeqCst);
    Ok(result?)
}

/// A desktop notification that a payment completed (the window being in the background:
/// link payments finish minutes later). Through Tauri's notification plugin; false when the
/// desktop has no notification service.
#[tauri::command]
async fn notify_paid<R: Runtime>(app: tauri::AppHandle<R>, title: String, body: String) -> Result<bool, UiError> {
    use tauri_plugin_notification::NotificationExt;
    let title: String = title.chars().filter(|c| !c.is_control()).take(80).collect();
    let body: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    Ok(app.notification().builder().title(title).body(body).show().is_ok())
}

/// A page to print through the system dialog: a paid sale's receipt, or a sale's QR.
#[tauri::command]
async fn print_page(core: Core<'_>, reference: String, what: String, paper: String) -> Result<String, UiError> {
    let page = off_thread(&core, move |c| {
        let paper = paydesk_core::print::Paper::parse(&paper)?;
        match what.as_str() {
            "receipt" => c.receipt_html(&reference, paper),
            "qr" => c.qr_print_html(&reference, paper),
            other => Err(AppError::invalid("what", format!("what: receipt or qr (got '{other}')"))),
        }
    })
    .await?;
    Ok(page)
}

/// The language in use, with every translation the window looks its strings up in.
#[derive(Debug, Serialize)]
pub struct UiLanguage {
    pub tag: &'static str,
    pub format_tag: &'static str,
    /// What Settings chose ("en", "zh-Hant", "zh-Hans"), or none for the system's language.
    pub chosen: Option<String>,
    pub choices: Vec<(&'static str, &'static str)>,
    pub words: &'static std::collections::HashMap<String, String>,
}

#[tauri::command(async)]
fn ui_language(core: Core<'_>) -> UiLanguage {
    UiLanguage::now(core.home())
}

impl UiLanguage {
    fn now(home: &std::path::Path) -> Self {
        use paydesk_core::i18n::{self, LOCALES};
        let locale = i18n::current();
        UiLanguage {
            tag: locale.tag(),
            format_tag: locale.format_tag(),
            chosen: paydesk_core::settings::saved_language(home),
            choices: LOCALES.iter().map(|l| (l.tag(), l.native_name())).collect(),
            words: i18n::words(locale),
        }
    }
}

/// Chooses the language (none = the system's); every window reloads in it.
#[tauri::command(async)]
fn set_language<R: Runtime>(app: tauri::AppHandle<R>, core: Core<'_>, language: Option<String>) -> Result<(), UiError> {
    use tauri::Emitter;
    let locale = paydesk_core::settings::choose_language(core.home(), language.as_deref())?;
    let _ = app.emit("language-changed", locale.tag());
    Ok(())
}

type Screen<'a> = State<'a, Arc<CustomerDisplay>>;

#[tauri::command(async)]
fn display_settings(core: Core<'_>, screen: Screen<'_>) -> DisplaySettings {
    screen.settings(core.home())
}

/// Saves the shop name and switches the LAN page on (at the address given) or off.
#[tauri::command]
async fn save_display_settings(
    core: Core<'_>,
    screen: Screen<'_>,
    settings: DisplaySettings,
) -> Result<DisplaySettings, UiError> {
    Ok(screen.save_settings(core.home(), settings).await?)
}

/// Settings → Demo: whether phones on this network may pay demo sales.
#[tauri::command(async)]
fn demo_phones(core: Core<'_>) -> demo::DemoPhones {
    core.demo_phones()
}

/// Lets phones on this network pay demo sales, or keeps the demo on this computer.
#[tauri::command]
async fn set_demo_phones(core: Core<'_>, on: bool) -> Result<demo::DemoPhones, UiError> {
    Ok(core.set_demo_phones(on).await?)
}

/// The ledger in use and the shared ledger chosen in Settings.
#[tauri::command(async)]
fn ledger_settings(core: Core<'_>) -> paydesk_core::settings::LedgerSettings {
    core.ledger_settings()
}

/// Chooses the shared ledger (checked by connecting to it) or, with none, the file; the
/// counter uses it from its next start.
#[tauri::command(async)]
fn save_shared_ledger(
    core: Core<'_>,
    url: Option<String>,
    password: Option<String>,
) -> Result<paydesk_core::settings::LedgerSettings, UiError> {
    paydesk_core::settings::choose_shared_ledger(core.home(), url.as_deref(), password.as_deref())?;
    Ok(core.ledger_settings())
}

/// What the customer display shows now (a display window asks once, then follows events).
#[tauri::command(async)]
fn display_state(screen: Screen<'_>) -> DisplayState {
    screen.current()
}

/// The counter shows a sale (or, with none, the idle screen) on the customer display.
#[tauri::command]
async fn show_on_display(
    core: Core<'_>,
    screen: Screen<'_>,
    reference: Option<String>,
    cancelled: Option<bool>,
) -> Result<DisplayState, UiError> {
    let screen = screen.inner().clone();
    Ok(off_thread(&core, move |c| match (reference.as_deref(), cancelled.unwrap_or(false)) {
        (Some(reference), true) => screen.show_cancelled(c, reference),
        (reference, _) => screen.show(c, reference),
    })
    .await?)
}

/// Opens the customer display window (or brings it forward). Its monitor and size are
/// remembered by the window-state plugin.
#[tauri::command]
async fn open_customer_display<R: Runtime>(app: tauri::AppHandle<R>) -> Result<(), UiError> {
    use tauri::Manager;
    // The display faces the customer and has no controls: it never takes the keyboard
    // from the cashier, who goes on typing amounts at the counter.
    if let Some(window) = app.get_webview_window("display") {
        let _ = window.unminimize();
        let _ = window.show();
        return Ok(());
    }
    let title = paydesk_core::i18n::tr(paydesk_core::i18n::current(), "Paydesk — customer display");
    tauri::WebviewWindowBuilder::new(&app, "display", tauri::WebviewUrl::App("display.html".into()))
        .title(title)
        .inner_size(800.0, 600.0)
        .min_inner_size(320.0, 320.0)
        .focused(false)
        .build()
        .map_err(|e| AppError::Internal { message: format!("the customer display could not open ({e})") })?;
    Ok(())
}

/// Closes the customer display (its place and size are kept for the next opening).
#[tauri::command]
async fn close_customer_display<R: Runtime>(app: tauri::AppHandle<R>) -> Result<(), UiError> {
    use tauri::Manager;
    if let Some(window) = app.get_webview_window("display") {
        window
            .close()
            .map_err(|e| AppError::Internal { message: format!("the customer display did not close ({e})") })?;
    }
    Ok(())
}

/// Every change of the customer display goes to every window as `display-changed`.
pub fn push_display_changes<R: Runtime>(app: tauri::AppHandle<R>, display: Arc<CustomerDisplay>) {
    use tauri::Emitter;
    let mut changes = display.subscribe();
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            let state = changes.borrow_and_update().clone();
            let _ = app.emit("display-changed", state);
        }
    });
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
        .manage(Jobs::default())
        .manage(Arc::new(CustomerDisplay::default()))
        .invoke_handler(tauri::generate_handler![
            app_info,
            ui_ready,
            create_payment,
            poll_payment,
            refresh_payment,
            retry_payment,
            list_payments,
            payment_detail,
            refund_payment,
            cancel_payment,
            settle_demo_sale,
            capture_payment,
            void_payment,
            list_customers,
            create_customer,
            get_customer,
            update_customer,
            list_profiles,
            save_profile,
            delete_profile,
            delete_token,
            profile_history,
            tx_totals_by_shop,
            recall_payer,
            forget_payer,
            import_payers,
            test_connection,
            diagnose_connection,
            list_tokens,
            saved_tokens,
            remove_token,
            cancel_recurring,
            tx_page,
            tx_totals,
            daily_report,
            export_daily_report,
            ledger_status,
            choose_export_file,
            export_ledger,
            show_exported_file,
            refresh_unsettled,
            job_progress,
            cancel_job,
            print_page,
            printers,
            notify_paid,
            ui_language,
            set_language,
            display_settings,
            save_display_settings,
            demo_phones,
            set_demo_phones,
            ledger_settings,
            save_shared_ledger,
            display_state,
            show_on_display,
            open_customer_display,
            close_customer_display
        ])
}

/// A console is one page, not a browser: no page cache and the smallest memory caches.
/// (Turning GPU compositing off where there is no GPU saves ~10 MB more, but makes
/// WebKitWebDriver's screenshots hang, so it is left to `WEBKIT_DISABLE_COMPOSITING_MODE=1`.)
#[cfg(target_os = "linux")]
fn lean_webview<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    let _ = window.with_webview(move |webview| {
        use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
        }
    });
}

/// A print the system could not do (no such printer, a spooler error) is said in the
/// window, as the event `print-failed` with the system's words: WebKit only logs it.
#[cfg(target_os = "linux")]
fn tell_failed_prints<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    let app = tauri::Manager::app_handle(window).clone();
    let _ = window.with_webview(move |webview| {
        use tauri::Emitter;
        use webkit2gtk::{PrintOperationExt, WebViewExt};
        webview.inner().connect_print(move |_, operation| {
            let app = app.clone();
            operation.connect_failed(move |_, error| {
                let _ = app.emit("print-failed", error.to_string());
            });
            // The system dialog goes on as usual.
            false
        });
    });
}

/// The printers this computer prints to (CUPS's list), before a print dialog opens.
#[tauri::command(async)]
fn printers() -> paydesk_core::print::Printers {
    paydesk_core::print::printers()
}

/// Starts the embedded sandbox and switches demo mode on, with the local notification
/// listener on PAYDESK_IPN_BIND (e.g. 0.0.0.0:8788 behind a shop's tunnel), else loopback.
async fn start_demo(core: &Arc<Paydesk>) -> Result<String, AppError> {
    let options = paydesk_sandbox::demo::DemoSandboxOptions::from_env()
        .map_err(|m| AppError::invalid("PAYDESK_SANDBOX_BIND", m))?;
    let ipn_bind = std::env::var("PAYDESK_IPN_BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    let ipn_bind = ipn_bind.parse().map_err(|_| {
        AppError::invalid("PAYDESK_IPN_BIND", format!("PAYDESK_IPN_BIND: not an ADDR:PORT ({ipn_bind})"))
    })?;
    let setup = paydesk_sandbox::demo::start(core.home(), &options)
        .await
        .map_err(|message| AppError::Internal { message })?
        .with_listener(ipn_bind);
    Ok(demo::enable(core, setup).await?.base_url().to_string())
}

/// Every status change the core makes is pushed to every window at once, as the event
/// `payment-changed` carrying the payment: nothing waits for a poll.
pub fn push_status_changes<R: Runtime>(app: tauri::AppHandle<R>, core: Arc<Paydesk>) {
    use tauri::Emitter;
    let mut changes = core.status_changes();
    tauri::async_runtime::spawn(async move {
        loop {
            match changes.recv().await {
                // The shared ledger's server came back: anything may have changed meanwhile.
                Ok(0) => {
                    let _ = app.emit("ledger-changed", ());
                }
                // A profile saved or removed on another counter of the shared ledger: the
                // windows list it anew, and this counter's listeners follow the profiles.
                Ok(paydesk_core::PROFILES_CHANGED) => {
                    if let Err(e) = paydesk_core::ipn::start_for_profiles(&core).await {
                        eprintln!("paydesk: notification listeners after a profile change: {e}");
                    }
                    let _ = app.emit("profiles-changed", ());
                }
                Ok(id) => {
                    let core = core.clone();
                    let view = tauri::async_runtime::spawn_blocking(move || core.payment_by_id(id)).await;
                    if let Ok(Ok(Some(view))) = view {
                        let _ = app.emit("payment-changed", view);
                    }
                }
                // Fell behind: the windows' slow poll catches up.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            }
        }
    });
}

/// While the shared ledger is away, tries every few seconds to replay this counter's journal
/// into it; each try tells the windows (`ledger-offline`: sales waiting, or null once back).
pub fn replay_when_back<R: Runtime>(app: tauri::AppHandle<R>, core: Arc<Paydesk>) {
    use tauri::Emitter;
    if core.shared_url().is_none() {
        return;
    }
    tauri::async_runtime::spawn(async move {
        let mut was_offline = false;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            let waiting = {
                let core = core.clone();
                tauri::async_runtime::spawn_blocking(move || {
                    if core.offline_waiting().is_some() {
                        let _ = core.sync_ledger();
                    }
                    core.offline_waiting()
                })
                .await
                .unwrap_or(None)
            };
            if waiting.is_some() || was_offline {
                let _ = app.emit("ledger-offline", waiting);
            }
            was_offline = waiting.is_some();
        }
    });
}

/// Opens the ledger, starts demo mode (sandbox + IPN listener) and runs the window.
pub fn run() {
    paydesk_core::raise_open_files_limit();
    let home = paydesk_core::paths::home();
    paydesk_core::i18n::set_current(paydesk_core::settings::chosen_locale(&home));
    let core = match paydesk_core::settings::ledger_location(&home).and_then(|at| Paydesk::open_at(&home, &at)) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("paydesk: cannot open the ledger: {e}");
            // The window still opens and says why (a shared ledger's server may be down).
            return unavailable::run(home, e);
        }
    };
    match tauri::async_runtime::block_on(start_demo(&core)) {
        Ok(url) => eprintln!("paydesk: demo sandbox at {url}"),
        Err(e) => eprintln!("paydesk: demo mode unavailable: {e}"),
    }
    if let Err(e) = tauri::async_runtime::block_on(paydesk_core::ipn::start_for_profiles(&core)) {
        eprintln!("paydesk: IPN listener unavailable: {e}");
    }
    // What a crash left unanswered is settled in the background, without delaying the window.
    let recovering = core.clone();
    tauri::async_runtime::spawn(async move {
        match recovering.recover(None).await {
            Ok(summary) if summary.payments_found + summary.refunds_found > 0 => {
                eprintln!("paydesk: recovery: {}", summary.describe())
            }
            Ok(_) => {}
            Err(e) => eprintln!("paydesk: recovery failed: {e}"),
        }
    });
    let pushing = core.clone();
    let window_state = tauri_plugin_window_state::Builder::new()
        // Only the customer display is put back where it was (its monitor and size); the
        // counter opens as configured.
        .with_denylist(&["main"])
        .build();
    let builder =
        tauri::Builder::default().plugin(tauri_plugin_dialog::init()).plugin(window_state).setup(move |app| {
            use tauri::Manager;
            let display = app.state::<Arc<CustomerDisplay>>().inner().clone();
            tauri::async_runtime::spawn(display.clone().follow(pushing.clone()));
            push_display_changes(app.handle().clone(), display.clone());
            // The shop's name, and the LAN page only when Settings switched it on.
            let home = pushing.home().to_path_buf();
            tauri::async_runtime::spawn(async move {
                match display.start(&home).await {
                    Ok(()) => {
                        if let Some(url) = display.lan_url() {
                            eprintln!("paydesk: customer display on the network at {url}");
                        }
                    }
                    Err(e) => eprintln!("paydesk: customer display page unavailable: {e}"),
                }
            });
            replay_when_back(app.handle().clone(), pushing.clone());
            push_status_changes(app.handle().clone(), pushing);
            #[cfg(target_os = "linux")]
            if let Some(window) = tauri::Manager::get_webview_window(app, "main") {
                lean_webview(&window);
                tell_failed_prints(&window);
            }
            let _ = app;
            Ok(())
        });
    with_commands(builder, core).run(context()).expect("the Paydesk window failed to start");
}
