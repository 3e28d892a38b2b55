//! A profile's API secret (a provider's API token, app secret or private key: never a saved
//! card, which is a "card on file") lives only in the OS keyring (Secret Service on Linux).
//! There is no fallback: if the keyring cannot be used, the caller gets a clear error saying
//! why.

use crate::AppError;
use keyring::{Entry, Error as KeyringError};
use paydesk_gateways::ApiSecret;

const SERVICE: &str = "paydesk";

/// The keyring entry's name, kept as first written ("api-token") so saved secrets stay found.
fn account(profile: &str) -> String {
    format!("{profile}/api-token")
}

fn unavailable(e: KeyringError) -> AppError {
    let message = match e {
        KeyringError::NoDefaultStore => {
            "No OS keyring is reachable: Paydesk keeps API secrets only in the Secret Service \
             (GNOME Keyring, KWallet). Start one in this desktop session and try again."
                .to_string()
        }
        KeyringError::NoStorageAccess(detail) => {
            format!("The OS keyring is locked or refused access ({detail}). Unlock it and try again.")
        }
        KeyringError::PlatformFailure(detail) => {
            format!(
                "The OS keyring failed ({detail}). Is a Secret Service (GNOME Keyring, KWallet) running and unlocked?"
            )
        }
        other => format!("The OS keyring could not be used: {other}"),
    };
    AppError::KeyringUnavailable { message }
}

fn entry(profile: &str) -> Result<Entry, AppError> {
    Entry::new(SERVICE, &account(profile)).map_err(unavailable)
}

/// Stores a secret as given (after `save_secret`'s check, or the shared ledger's password).
pub fn store_secret(profile: &str, token: &ApiSecret) -> Result<(), AppError> {
    if token.expose().trim().is_empty() {
        return Err(AppError::invalid("token", "must not be empty"));
    }
    entry(profile)?.set_password(token.expose()).map_err(unavailable)
}

/// Saves a profile's secret after checking it is the kind its provider needs (an API token,
/// an RSA private key...); a wrong one is refused and nothing is written.
pub fn save_secret(profile: &crate::Profile, secret: &ApiSecret) -> Result<(), AppError> {
    paydesk_gateways::registry::check_secret(&profile.provider, secret)?;
    store_secret(&profile.name, &ApiSecret::new(secret.expose().trim()))
}

pub fn load_secret(profile: &str) -> Result<ApiSecret, AppError> {
    match entry(profile)?.get_password() {
        Ok(t) => Ok(ApiSecret::new(t)),
        Err(KeyringError::NoEntry) => Err(AppError::SecretMissing {
            profile: profile.into(),
            message: format!("The API secret for profile '{profile}' is not saved. Save it with `paydesk secret set {profile}` or in Settings."),
        }),
        Err(e) => Err(unavailable(e)),
    }
}

/// Whether a secret is saved, without reading it out.
pub fn has_secret(profile: &str) -> Result<bool, AppError> {
    match load_secret(profile) {
        Ok(_) => Ok(true),
        Err(AppError::SecretMissing { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn delete_secret(profile: &str) -> Result<bool, AppError> {
    match entry(profile)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(KeyringError::NoEntry) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

/// Whether a profile's secret is there, as Settings and `profile show` say it; the secret
/// itself is never read out for this.
pub fn status_of(profile: &crate::Profile) -> &'static str {
    if profile.environment == crate::Environment::Demo {
        return "built in";
    }
    match has_secret(&profile.name) {
        Ok(true) => "saved",
        Ok(false) => "not saved",
        Err(_) => "unavailable",
    }
}
