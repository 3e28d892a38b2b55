//! The local IPN receiver: `POST /ipn/pockyt`, form-urlencoded. A notification is applied
//! only when its signature holds over every received field and it agrees with the ledger;
//! `success` is answered only after it is safely recorded.

use crate::profiles::Profile;
use crate::{AppError, Paydesk};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Router};
use paydesk_gateways::pockyt::{signing, PockytStatus};
use paydesk_gateways::{Currency, Money, PaymentStatus};
use paydesk_ledger::StatusChange;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

pub struct IpnListener {
    addr: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

impl IpnListener {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pockyt_url(&self) -> String {
        format!("http://{}/ipn/pockyt", self.addr)
    }
}

pub async fn serve(paydesk: Arc<Paydesk>, bind: SocketAddr) -> Result<IpnListener, AppError> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| AppError::Internal { message: format!("cannot listen for notifications on {bind}: {e}") })?;
    let addr = listener.local_addr().map_err(|e| AppError::Internal { message: e.to_string() })?;
    let app = Router::new().route("/ipn/pockyt", post(pockyt_ipn)).with_state(paydesk);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    tracing::info!(%addr, "IPN listener ready");
    Ok(IpnListener { addr, _shutdown: tx })
}

async fn pockyt_ipn(
    State(paydesk): State<Arc<Paydesk>>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> (StatusCode, &'static str) {
    match paydesk.apply_pockyt_ipn(&fields) {
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
    let wanted: Vec<String> = paydesk.ledger().profiles()?.into_iter().filter_map(|p| p.ipn_listen).collect();
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
        // What we store: everything but the signature.
        let received: BTreeMap<_, _> = fields.iter().filter(|(k, _)| k.as_str() != signing::SIGN_FIELD).collect();
        let reference = fields.get("reference").map(String::as_str).unwrap_or("");
        let Some(row) = self.ledger().payment_by_reference(reference)? else {
            return self.reject(None, "unknown reference", &received);
        };
        let profile: Profile = self.profile(&row.profile)?;
        let token = self.token_for(&profile)?;
        if !signing::verify(fields, &token) {
            return self.reject(Some(row.id), "signature does not verify", &received);
        }
        if let (Some(ours), Some(theirs)) = (&row.transaction_no, fields.get("transactionNo")) {
            if ours != theirs {
                return self.reject(Some(row.id), "transactionNo differs from the ledger", &received);
            }
        }
        let amount_agrees = Currency::from_code(fields.get("currency").map(String::as_str).unwrap_or(""))
            .ok()
            .filter(|c| c.code() == row.currency)
            .and_then(|c| Money::parse(fields.get("amount").map(String::as_str).unwrap_or(""), c).ok())
            .is_some_and(|m| m.minor == row.amount_minor);
        if !amount_agrees {
            return self.reject(Some(row.id), "amount or currency differs from the ledger", &received);
        }
        let raw = fields.get("status").map(String::as_str).unwrap_or("");
        let ledger = self.ledger();
        let status = crate::payments::reconcile(&ledger, &row, PaymentStatus::from(PockytStatus(raw)))?;
        ledger.append_event(Some(row.id), "ipn", &json!({"provider": "pockyt", "fields": received}))?;
        let changed = ledger
            .apply_status(row.id, &StatusChange { status: status.as_str(), raw_status: Some(raw), source: "ipn" })?;
        Ok(IpnVerdict::Applied { changed })
    }

    fn reject(
        &self,
        payment_id: Option<i64>,
        reason: &str,
        received: &BTreeMap<&String, &String>,
    ) -> Result<IpnVerdict, AppError> {
        self.ledger().append_event(
            payment_id,
            "ipn_rejected",
            &json!({"provider": "pockyt", "reason": reason, "fields": received}),
        )?;
        Ok(IpnVerdict::Rejected { reason: reason.into() })
    }
}
