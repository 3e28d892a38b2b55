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
    /// "link" (secure-pay) or "qr" (create-trans-qrcode).
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub cancelled: bool,
    #[serde(default)]
    pub refunds: Vec<SandboxRefund>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxRefund {
    pub refund_reference: String,
    pub refund_transaction_no: String,
    /// Minor units of the payment's currency.
    pub amount_minor: i64,
}

/// Everything the emulator keeps, and persists when asked.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Store {
    #[serde(default)]
    pub payments: HashMap<String, SandboxPayment>,
    /// customerNo -> (merchantNo, fields as Pockyt returns them)
    #[serde(default)]
    pub customers: HashMap<String, (String, serde_json::Map<String, serde_json::Value>)>,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub base_url: String,
    store: Mutex<Store>,
    pub http: reqwest::Client,
}

impl Shared {
    pub fn new(config: SandboxConfig, base_url: String) -> Self {
        let store: Store = config
            .state_file
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("static reqwest settings");
        Self { config, base_url, store: Mutex::new(store), http }
    }

    pub fn merchant(&self, merchant_no: &str, store_no: &str) -> Option<&Merchant> {
        self.config.merchants.iter().find(|m| m.merchant_no == merchant_no && m.store_no == store_no)
    }

    fn persist(&self, store: &Store) {
        if let Some(path) = &self.config.state_file {
            let tmp = path.with_extension("tmp");
            if let Ok(bytes) = serde_json::to_vec(store) {
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
        self.update(id, |p| p.clone())
    }

    /// Runs `f` on a payment (by transactionNo or reference); writes the state file only
    /// when the payment changed, so reads (queries, page views) stay reads.
    pub fn update<R>(&self, id: &str, f: impl FnOnce(&mut SandboxPayment) -> R) -> Option<R> {
        let mut store = self.store.lock().unwrap();
        let key = Self::key_of(&store.payments, id)?;
        let p = store.payments.get_mut(&key)?;
        let before = p.clone();
        Self::expire(p);
        let r = f(p);
        if *p != before {
            self.persist(&store);
        }
        Some(r)
    }

    /// Reads the customers.
    pub fn read_customers<R>(
        &self,
        f: impl FnOnce(&HashMap<String, (String, serde_json::Map<String, serde_json::Value>)>) -> R,
    ) -> R {
        f(&self.store.lock().unwrap().customers)
    }

    /// Runs `f` on the customers and persists the result.
    pub fn customers<R>(
        &self,
        f: impl FnOnce(&mut HashMap<String, (String, serde_json::Map<String, serde_json::Value>)>) -> R,
    ) -> R {
        let mut store = self.store.lock().unwrap();
        let r = f(&mut store.customers);
        self.persist(&store);
        r
    }

    fn key_of(payments: &HashMap<String, SandboxPayment>, id: &str) -> Option<String> {
        if payments.contains_key(id) {
            return Some(id.to_string());
        }
        payments.values().find(|p| p.reference == id).map(|p| p.transaction_no.clone())
    }

    pub fn find_by_reference(&self, merchant_no: &str, reference: &str) -> Option<SandboxPayment> {
        let store = self.store.lock().unwrap();
        store.payments.values().find(|p| p.merchant_no == merchant_no && p.reference == reference).cloned()
    }

    pub fn insert(&self, p: SandboxPayment) {
        let mut store = self.store.lock().unwrap();
        store.payments.insert(p.transaction_no.clone(), p);
        self.persist(&store);
    }

    pub fn mark_ipn_delivered(&self, transaction_no: &str) {
        self.update(transaction_no, |p| p.ipn_delivered = true);
    }

    /// Pay or decline a waiting payment and send its IPN. A payment already settled is
    /// returned unchanged (settling twice sends nothing new).
    pub fn settle(self: &std::sync::Arc<Self>, id: &str, pay: bool) -> Option<SandboxPayment> {
        let (settled, changed) = self.update(id, |p| {
            if p.status != "init" {
                return (p.clone(), false);
            }
            p.status = if pay { "success" } else { "failed" }.into();
            (p.clone(), true)
        })?;
        if !changed {
            return Some(settled);
        }
        if let Some(m) = self.merchant(&settled.merchant_no, &settled.store_no) {
            ipn::spawn_delivery(self.clone(), m.token.clone(), settled.clone());
        }
        Some(settled)
    }
}
