//! Settings: the language, the demo's phones, the shared ledger.

use crate::*;

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
pub(crate) fn ui_language(core: Core<'_>) -> UiLanguage {
    UiLanguage::now(core.home())
}

impl UiLanguage {
    pub(crate) fn now(home: &std::path::Path) -> Self {
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
pub(crate) fn set_language<R: Runtime>(
    app: tauri::AppHandle<R>,
    core: Core<'_>,
    language: Option<String>,
) -> Result<(), UiError> {
    use tauri::Emitter;
    let locale = paydesk_core::settings::choose_language(core.home(), language.as_deref())?;
    let _ = app.emit("language-changed", locale.tag());
    Ok(())
}

/// Settings → Demo: whether phones on this network may pay demo sales.
#[tauri::command(async)]
pub(crate) fn demo_phones(core: Core<'_>) -> demo::DemoPhones {
    core.demo_phones()
}

/// Lets phones on this network pay demo sales, or keeps the demo on this computer.
#[tauri::command]
pub(crate) async fn set_demo_phones(core: Core<'_>, on: bool) -> Result<demo::DemoPhones, UiError> {
    Ok(core.set_demo_phones(on).await?)
}

/// The ledger in use and the shared ledger chosen in Settings.
#[tauri::command(async)]
pub(crate) fn ledger_settings(core: Core<'_>) -> paydesk_core::settings::LedgerSettings {
    core.ledger_settings()
}

/// Chooses the shared ledger (checked by connecting to it) or, with none, the file; the
/// counter uses it from its next start.
#[tauri::command(async)]
pub(crate) fn save_shared_ledger(
    core: Core<'_>,
    url: Option<String>,
    password: Option<String>,
) -> Result<paydesk_core::settings::LedgerSettings, UiError> {
    paydesk_core::settings::choose_shared_ledger(core.home(), url.as_deref(), password.as_deref())?;
    Ok(core.ledger_settings())
}
