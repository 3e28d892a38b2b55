//! Profiles, their secrets and connection checks; customers and cards on file.

use crate::*;

#[tauri::command]
pub(crate) async fn list_customers(
    core: Core<'_>,
    profile: Option<String>,
    text: Option<String>,
) -> Result<Vec<CustomerRow>, UiError> {
    Ok(off_thread(&core, move |c| c.customers(profile.as_deref(), text.as_deref())).await?)
}

#[tauri::command]
pub(crate) async fn create_customer(
    core: Core<'_>,
    profile: String,
    fields: CustomerFields,
) -> Result<CustomerRow, UiError> {
    Ok(core.create_customer(&profile, &fields).await?)
}

#[tauri::command]
pub(crate) async fn get_customer(
    core: Core<'_>,
    profile: String,
    customer_no: Option<String>,
    customer_code: Option<String>,
) -> Result<CustomerRow, UiError> {
    let key = match (customer_no.filter(|v| !v.trim().is_empty()), customer_code.filter(|v| !v.trim().is_empty())) {
        (Some(no), _) => CustomerKey::CustomerNo(no.trim().into()),
        (None, Some(code)) => CustomerKey::CustomerCode(code.trim().into()),
        (None, None) => return Err(AppError::invalid("customer_no", "give a customer number or code").into()),
    };
    Ok(core.get_customer(&profile, &key).await?)
}

#[tauri::command]
pub(crate) async fn update_customer(
    core: Core<'_>,
    profile: String,
    customer_no: String,
    changes: CustomerFields,
) -> Result<CustomerRow, UiError> {
    Ok(core.update_customer(&profile, &customer_no, &changes).await?)
}

/// A profile as Settings shows it: never the token, only whether one is saved.
#[derive(Debug, Serialize)]
pub struct ProfileSummary {
    #[serde(flatten)]
    pub profile: Profile,
    /// "saved", "not saved", "built in" (demo) or "unavailable" (no keyring).
    pub token: &'static str,
}

#[tauri::command]
pub(crate) async fn list_profiles(core: Core<'_>) -> Result<Vec<ProfileSummary>, UiError> {
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
pub(crate) async fn save_profile(
    core: Core<'_>,
    input: ProfileInput,
    token: Option<String>,
) -> Result<Profile, UiError> {
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
    // A profile that asks for the notification listener gets it at once.
    paydesk_core::notifications::start_for_profiles(core.inner()).await?;
    Ok(saved)
}

#[tauri::command]
pub(crate) async fn delete_profile(core: Core<'_>, name: String) -> Result<bool, UiError> {
    let for_name = name.clone();
    let removed = off_thread(&core, move |c| c.remove_profile(&for_name)).await?;
    let _ = tauri::async_runtime::spawn_blocking(move || secrets::delete_secret(&name)).await;
    // Its notification listener, if it had one, closes now.
    paydesk_core::notifications::start_for_profiles(core.inner()).await?;
    Ok(removed)
}

/// Every profile saved or removed (here or, on a shared ledger, at another counter), newest
/// first, from the sealed events.
#[tauri::command(async)]
pub(crate) async fn profile_history(core: Core<'_>, limit: Option<i64>) -> Result<Vec<serde_json::Value>, UiError> {
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

#[tauri::command]
pub(crate) async fn delete_secret(name: String) -> Result<bool, UiError> {
    Ok(tauri::async_runtime::spawn_blocking(move || secrets::delete_secret(&name))
        .await
        .map_err(|e| AppError::Internal { message: e.to_string() })??)
}

#[tauri::command]
pub(crate) async fn test_connection(core: Core<'_>, name: String) -> Result<String, UiError> {
    Ok(core.test_connection(&name).await?)
}

/// Test connection with its details: the diagnosis, the clock skew, the scrubbed exchanges.
#[tauri::command]
pub(crate) async fn diagnose_connection(
    core: Core<'_>,
    name: String,
) -> Result<paydesk_core::diagnostics::ConnectionTest, UiError> {
    Ok(core.diagnose_connection(&name).await?)
}

#[tauri::command]
pub(crate) async fn list_tokens(
    core: Core<'_>,
    profile: String,
    shopper_reference: String,
) -> Result<Vec<TokenRow>, UiError> {
    Ok(core.tokens(&profile, &shopper_reference).await?)
}

/// The shopper's cards as last seen (the ledger), when the provider cannot be reached.
#[tauri::command]
pub(crate) async fn saved_tokens(
    core: Core<'_>,
    profile: String,
    shopper_reference: String,
) -> Result<Vec<TokenRow>, UiError> {
    Ok(off_thread(&core, move |c| c.tokens_offline(&profile, &shopper_reference)).await?)
}

#[tauri::command]
pub(crate) async fn remove_token(
    core: Core<'_>,
    profile: String,
    shopper_reference: String,
    token: String,
) -> Result<(), UiError> {
    Ok(core.remove_token(&profile, &shopper_reference, &token).await?)
}

#[tauri::command]
pub(crate) async fn cancel_recurring(
    core: Core<'_>,
    profile: String,
    shopper_reference: String,
    agreement_id: String,
) -> Result<(), UiError> {
    Ok(core.cancel_recurring(&profile, &shopper_reference, &agreement_id).await?)
}
