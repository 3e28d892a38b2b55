//! The local IPN receiver: `POST /ipn/pockyt`, form-urlencoded. A notification is applied
//! only when its signature holds over every received field and it agrees with the ledger;
//! `success` is answered only after it is safely recorded.

pub use crate::listener::IpnListener;
use crate::profiles::Profile;
use crate::{AppError, Paydesk};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Router};
use paydesk_gateways::pockyt::{notification_report, signing};
use paydesk_ledger::Applied;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The largest notification body read; Pockyt's are well under 2 KB.
pub const MAX_NOTIFICATION_BYTES: usize = 16 * 1024;
/// Fields of a notification kept as evidence, and the characters kept of each.
const MAX_FIELDS_KEPT: usize = 40;
const MAX_FIELD_CHARS: usize = 256;

pub async fn serve(paydesk: Arc<Paydesk>, bind: SocketAddr) -> Result<IpnListener, AppError> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| AppError::Internal { message: format!("cannot listen for notifications on {bind}: {e}") })?;
    let addr = listener.local_addr().map_err(|e| AppError::Internal { message: e.to_string() })?;
    let app = Router::new()
        .route("/ipn/pockyt", post(pockyt_ipn))
        .layer(DefaultBodyLimit::max(MAX_NOTIFICATION_BYTES))
        .with_state(paydesk);
    tracing::info!(%addr, "IPN listener ready");
    Ok(IpnListener::spawn(listener, addr, app))
}

async fn pockyt_ipn(
    State(paydesk): State<Arc<Paydesk>>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> (StatusCode, &'static str) {
    // Verifying and recording touch the keyring and SQLite: off the async workers.
    let verdict = tokio::task::spawn_blocking(move || paydesk.apply_pockyt_ipn(&fields)).await;
    let verdict = verdict.unwrap_or_else(|e| Err(AppError::Internal { message: e.to_string() }));
    match verdict {
        Ok(IpnVerdict::Applied { .. }) => (StatusCode::OK, "success"),
        Ok(IpnVerdict::Rejected { reason }) => {
            tracing::warn!(%reason, "IPN rejected");
            (StatusCode::BAD_REQUEST, "fail")
        }
        Err(e) => {
            tracing::error!(error = %e, "IPN could not be processed");
            (StatusCode::SERVICE_UNAVAILABLE, "retry")
        }
    }
}

/// Starts the listener for every profile that asks for one (`ipn_listen`) and is not
/// running yet. Returns the addresses now listening for profiles.
pub async fn start_for_profiles(paydesk: &Arc<Paydesk>) -> Result<Vec<SocketAddr>, AppError> {
    let wanted: Vec<String> =
        crate::blocking(|| paydesk.ledger().profiles())?.into_iter().filter_map(|p| p.ipn_listen).collect();
    let mut failures = Vec::new();
    for addr in wanted {
        if paydesk.listeners.lock().unwrap().contains_key(&addr) {
            continue;
        }
        let Ok(bind) = addr.parse::<SocketAddr>() else { continue };
        match serve(paydesk.clone(), bind).await {
            Ok(l) => {
                paydesk.listeners.lock().unwrap().insert(addr, l);
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    if !failures.is_empty() {
        return Err(AppError::Internal { message: failures.join("; ") });
    }
    Ok(paydesk.listeners.lock().unwrap().values().map(IpnListener::addr).collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpnVerdict {
    /// Verified and recorded; `changed` is false for a repeat.
    Applied { changed: bool },
    /// Recorded as suspicious, not applied.
    Rejected { reason: String },
}

impl Paydesk {
    pub fn apply_pockyt_ipn(&self, fields: &BTreeMap<String, String>) -> Result<IpnVerdict, AppError> {
        let reference = fields.get("reference").map(String::as_str).unwrap_or("");
        let Some(row) = self.ledger().payment_by_reference(reference)? else {
            return self.reject(None, "unknown reference", fields);
        };
        let profile: Profile = self.profile(&row.profile)?;
        let token = self.token_for(&profile)?;
        if !signing::verify(fields, &token) {
            return self.reject(Some(row.id), "signature does not verify", fields);
        }
        let report = notification_report(fields);
        if let Some(reason) = crate::payments::mismatch(&row, &report) {
            return self.reject(Some(row.id), &format!("does not match the ledger: {reason}"), fields);
        }
        self.ledger().append_event(Some(row.id), "ipn", &json!({"provider": "pockyt", "fields": kept(fields)}))?;
        match self.apply_report(&row, &report, "ipn")? {
            // Recorded as suspicious by the state machine; answered so it is not resent.
            Applied::Refused { .. } => Ok(IpnVerdict::Applied { changed: false }),
            applied => Ok(IpnVerdict::Applied { changed: applied.changed() }),
        }
    }

    /// Refused notifications are counted; a sample of them (the first ten of each kind,
    /// then every power of two) is kept as evidence, bounded, so a flood cannot fill the ledger.
    fn reject(
        &self,
        payment_id: Option<i64>,
        reason: &str,
        fields: &BTreeMap<String, String>,
    ) -> Result<IpnVerdict, AppError> {
        let ledger = self.ledger();
        let kind = reason.split(':').next().unwrap_or(reason);
        let seen = ledger.count_rejected_notification("pockyt", kind)?;
        if seen <= 10 || (seen as u64).is_power_of_two() {
            ledger.append_event(
                payment_id,
                "ipn_rejected",
                &json!({"provider": "pockyt", "reason": reason, "seen": seen, "fields": kept(fields)}),
            )?;
        }
        Ok(IpnVerdict::Rejected { reason: reason.into() })
    }
}

/// What a notification's evidence keeps: every field but the signature, bounded.
fn kept(fields: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter(|(k, _)| k.as_str() != signing::SIGN_FIELD)
        .take(MAX_FIELDS_KEPT)
        .map(|(k, v)| {
            let bound = |s: &str| s.chars().take(MAX_FIELD_CHARS).collect::<String>();
            (bound(k), bound(v))
        })
        .collect()
}
