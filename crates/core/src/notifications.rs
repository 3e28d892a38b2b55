//! The local notification receiver. `POST /notify/{provider}/{profile}` takes the raw body
//! and headers to that profile's gateway, which verifies the signature over exactly what
//! arrived; `POST /ipn/{provider}` (the older address, without a profile) finds the profile
//! from the payment the notification names. A notification is applied only when it
//! verifies and agrees with the ledger, and acknowledged only after it is recorded.

pub use crate::listener::NotificationListener;
use crate::{AppError, Paydesk};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use paydesk_gateways::gateway::{Acknowledgement, IncomingNotification};
use paydesk_gateways::registry;
use paydesk_ledger::Applied;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The largest notification body read; providers' are a few KB at most.
pub const MAX_NOTIFICATION_BYTES: usize = 16 * 1024;

pub async fn serve(paydesk: Arc<Paydesk>, bind: SocketAddr) -> Result<NotificationListener, AppError> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| AppError::Internal { message: format!("cannot listen for notifications on {bind}: {e}") })?;
    let addr = listener.local_addr().map_err(|e| AppError::Internal { message: e.to_string() })?;
    let app = Router::new()
        .route("/notify/{provider}/{profile}", post(notify_profile))
        .route("/ipn/{provider}", post(notify_provider))
        .layer(DefaultBodyLimit::max(MAX_NOTIFICATION_BYTES))
        .with_state(paydesk);
    tracing::info!(%addr, "notification listener ready");
    Ok(NotificationListener::spawn(listener, addr, app, paydesk_doors::Limits::NOTIFICATIONS))
}

async fn notify_profile(
    State(paydesk): State<Arc<Paydesk>>,
    Path((provider, profile)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(paydesk, provider, Some(profile), headers, body).await
}

async fn notify_provider(
    State(paydesk): State<Arc<Paydesk>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(paydesk, provider, None, headers, body).await
}

async fn receive(
    paydesk: Arc<Paydesk>,
    provider: String,
    profile: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let headers: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string())))
        .collect();
    // Verifying and recording touch the keyring and SQLite: off the async workers.
    let (core, provider_name) = (paydesk.clone(), provider.clone());
    let verdict = tokio::task::spawn_blocking(move || {
        let verdict = core.apply_notification(&provider_name, profile.as_deref(), &headers, &body);
        let ack = core.acknowledgement(&provider_name, &verdict);
        (verdict, ack)
    })
    .await;
    let (mut verdict, mut ack) = match verdict {
        Ok(v) => v,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    if let Ok(NotificationVerdict::Requery { reference }) = &verdict {
        // Taken only once the provider's own answer is in the ledger; otherwise it resends.
        verdict = match paydesk.refresh(reference).await {
            Ok(_) => Ok(NotificationVerdict::Applied { changed: true }),
            Err(e) => Err(e),
        };
        ack = paydesk.acknowledgement(&provider, &verdict);
    }
    match &verdict {
        Ok(NotificationVerdict::Rejected { reason }) => tracing::warn!(%reason, "notification rejected"),
        Err(e) => tracing::error!(error = %e, "notification could not be processed"),
        Ok(NotificationVerdict::Applied { .. } | NotificationVerdict::Requery { .. }) => {}
    }
    match ack {
        Some(ack) => {
            let status = StatusCode::from_u16(ack.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, [(header::CONTENT_TYPE, ack.content_type)], ack.body).into_response()
        }
        // Not ours to answer as the provider expects (unknown provider or profile), or the
        // ledger failed: the provider will try again.
        None if verdict.is_err() => (StatusCode::SERVICE_UNAVAILABLE, "retry").into_response(),
        None => (StatusCode::NOT_FOUND, "unknown provider or profile").into_response(),
    }
}

