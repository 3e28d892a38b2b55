//! The counter's commands: a sale, its QR and its outcome; demo settling; the payer; printing.

use crate::*;

/// How often a waiting screen asks the provider when no IPN has arrived yet.
pub(crate) const PROVIDER_POLL_INTERVAL: Duration = Duration::from_secs(3);

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
    /// Each status's name and word for people, in the state machine's order.
    pub status_labels: Vec<(&'static str, &'static str)>,
}

/// The counter is ready for a sale: prints (to stderr) how long start-up took, the figure
/// the start-up benchmark reads. Returns the milliseconds.
#[tauri::command]
pub(crate) fn ui_ready() -> u64 {
    let ms = PROCESS_STARTED.get().map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
    eprintln!("paydesk: window ready in {ms} ms");
    ms
}

#[tauri::command]
pub(crate) async fn app_info<R: Runtime>(app: tauri::AppHandle<R>, core: Core<'_>) -> Result<AppInfo, UiError> {
    // Hosts that start demo mode beside the window (the app, not the tests' mock) say so.
    if let Some(started) = tauri::Manager::try_state::<Started>(&app) {
        started.wait().await;
    }
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
        status_labels: paydesk_core::providers::status_labels(),
    })
}

/// A payment at the counter, with its QR ready to show.
#[derive(Debug, Serialize)]
pub struct CounterPayment {
    pub payment: PaymentView,
    /// `data:image/png;base64,...`
    pub qr_png: String,
}

pub(crate) async fn with_qr(core: &Arc<Paydesk>, payment: PaymentView) -> Result<CounterPayment, AppError> {
    let reference = payment.reference.clone();
    // One pixel per module: the page scales it crisply (image-rendering: pixelated).
    let png = off_thread(core, move |c| c.qr_png(&reference, 0)).await?;
    let qr_png = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
    Ok(CounterPayment { payment, qr_png })
}

#[tauri::command]
pub(crate) async fn create_payment(core: Core<'_>, request: CreatePayment) -> Result<CounterPayment, UiError> {
    let payment = core.create_payment(&request).await?;
    Ok(with_qr(&core, payment).await?)
}

#[tauri::command]
pub(crate) async fn retry_payment(core: Core<'_>, reference: String) -> Result<CounterPayment, UiError> {
    let payment = core.retry_payment(&reference).await?;
    Ok(with_qr(&core, payment).await?)
}

#[tauri::command]
pub(crate) async fn poll_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.poll(&reference, PROVIDER_POLL_INTERVAL).await?)
}

#[tauri::command]
pub(crate) async fn refresh_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.refresh(&reference).await?)
}

#[tauri::command]
pub(crate) async fn cancel_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.cancel(&reference).await?)
}

/// Demo mode: the sandbox pays or declines the waiting sale, as its customer page would.
#[tauri::command]
pub(crate) async fn settle_demo_sale(
    core: Core<'_>,
    reference: String,
    outcome: demo::DemoOutcome,
) -> Result<(), UiError> {
    Ok(core.settle_demo_sale(&reference, outcome).await?)
}

/// The payer kept under exactly this mobile number (the counter fills the rest in).
#[tauri::command(async)]
pub(crate) async fn recall_payer(core: Core<'_>, mobile: String) -> Result<Option<paydesk_core::Payer>, UiError> {
    Ok(off_thread(&core, move |c| c.recall_payer(&mobile)).await?)
}

/// Erases the payer kept under this mobile number.
#[tauri::command(async)]
pub(crate) async fn forget_payer(core: Core<'_>, mobile: String) -> Result<bool, UiError> {
    Ok(off_thread(&core, move |c| c.forget_payer(&mobile)).await?)
}

/// Moves payers an older counter kept in the web view into the ledger (once).
#[tauri::command(async)]
pub(crate) async fn import_payers(core: Core<'_>, payers: Vec<paydesk_core::Payer>) -> Result<usize, UiError> {
    Ok(off_thread(&core, move |c| c.import_payers(payers)).await?)
}

/// A desktop notification that a payment completed (the window being in the background:
/// link payments finish minutes later). Through Tauri's notification plugin; false when the
/// desktop has no notification service.
#[tauri::command]
pub(crate) async fn notify_paid<R: Runtime>(
    app: tauri::AppHandle<R>,
    title: String,
    body: String,
) -> Result<bool, UiError> {
    use tauri_plugin_notification::NotificationExt;
    let title: String = title.chars().filter(|c| !c.is_control()).take(80).collect();
    let body: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    Ok(app.notification().builder().title(title).body(body).show().is_ok())
}

/// A page to print through the system dialog: a paid sale's receipt, or a sale's QR.
#[tauri::command]
pub(crate) async fn print_page(
    core: Core<'_>,
    reference: String,
    what: String,
    paper: String,
) -> Result<String, UiError> {
    let page = off_thread(&core, move |c| {
        let paper = paydesk_core::print::Paper::parse(&paper)?;
        match what.as_str() {
            "receipt" => c.receipt_html(&reference, paper),
            "qr" => c.qr_print_html(&reference, paper),
            other => Err(AppError::invalid("what", format!("receipt or qr (got '{other}')"))),
        }
    })
    .await?;
    Ok(page)
}

/// The printers this computer prints to (CUPS's list), before a print dialog opens.
#[tauri::command(async)]
pub(crate) fn printers() -> paydesk_core::print::Printers {
    paydesk_core::print::printers()
}
