//! The window when the ledger cannot be opened (a shared ledger's server down or out of
//! reach): the counter says why in words and sells nothing; where Settings chose the shared
//! ledger, it offers to go back to this computer's own ledger file from the next start.
//! The same page and command names as the full app, answered without a core.

use crate::{context, UiError, UiLanguage};
use paydesk_core::AppError;
use std::path::PathBuf;
use tauri::State;

struct Problem {
    home: PathBuf,
    error: AppError,
}

#[tauri::command]
fn app_info(problem: State<'_, Problem>) -> Result<(), UiError> {
    Err(problem.error.clone().into())
}

#[tauri::command]
fn ui_ready() {}

#[tauri::command(async)]
fn ui_language(problem: State<'_, Problem>) -> UiLanguage {
    UiLanguage::now(&problem.home)
}

#[tauri::command(async)]
fn ledger_settings(problem: State<'_, Problem>) -> Result<paydesk_core::settings::LedgerSettings, UiError> {
    let at = paydesk_core::settings::ledger_location(&problem.home)?;
    Ok(paydesk_core::settings::ledger_settings_at(&problem.home, &at))
}

/// Only going back to the file is offered here (a new server is chosen in Settings).
#[tauri::command(async)]
fn save_shared_ledger(
    problem: State<'_, Problem>,
    url: Option<String>,
) -> Result<paydesk_core::settings::LedgerSettings, UiError> {
    if url.is_some_and(|u| !u.trim().is_empty()) {
        return Err(AppError::NotAllowed {
            message: "Choose a shared ledger in Settings once Paydesk has started.".into(),
        }
        .into());
    }
    paydesk_core::settings::choose_shared_ledger(&problem.home, None, None)?;
    let at = paydesk_core::settings::ledger_location(&problem.home)?;
    Ok(paydesk_core::settings::ledger_settings_at(&problem.home, &at))
}

pub(crate) fn run(home: PathBuf, error: AppError) {
    tauri::Builder::default()
        .manage(Problem { home, error })
        .invoke_handler(tauri::generate_handler![app_info, ui_ready, ui_language, ledger_settings, save_shared_ledger])
        .run(context())
        .expect("the Paydesk window failed to start");
}
