//! The customer display: its settings, its state, its window, and the events that
//! keep every window in step with it.

use crate::*;

pub(crate) type Screen<'a> = State<'a, Arc<CustomerDisplay>>;

#[tauri::command(async)]
pub(crate) fn display_settings(core: Core<'_>, screen: Screen<'_>) -> DisplaySettings {
    screen.settings(core.home())
}

/// Saves the shop name and switches the LAN page on (at the address given) or off.
#[tauri::command]
pub(crate) async fn save_display_settings(
    core: Core<'_>,
    screen: Screen<'_>,
    settings: DisplaySettings,
) -> Result<DisplaySettings, UiError> {
    Ok(screen.save_settings(core.home(), settings).await?)
}

/// What the customer display shows now (a display window asks once, then follows events).
#[tauri::command(async)]
pub(crate) fn display_state(screen: Screen<'_>) -> DisplayState {
    screen.current()
}

/// The counter shows a sale (or, with none, the idle screen) on the customer display.
#[tauri::command]
pub(crate) async fn show_on_display(
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
pub(crate) async fn open_customer_display<R: Runtime>(app: tauri::AppHandle<R>) -> Result<(), UiError> {
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
pub(crate) async fn close_customer_display<R: Runtime>(app: tauri::AppHandle<R>) -> Result<(), UiError> {
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
