//! IPN delivery: a signed form-urlencoded POST to the payment's ipnUrl, retried until
//! the receiver answers the plain body `success`.

use super::spec;
use crate::state::{SandboxPayment, Shared};
use paydesk_gateways::ApiSecret;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `YYYYMMDDHHMMSS` in UTC+8, as Pockyt stamps its notifications.
fn pockyt_time() -> String {
    let utc8 = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    jiff::Timestamp::now().to_zoned(utc8).strftime("%Y%m%d%H%M%S").to_string()
}

pub fn notification(p: &SandboxPayment, token: &ApiSecret) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = [
        ("transactionNo", p.transaction_no.clone()),
        ("reference", p.reference.clone()),
        ("status", p.status.clone()),
        ("amount", p.amount.clone()),
        ("currency", p.currency.clone()),
        ("settleCurrency", p.settle_currency.clone()),
        ("time", pockyt_time()),
        ("vendorId", format!("sandbox-{}", &p.transaction_no[p.transaction_no.len().saturating_sub(8)..])),
        ("note", p.description.clone()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let sign = spec::sign(&params, token.expose());
    params.insert(spec::SIGN_FIELD.into(), sign);
    params
}

pub fn spawn_delivery(shared: Arc<Shared>, token: ApiSecret, payment: SandboxPayment) {
    if !crate::state::may_notify(&payment.ipn_url) {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    handle.spawn(async move {
        let params = notification(&payment, &token);
        let mut delays = shared.config.ipn_retry_delays.clone().into_iter();
        loop {
            let answer = shared.http.post(&payment.ipn_url).form(&params).send().await;
            let acknowledged = match answer {
                Ok(r) => r.text().await.map(|t| t.trim() == "success").unwrap_or(false),
                Err(_) => false,
            };
            if acknowledged {
                shared.mark_ipn_delivered(&payment.transaction_no);
                tracing::info!(transaction = %payment.transaction_no, "IPN acknowledged");
                return;
            }
            match delays.next() {
                Some(d) => tokio::time::sleep(d).await,
                None => {
                    tracing::warn!(transaction = %payment.transaction_no, "IPN never acknowledged; giving up");
                    return;
                }
            }
        }
    });
}

/// Pays or declines a waiting payment and sends its IPN. A payment already settled is
/// returned unchanged (settling twice sends nothing new).
pub fn settle(shared: &Arc<Shared>, id: &str, pay: bool) -> Option<SandboxPayment> {
    let (settled, changed) = shared.update(id, |p| {
        if p.status != "init" {
            return (p.clone(), false);
        }
        p.status = if pay { "success" } else { "failed" }.into();
        (p.clone(), true)
    })?;
    if !changed {
        return Some(settled);
    }
    if let Some(m) = shared.merchant(&settled.merchant_no, &settled.store_no) {
        spawn_delivery(shared.clone(), m.token.clone(), settled.clone());
    }
    Some(settled)
}
