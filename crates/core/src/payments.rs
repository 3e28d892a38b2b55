//! The payment flows: validate, record, send, update. The ledger row is written before
//! any request leaves, and every exchange becomes an event.

use crate::demo::DemoContext;
use crate::profiles::{Environment, Profile, ProfileInput, DEMO_PROFILE};
use crate::{qr, secrets, AppError};
use paydesk_gateways::pockyt::{self, rules, PockytClient, PockytStatus, SecurePayRequest, TranQueryRequest};
use paydesk_gateways::{ApiSecret, Currency, GatewayError, Money, PaymentStatus};
use paydesk_ledger::{EventRow, Ledger, NewPayment, PaymentFilter, PaymentRow, ProfileRow, StatusChange};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// What the counter (or a script) asks for.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatePayment {
    pub profile: String,
    /// As typed: "13.00", "13", "0.5".
    pub amount: String,
    pub currency: String,
    pub vendor: String,
    #[serde(default)]
    pub terminal: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A payment as the UI and the CLI show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PaymentView {
    pub reference: String,
    pub transaction_no: Option<String>,
    pub profile: String,
    pub provider: String,
    pub method: String,
    pub vendor: Option<String>,
    pub vendor_label: Option<String>,
    pub amount_minor: i64,
    /// The exact decimal amount in the currency's digits ("13.00"), never rounded.
    pub amount: String,
    pub currency: String,
    pub status: PaymentStatus,
    pub raw_status: Option<String>,
    pub link: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentDetail {
    pub payment: PaymentView,
    pub events: Vec<EventRow>,
}

impl From<PaymentRow> for PaymentView {
    fn from(r: PaymentRow) -> Self {
        let amount = match Currency::from_code(&r.currency) {
            Ok(c) => Money::new(r.amount_minor, c).to_decimal_string(),
            Err(_) => r.amount_minor.to_string(),
        };
        PaymentView {
            vendor_label: r.vendor.as_deref().map(|v| rules::vendor_label(v).to_string()),
            status: PaymentStatus::parse(&r.status).unwrap_or(PaymentStatus::Unknown),
            reference: r.reference,
            transaction_no: r.transaction_no,
            profile: r.profile,
            provider: r.provider,
            method: r.method,
            vendor: r.vendor,
            amount_minor: r.amount_minor,
            amount,
            currency: r.currency,
            raw_status: r.raw_status,
            link: r.link,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The application core. One per process; cheap to share behind an `Arc`.
pub struct Paydesk {
    home: PathBuf,
    ledger: Mutex<Ledger>,
    demo: OnceLock<DemoContext>,
    last_query: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Paydesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paydesk").field("home", &self.home).finish()
    }
}

/// A fresh merchant reference: `PD` + UTC time + random suffix, unique and readable.
pub fn new_reference() -> String {
    let now = time::OffsetDateTime::now_utc();
    let stamp =
        now.format(time::macros::format_description!("[year][month][day][hour][minute][second]")).unwrap_or_default();
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let suffix: String = (0..6).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!("PD{stamp}-{suffix}")
}

impl Paydesk {
    pub fn open(home: &Path) -> Result<Self, AppError> {
        let ledger = Ledger::open_in(home)?;
        Ok(Self {
            home: home.into(),
            ledger: Mutex::new(ledger),
            demo: OnceLock::new(),
            last_query: Mutex::new(HashMap::new()),
        })
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.ledger().path().to_path_buf()
    }

    pub(crate) fn install_demo(&self, ctx: DemoContext) -> Result<&DemoContext, AppError> {
        self.demo.set(ctx).map_err(|_| AppError::Internal { message: "demo mode is already running".into() })?;
        Ok(self.demo.get().expect("just set"))
    }

    pub fn demo(&self) -> Option<&DemoContext> {
        self.demo.get()
    }

    // ----- profiles -----

    pub fn profile(&self, name: &str) -> Result<Profile, AppError> {
        if name == DEMO_PROFILE {
            let demo = self.demo().ok_or_else(|| AppError::ProfileNotFound {
                profile: name.into(),
                message: "Demo mode is not running in this process".into(),
            })?;
            return Ok(demo.profile());
        }
        self.ledger().profile(name)?.map(Profile::from).ok_or_else(|| AppError::ProfileNotFound {
            profile: name.into(),
            message: format!("No profile named '{name}'. Add it with `paydesk profile add` or in Settings."),
        })
    }

    pub fn profiles(&self) -> Result<Vec<Profile>, AppError> {
        let mut all: Vec<Profile> = self.demo().map(|d| d.profile()).into_iter().collect();
        all.extend(self.ledger().profiles()?.into_iter().map(Profile::from));
        Ok(all)
    }

    pub fn save_profile(&self, input: ProfileInput) -> Result<Profile, AppError> {
        let row: ProfileRow = input.validate()?;
        self.ledger().save_profile(&row)?;
        Ok(row.into())
    }

    pub fn remove_profile(&self, name: &str) -> Result<bool, AppError> {
        Ok(self.ledger().remove_profile(name)?)
    }

    pub(crate) fn token_for(&self, profile: &Profile) -> Result<ApiSecret, AppError> {
        if profile.environment == Environment::Demo {
            return Ok(ApiSecret::new(paydesk_sandbox::DEMO_TOKEN));
        }
        secrets::load_token(&profile.name)
    }

    pub(crate) fn client_for(&self, profile: &Profile) -> Result<PockytClient, AppError> {
        let token = self.token_for(profile)?;
        Ok(PockytClient::new(&profile.base_url, &profile.merchant_no, &profile.store_no, token))
    }

    // ----- payments -----

    /// Validates everything, records the payment, then asks the provider for a link.
    pub async fn create_payment(&self, req: &CreatePayment) -> Result<PaymentView, AppError> {
        let profile = self.profile(&req.profile)?;
        let currency = Currency::from_code(&req.currency)?;
        rules::check_currency(currency)?;
        let amount = Money::parse(&req.amount, currency)?;
        let vendor = req.vendor.trim().to_ascii_lowercase();
        let request = SecurePayRequest {
            amount,
            vendor: vendor.clone(),
            reference: new_reference(),
            terminal: req.terminal.clone().unwrap_or_else(|| "ONLINE".into()).to_ascii_uppercase(),
            ipn_url: profile.ipn_url.clone().unwrap_or_default(),
            callback_url: profile.callback_url.clone().unwrap_or_default(),
            description: req.description.clone().filter(|d| !d.trim().is_empty()),
            note: None,
            timeout_minutes: Some(120),
            customer_no: None,
            os_type: None,
        };
        request.validate().map_err(|e| match e.field {
            "ipn_url" | "callback_url" => AppError::invalid(
                e.field,
                format!("{e}. Set it on profile '{}' (--{}).", profile.name, e.field.replace('_', "-")),
            ),
            _ => e.into(),
        })?;
        let client = self.client_for(&profile)?;
        let row = self.ledger().insert_payment(&NewPayment {
            reference: request.reference.clone(),
            profile: profile.name.clone(),
            provider: profile.provider.clone(),
            method: "link".into(),
            vendor: Some(vendor),
            amount_minor: amount.minor,
            currency: currency.code().into(),
        })?;
        self.send_secure_pay(&client, row.id, &request).await
    }

    async fn send_secure_pay(
        &self,
        client: &PockytClient,
        id: i64,
        request: &SecurePayRequest,
    ) -> Result<PaymentView, AppError> {
        let outcome = client.secure_pay(request).await;
        self.log_exchange(id, &outcome.exchange)?;
        match outcome.result {
            Ok(created) => {
                let ledger = self.ledger();
                ledger.record_provider_ids(id, &created.transaction_no, Some(&created.cashier_url))?;
                ledger.apply_status(
                    id,
                    &StatusChange { status: PaymentStatus::Pending.as_str(), raw_status: None, source: "secure-pay" },
                )?;
                Ok(ledger.payment_by_id(id)?.expect("payment exists").into())
            }
            Err(e) => Err(match self.record_failure(id, e)? {
                AppError::ProviderUnreachable { message, .. } => {
                    let reference = Some(request.reference.clone());
                    AppError::ProviderUnreachable { message, reference }
                }
                other => other,
            }),
        }
    }

    /// A refusal ends the payment (failed); an unanswered request, or a fault on the
    /// provider's side, leaves it `created` so it can be retried with the same reference.
    fn record_failure(&self, id: i64, e: GatewayError) -> Result<AppError, AppError> {
        let ledger = self.ledger();
        ledger.append_event(Some(id), "error", &serde_json::json!({"message": e.to_string()}))?;
        if let GatewayError::Rejected { code, transient: false, .. } = &e {
            ledger.apply_status(
                id,
                &StatusChange { status: PaymentStatus::Failed.as_str(), raw_status: Some(code), source: "secure-pay" },
            )?;
        }
        Ok(e.into())
    }

    fn log_exchange(&self, id: i64, exchange: &pockyt::client::Exchange) -> Result<(), AppError> {
        let ledger = self.ledger();
        ledger.append_event(
            Some(id),
            "request",
            &serde_json::json!({"path": exchange.path, "body": exchange.request}),
        )?;
        if exchange.http_status.is_some() {
            ledger.append_event(
                Some(id),
                "response",
                &serde_json::json!({"path": exchange.path, "http_status": exchange.http_status, "body": exchange.response}),
            )?;
        }
        Ok(())
    }

    /// Sends a payment that never got an answer again, with the same reference.
    pub async fn retry_payment(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        if row.status != PaymentStatus::Created.as_str() {
            return Err(AppError::NotAllowed {
                message: format!("Payment {reference} already reached the provider ({}).", row.status),
            });
        }
        let profile = self.profile(&row.profile)?;
        let currency = Currency::from_code(&row.currency)?;
        let request = SecurePayRequest {
            amount: Money::new(row.amount_minor, currency),
            vendor: row.vendor.clone().unwrap_or_default(),
            reference: row.reference.clone(),
            terminal: "ONLINE".into(),
            ipn_url: profile.ipn_url.clone().unwrap_or_default(),
            callback_url: profile.callback_url.clone().unwrap_or_default(),
            description: None,
            note: None,
            timeout_minutes: Some(120),
            customer_no: None,
            os_type: None,
        };
        request.validate()?;
        let client = self.client_for(&profile)?;
        self.send_secure_pay(&client, row.id, &request).await
    }

    fn payment_row(&self, reference: &str) -> Result<PaymentRow, AppError> {
        self.ledger().payment_by_reference(reference)?.ok_or_else(|| AppError::payment_not_found(reference))
    }

    pub fn payment(&self, reference: &str) -> Result<PaymentView, AppError> {
        Ok(self.payment_row(reference)?.into())
    }

    pub fn payment_detail(&self, reference: &str) -> Result<PaymentDetail, AppError> {
        let row = self.payment_row(reference)?;
        let events = self.ledger().events(row.id)?;
        Ok(PaymentDetail { payment: row.into(), events })
    }

    pub fn payments(&self, filter: &PaymentFilter) -> Result<Vec<PaymentView>, AppError> {
        Ok(self.ledger().payments(filter)?.into_iter().map(PaymentView::from).collect())
    }

    /// Asks the provider (tran-query) and applies what it says.
    pub async fn refresh(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        let profile = self.profile(&row.profile)?;
        let client = self.client_for(&profile)?;
        let query = match &row.transaction_no {
            Some(no) => TranQueryRequest::TransactionNo(no.clone()),
            None => TranQueryRequest::Reference(row.reference.clone()),
        };
        self.last_query.lock().unwrap().insert(reference.to_string(), Instant::now());
        let outcome = client.tran_query(&query).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        let info = outcome.result?;
        let ledger = self.ledger();
        if row.transaction_no.is_none() {
            ledger.record_provider_ids(row.id, &info.transaction_no, None)?;
        }
        let status = PaymentStatus::from(PockytStatus(&info.status));
        ledger.apply_status(
            row.id,
            &StatusChange { status: status.as_str(), raw_status: Some(&info.status), source: "tran-query" },
        )?;
        Ok(ledger.payment_by_id(row.id)?.expect("payment exists").into())
    }

    /// For a waiting screen: the ledger's view, queried from the provider at most every
    /// `interval` (an IPN usually lands first and is read straight from the ledger).
    pub async fn poll(&self, reference: &str, interval: Duration) -> Result<PaymentView, AppError> {
        let view = self.payment(reference)?;
        if view.status.is_final() || view.transaction_no.is_none() {
            return Ok(view);
        }
        let due = self.last_query.lock().unwrap().get(reference).is_none_or(|t| t.elapsed() >= interval);
        if !due {
            return Ok(view);
        }
        match self.refresh(reference).await {
            Ok(v) => Ok(v),
            // A slow or unreachable provider must not break the waiting screen.
            Err(AppError::ProviderUnreachable { .. }) => Ok(view),
            Err(e) => Err(e),
        }
    }

    pub fn qr_png(&self, reference: &str, min_px: u32) -> Result<Vec<u8>, AppError> {
        let view = self.payment(reference)?;
        let link = view
            .link
            .ok_or_else(|| AppError::NotAllowed { message: format!("Payment {reference} has no link yet") })?;
        qr::png(&link, min_px)
    }
}
