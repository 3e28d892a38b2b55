use crate::{ipn, SandboxConfig};
use paydesk_gateways::ApiSecret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct Merchant {
    pub merchant_no: String,
    pub store_no: String,
    pub token: ApiSecret,
}

/// A payment as the emulated provider holds it; amounts stay in Pockyt's wire form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxPayment {
    pub transaction_no: String,
    pub reference: String,
    pub merchant_no: String,
    pub store_no: String,
    pub amount: String,
    pub currency: String,
    pub settle_currency: String,
    pub vendor: String,
    pub ipn_url: String,
    pub callback_url: String,
    pub description: String,
    /// Pockyt status: init, success, failed, closed.
    pub status: String,
    pub created_ms: u64,
    pub timeout_minutes: u64,
    pub ipn_delivered: bool,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub base_url: String,
    payments: Mutex<HashMap<String, SandboxPayment>>,
    pub http: reqwest::Client,
}

impl Shared {
    pub fn new(config: SandboxConfig, base_url: String) -> Self {
        let payments = config
            .state_file
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("static reqwest settings");
        Self { config, base_url, payments: Mutex::new(payments), http }
    }

    pub fn merchant(&self, merchant_no: &str, store_no: &str) -> Option<&Merchant> {
        self.config.merchants.iter().find(|m| m.merchant_no == merchant_no && m.store_no == store_no)
    }

    fn persist(&self, payments: &HashMap<String, SandboxPayment>) {
        if let Some(path) = &self.config.state_file {
            let tmp = path.with_extension("tmp");
            if let Ok(bytes) = serde_json::to_vec(payments) {
                if std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, path);
                }
            }
        }
    }

    /// Closes a payment whose timeout has passed, as Pockyt does.
    fn expire(p: &mut SandboxPayment) {
        if p.status == "init" && now_ms() > p.created_ms + p.timeout_minutes * 60_000 {
            p.status = "closed".into();
        }
    }

    pub fn find(&self, id: &str) -> Option<SandboxPayment> {
        let mut payments = self.payments.lock().unwrap();
        let key = Self::key_of(&payments, id)?;
        let p = payments.get_mut(&key)?;
        Self::expire(p);
        Some(p.clone())
    }

    fn key_of(payments: &HashMap<String, SandboxPayment>, id: &str) -> Option<String> {
        if payments.contains_key(id) {
            return Some(id.to_string());
        }
        payments.values().find(|p| p.reference == id).map(|p| p.transaction_no.clone())
    }

    pub fn find_by_reference(&self, merchant_no: &str, reference: &str) -> Option<SandboxPayment> {
        let payments = self.payments.lock().unwrap();
        payments.values().find(|p| p.merchant_no == merchant_no && p.reference == reference).cloned()
    }

    pub fn insert(&self, p: SandboxPayment) {
        let mut payments = self.payments.lock().unwrap();
        payments.insert(p.transaction_no.clone(), p);
        self.persist(&payments);
    }

    pub fn mark_ipn_delivered(&self, transaction_no: &str) {
        let mut payments = self.payments.lock().unwrap();
        if let Some(p) = payments.get_mut(transaction_no) {
            p.ipn_delivered = true;
        }
        self.persist(&payments);
    }

    /// Pay or decline a waiting payment and send its IPN. A payment already settled is
    /// returned unchanged (settling twice sends nothing new).
    pub fn settle(self: &std::sync::Arc<Self>, id: &str, pay: bool) -> Option<SandboxPayment> {
        let settled = {
            let mut payments = self.payments.lock().unwrap();
            let key = Self::key_of(&payments, id)?;
            let p = payments.get_mut(&key)?;
            Self::expire(p);
            if p.status != "init" {
                return Some(p.clone());
            }
            p.status = if pay { "success" } else { "failed" }.into();
            let p = p.clone();
            self.persist(&payments);
            p
        };
        if let Some(m) = self.merchant(&settled.merchant_no, &settled.store_no) {
            ipn::spawn_delivery(self.clone(), m.token.clone(), settled.clone());
        }
        Some(settled)
    }
}
