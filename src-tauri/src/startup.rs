//! Starting the window: the core (as `paydesk_core::app` starts it), the web view's
//! settings, and the pushes that keep every window current.

use crate::*;

pub(crate) static PROCESS_STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Notes when the process started, for the start-up figure `ui_ready` prints.
pub fn mark_process_start() {
    PROCESS_STARTED.get_or_init(std::time::Instant::now);
}

/// Whether what starts beside the window (demo mode, the listeners) has started: the
/// window's first question waits for it, as the profiles it lists include demo mode's.
pub(crate) struct Started(tokio::sync::watch::Receiver<bool>);

impl Started {
    pub(crate) async fn wait(&self) {
        let _ = self.0.clone().wait_for(|done| *done).await;
    }
}

/// Where the machine has no GPU (no DRM render node), WebKit's GL drawing runs on Mesa's
/// software renderer, which compiles a shader with LLVM for each new kind of shape on every
/// start: the counter's first frame cost ~200 ms of CPU there. Skia's CPU painting draws the
/// same page without those compiles. There, too, compositing layers are painted by the CPU
/// anyway and only cost memory: off, the web process holds ~50 MB less after a sale
/// (bench-window) and the page draws the same. A choice made in the environment is kept.
/// Called first thing in `main`, before any thread starts, as the web processes inherit the
/// environment.
pub fn choose_renderer() {
    #[cfg(target_os = "linux")]
    if !has_render_node(std::path::Path::new("/dev/dri")) {
        for setting in ["WEBKIT_SKIA_ENABLE_CPU_RENDERING", "WEBKIT_DISABLE_COMPOSITING_MODE"] {
            if std::env::var_os(setting).is_none() {
                std::env::set_var(setting, "1");
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn has_render_node(dri: &std::path::Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

/// A console is one page, not a browser: no page cache and the smallest memory caches.
#[cfg(target_os = "linux")]
pub(crate) fn lean_webview<R: Runtime>(window: &tauri::WebviewWindow<R>) {
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
pub(crate) fn tell_failed_prints<R: Runtime>(window: &tauri::WebviewWindow<R>) {
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
                    if let Err(e) = paydesk_core::notifications::start_for_profiles(&core).await {
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

/// Opens the core, starts demo mode, the listeners and recovery, and runs the window.
pub fn run() {
    let home = paydesk_core::app::prepare();
    let startup = paydesk_core::app::Startup {
        demo: Some(paydesk_sandbox::demo::launcher()),
        demo_listener: true,
        ..Default::default()
    };
    let core = match paydesk_core::app::open(&home, &startup) {
        Ok(core) => core,
        Err(e) => {
            eprintln!("paydesk: cannot open the ledger: {e}");
            // The window still opens and says why (a shared ledger's server may be down).
            return unavailable::run(home, e);
        }
    };
    // Demo mode, the listeners and recovery start while the window opens, not before it.
    let (done, started) = tokio::sync::watch::channel(false);
    let starting = core.clone();
    tauri::async_runtime::spawn(async move {
        for said in paydesk_core::app::start(&starting, paydesk_core::app::AtStart::EVERYTHING).await {
            eprintln!("paydesk: {said}");
        }
        let _ = done.send(true);
    });
    let pushing = core.clone();
    let window_state = tauri_plugin_window_state::Builder::new()
        // Only the customer display is put back where it was (its monitor and size); the
        // counter opens as configured.
        .with_denylist(&["main"])
        .build();
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(window_state)
        .manage(Started(started))
        .setup(move |app| {
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::has_render_node;

    #[test]
    fn only_a_render_node_counts_as_a_gpu() {
        let dri = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&dri.path().join("missing")), "no /dev/dri: no GPU");
        std::fs::write(dri.path().join("card0"), b"").unwrap();
        assert!(!has_render_node(dri.path()), "a display card alone is not a render node");
        std::fs::write(dri.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dri.path()));
    }
}
