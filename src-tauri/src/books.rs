//! The accountant's commands: the list, one payment's detail and its money movements,
//! totals, reports, exports and refreshing what is unsettled (jobs with progress).

use crate::*;

#[derive(Debug, Default, Deserialize)]
pub struct ListFilter {
    pub status: Option<String>,
    pub profile: Option<String>,
    pub text: Option<String>,
}

#[tauri::command]
pub(crate) async fn list_payments(core: Core<'_>, filter: Option<ListFilter>) -> Result<Vec<PaymentView>, UiError> {
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
pub(crate) async fn payment_detail(core: Core<'_>, reference: String) -> Result<PaymentDetail, UiError> {
    Ok(off_thread(&core, move |c| c.payment_detail(&reference)).await?)
}

#[tauri::command]
pub(crate) async fn refund_payment(
    core: Core<'_>,
    reference: String,
    amount: Option<String>,
) -> Result<RefundOutcome, UiError> {
    Ok(core.refund(&reference, amount.as_deref()).await?)
}

#[tauri::command]
pub(crate) async fn capture_payment(
    core: Core<'_>,
    reference: String,
    amount: Option<String>,
    last: Option<bool>,
) -> Result<PaymentView, UiError> {
    Ok(core.capture(&reference, amount.as_deref(), last.unwrap_or(false)).await?)
}

#[tauri::command]
pub(crate) async fn void_payment(core: Core<'_>, reference: String) -> Result<PaymentView, UiError> {
    Ok(core.void(&reference, None).await?)
}

/// Where a long job (`export`, `refresh`) is; the page polls it.
#[tauri::command]
pub(crate) fn job_progress(core: Core<'_>, job: String) -> Result<JobProgress, UiError> {
    Ok(core.job_progress(Job::parse(&job)?))
}

#[tauri::command]
pub(crate) fn cancel_job(core: Core<'_>, job: String) -> Result<(), UiError> {
    core.cancel_job(Job::parse(&job)?);
    Ok(())
}

#[tauri::command]
pub(crate) async fn tx_page(core: Core<'_>, query: TxQuery) -> Result<TxPage, UiError> {
    Ok(off_thread(&core, move |c| c.tx_page(&query)).await?)
}

#[tauri::command]
pub(crate) async fn tx_totals(core: Core<'_>, query: TxQuery) -> Result<Vec<Totals>, UiError> {
    Ok(off_thread(&core, move |c| c.tx_totals(&query)).await?)
}

/// Each shop's totals of the filter (they add up to the whole).
#[tauri::command(async)]
pub(crate) async fn tx_totals_by_shop(
    core: Core<'_>,
    query: TxQuery,
) -> Result<Vec<paydesk_core::books::ShopTotals>, UiError> {
    Ok(off_thread(&core, move |c| c.tx_totals_by_shop(&query)).await?)
}

#[tauri::command]
pub(crate) async fn daily_report(
    core: Core<'_>,
    query: TxQuery,
    by_provider: Option<bool>,
) -> Result<Vec<DayRow>, UiError> {
    Ok(off_thread(&core, move |c| c.daily_report(&query, by_provider.unwrap_or(false))).await?)
}

/// The daily report (as `daily_report` returns it) written as CSV to `path`; its rows.
#[tauri::command]
pub(crate) async fn export_daily_report(
    core: Core<'_>,
    query: TxQuery,
    by_provider: bool,
    path: String,
) -> Result<u64, UiError> {
    let path = std::path::PathBuf::from(path.trim());
    if path.as_os_str().is_empty() || path.is_dir() {
        return Err(AppError::invalid("path", "choose a file to write").into());
    }
    Ok(off_thread(&core, move |c| c.export_daily_report(&query, by_provider, &path)).await?)
}

/// The hash chain's state, for Settings.
#[tauri::command]
pub(crate) async fn ledger_status(core: Core<'_>) -> Result<ChainReport, UiError> {
    Ok(off_thread(&core, |c| c.verify_ledger()).await?)
}

/// Asks where to save an export (the system's Save dialog); None when dismissed.
#[tauri::command]
pub(crate) async fn choose_export_file<R: Runtime>(
    app: tauri::AppHandle<R>,
    format: String,
    name: Option<String>,
) -> Result<Option<String>, UiError> {
    use tauri_plugin_dialog::DialogExt;
    let ext = export_format(&format)?.extension();
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
pub(crate) async fn export_ledger(
    core: Core<'_>,
    query: TxQuery,
    format: String,
    path: String,
    refunds: bool,
    events: bool,
) -> Result<ExportSummary, UiError> {
    let options = ExportOptions { with_refunds: refunds, with_events: events, csv_bom: false };
    let path = std::path::PathBuf::from(path.trim());
    Ok(core.export_job(&query, export_format(&format)?, &options, path, None).await?)
}

/// Shows a file this session exported in the desktop's file manager ("Open folder").
#[tauri::command]
pub(crate) async fn show_exported_file(core: Core<'_>, path: String) -> Result<(), UiError> {
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
pub(crate) async fn refresh_unsettled(core: Core<'_>, query: TxQuery) -> Result<BulkSummary, UiError> {
    Ok(core.refresh_job(&query, BulkOptions::default(), None).await?)
}