/// Starts the listener for every profile that asks for one (`ipn_listen`) and is not
/// running yet, and stops those no profile asks for any more (a field cleared, a profile
/// removed). Returns the addresses now listening for profiles.
pub async fn start_for_profiles(paydesk: &Arc<Paydesk>) -> Result<Vec<SocketAddr>, AppError> {
    let wanted: Vec<String> =
        crate::blocking(|| paydesk.ledger().profiles())?.into_iter().filter_map(|p| p.ipn_listen).collect();
    // A listener no profile asks for any more closes at once (its address stops answering).
    paydesk.listeners.lock().unwrap().retain(|addr, _| wanted.contains(addr));
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
    Ok(paydesk.listeners.lock().unwrap().values().map(NotificationListener::addr).collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationVerdict {
    /// Verified and recorded; `changed` is false for a repeat.
    Applied { changed: bool },
    /// Recorded as suspicious, not applied.
    Rejected { reason: String },
    /// Verified and recorded; the payment is to be asked of the provider before its
    /// state changes.
    Requery { reference: String },
}

impl Paydesk {
    /// Verifies a notification with its profile's gateway and applies what it says, when it
    /// matches the ledger. `profile` None: the older address without one (found from the
    /// payment the notification names).
    pub fn apply_notification(
        &self,
        provider: &str,
        profile: Option<&str>,
        headers: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<NotificationVerdict, AppError> {
        let incoming = IncomingNotification { headers, body };
        let no_fields = BTreeMap::new();
        let profile = match profile {
            Some(name) => match self.profile(name) {
                Ok(p) if p.provider == provider => p,
                Ok(_) => return self.reject(provider, None, "profile belongs to another provider", &no_fields),
                Err(AppError::ProfileNotFound { .. }) => {
                    return self.reject(provider, None, "unknown profile", &no_fields);
                }
                Err(e) => return Err(e),
            },
            None => {
                let reference = registry::notification_reference(provider, incoming).unwrap_or_default();
                let row = crate::blocking(|| self.ledger().payment_by_reference(&reference))?;
                match row {
                    Some(row) if row.provider == provider => self.profile(&row.profile)?,
                    _ => return self.reject(provider, None, "unknown reference", &no_fields),
                }
            }
        };
        let gateway = self.gateway_for(&profile)?;
        let verified = match gateway.verify_notification(incoming) {
            Ok(v) => v,
            Err(refusal) => {
                // Kept beside the payment it claims to be about (as evidence, never applied).
                let named = registry::notification_reference(provider, incoming).unwrap_or_default();
                let row = crate::blocking(|| self.ledger().payment_by_reference(&named))?;
                let id = row.filter(|r| r.profile == profile.name).map(|r| r.id);
                return self.reject(provider, id, refusal.reason, &refusal.fields);
            }
        };
        let report = &verified.report;
        if let Some(nonce) = &verified.nonce {
            if !crate::blocking(|| self.ledger().first_use_of_nonce(provider, nonce))? {
                if verified.repeat_is_resend {
                    // Taken already: acknowledged so the provider stops, applied never again.
                    return Ok(NotificationVerdict::Applied { changed: false });
                }
                return self.reject(provider, None, "replayed nonce", &verified.fields);
            }
        }
        let row = crate::blocking(|| self.ledger().payment_by_reference(&report.reference))?;
        let Some(row) = row.filter(|r| r.profile == profile.name) else {
            return self.reject(provider, None, "unknown reference", &verified.fields);
        };
        if let Some(reason) = crate::payments::mismatch(&row, report) {
            return self.reject(
                provider,
                Some(row.id),
                &format!("does not match the ledger: {reason}"),
                &verified.fields,
            );
        }
        crate::blocking(|| {
            self.ledger().append_event(Some(row.id), "ipn", &json!({"provider": provider, "fields": verified.fields}))
        })?;
        if verified.requery {
            // A trigger, not the evidence: the provider is asked before anything changes.
            return Ok(NotificationVerdict::Requery { reference: row.reference });
        }
        match self.apply_report(&row, report, "ipn")? {
            // Recorded as suspicious by the state machine; acknowledged so it is not resent.
            Applied::Refused { .. } => Ok(NotificationVerdict::Applied { changed: false }),
            applied => Ok(NotificationVerdict::Applied { changed: applied.changed() }),
        }
    }

    /// The answer the provider expects for this verdict (None: an unknown provider, or the
    /// ledger failed and the provider should try again).
    fn acknowledgement(
        &self,
        provider: &str,
        verdict: &Result<NotificationVerdict, AppError>,
    ) -> Option<Acknowledgement> {
        let taken = match verdict {
            Ok(NotificationVerdict::Applied { .. } | NotificationVerdict::Requery { .. }) => true,
            Ok(NotificationVerdict::Rejected { .. }) => false,
            Err(_) => return None,
        };
        registry::capabilities_of(provider).map(|c| (c.acknowledge)(taken))
    }

    /// Refused notifications are counted; a sample of them (the first ten of each kind,
    /// then every power of two) is kept as evidence, bounded, so a flood cannot fill the ledger.
    fn reject(
        &self,
        provider: &str,
        payment_id: Option<i64>,
        reason: &str,
        fields: &BTreeMap<String, String>,
    ) -> Result<NotificationVerdict, AppError> {
        // Counted under names of our own: the provider only if it is one we speak (the path
        // a stranger posts to is never a key), the reason's kind from our own words.
        let provider = registry::capabilities_of(provider).map(|c| c.provider).unwrap_or("unknown");
        crate::blocking(|| {
            let ledger = self.ledger();
            let kind = reason.split(':').next().unwrap_or(reason);
            let seen = ledger.count_rejected_notification(provider, kind)?;
            if seen <= 10 || (seen as u64).is_power_of_two() {
                ledger.append_event(
                    payment_id,
                    "ipn_rejected",
                    &json!({"provider": provider, "reason": reason, "seen": seen, "fields": fields}),
                )?;
            }
            Ok(NotificationVerdict::Rejected { reason: reason.into() })
        })
    }
}
