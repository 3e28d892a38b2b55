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
    /// "qr" (counter QR, the customer scans it) or "link" (hosted SecurePay page). Default: qr.
    #[serde(default)]
    pub method: Option<String>,
    /// A registered customer to attach (payment links only).
    #[serde(default)]
    pub customer_no: Option<String>,
}

/// How the customer reaches the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    CounterQr,
    Link,
}

impl Method {
    pub fn parse(s: Option<&str>) -> Result<Self, AppError> {
        match s.map(str::trim).unwrap_or("qr") {
            "qr" | "" => Ok(Self::CounterQr),
            "link" => Ok(Self::Link),
            other => Err(AppError::invalid("method", format!("method: must be qr or link (got '{other}')"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CounterQr => "qr",
            Self::Link => "link",
        }
    }
}

/// What a refund left behind.
#[derive(Debug, Clone, Serialize)]
pub struct RefundOutcome {
    pub payment: PaymentView,
    pub refund: paydesk_ledger::RefundRow,
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
    pub customer_no: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentDetail {
    pub payment: PaymentView,
    pub events: Vec<EventRow>,
    pub refunds: Vec<paydesk_ledger::RefundRow>,
    /// What can still be refunded, exactly ("9.00").
    pub refundable: String,
    /// The actions the status allows: refresh, refund, cancel, retry.
    pub actions: Vec<&'static str>,
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
            customer_no: r.customer_no,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A status a provider reports, squared with what only the ledger knows: refunds made
/// (Pockyt keeps saying `success`) and a cancellation (Pockyt then says `closed`).
pub(crate) fn reconcile(ledger: &Ledger, row: &PaymentRow, reported: PaymentStatus) -> Result<PaymentStatus, AppError> {
    let current = PaymentStatus::parse(&row.status).unwrap_or(PaymentStatus::Unknown);
    Ok(match reported {
        PaymentStatus::Paid => {
            let refunded = ledger.refunded_minor(row.id)?;
            if refunded >= row.amount_minor {
                PaymentStatus::Refunded
            } else if refunded > 0 {
                PaymentStatus::PartiallyRefunded
            } else {
                PaymentStatus::Paid
            }
        }
        PaymentStatus::Expired if current == PaymentStatus::Cancelled => PaymentStatus::Cancelled,
        other => other,
    })
}

/// What a new (or retried) payment asks the provider for.
struct Sale<'a> {
    method: Method,
    amount: Money,
    vendor: &'a str,
    reference: &'a str,
    terminal: Option<&'a str>,
    description: Option<&'a str>,
    customer_no: Option<String>,
}

/// A create request ready to send, either kind.
enum Outgoing {
    Link(SecurePayRequest),
    CounterQr(paydesk_gateways::pockyt::CounterQrRequest),
}

impl Outgoing {
    fn new(profile: &Profile, sale: Sale<'_>) -> Self {
        let Sale { method, amount, vendor, reference, terminal, description, customer_no } = sale;
        let description = description.map(str::trim).filter(|d| !d.is_empty()).map(String::from);
        let ipn_url = profile.ipn_url.clone().unwrap_or_default();
        match method {
            Method::Link => Outgoing::Link(SecurePayRequest {
                amount,
                vendor: vendor.into(),
                reference: reference.into(),
                terminal: terminal.unwrap_or("ONLINE").to_ascii_uppercase(),
                ipn_url,
                callback_url: profile.callback_url.clone().unwrap_or_default(),
                description,
                note: None,
                timeout_minutes: Some(120),
                customer_no,
                os_type: None,
            }),
            Method::CounterQr => Outgoing::CounterQr(paydesk_gateways::pockyt::CounterQrRequest {
                amount,
                vendor: vendor.into(),
                reference: reference.into(),
                ipn_url,
                // We draw the QR from deepLink ourselves.
                need_qrcode: false,
                timeout_minutes: Some(30),
                description,
            }),
        }
    }

    fn reference(&self) -> &str {
        match self {
            Outgoing::Link(r) => &r.reference,
            Outgoing::CounterQr(r) => &r.reference,
        }
    }

    /// Every rule, before anything leaves; a missing profile URL says where to set it.
    fn validate(&self, profile: &Profile) -> Result<(), AppError> {
        let checked = match self {
            Outgoing::Link(r) => r.validate(),
            Outgoing::CounterQr(r) => r.validate(),
        };
        checked.map_err(|e| match e.field {
            "ipn_url" | "callback_url" => AppError::invalid(
                e.field,
                format!("{e}. Set it on profile '{}' (--{}).", profile.name, e.field.replace('_', "-")),
            ),
            _ => e.into(),
        })
    }
}

fn exchange_source(exchange: &pockyt::client::Exchange) -> &'static str {
    if exchange.path == pockyt::COUNTER_QR_PATH {
        "create-trans-qrcode"
    } else {
        "secure-pay"
    }
}

/// The application core. One per process; cheap to share behind an `Arc`.
pub struct Paydesk {
    home: PathBuf,
    ledger: Mutex<Ledger>,
    demo: OnceLock<DemoContext>,
    last_query: Mutex<HashMap<String, Instant>>,
    /// IPN listeners started for profiles, by the address they asked for.
    pub(crate) listeners: Mutex<HashMap<String, crate::ipn::IpnListener>>,
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
            listeners: Mutex::new(HashMap::new()),
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

    /// Checks the profile's URL and token with a harmless query: Pockyt answering
    /// "no related information" means it accepted our signature.
    pub async fn test_connection(&self, name: &str) -> Result<String, AppError> {
        let profile = self.profile(name)?;
        let client = self.client_for(&profile)?;
        let probe = TranQueryRequest::Reference("PAYDESK-CONNECTION-TEST".into());
        match client.tran_query(&probe).await.result {
            Ok(_) => Ok(format!("Connected to {} as merchant {}", profile.base_url, profile.merchant_no)),
            Err(GatewayError::Rejected { code, .. }) if code == "000021" => {
                Ok(format!("Connected to {} as merchant {}: signature accepted", profile.base_url, profile.merchant_no))
            }
            Err(GatewayError::Rejected { code, message, .. }) => Err(AppError::ProviderRejected {
                message: format!(
                    "{} refused profile '{name}' ({code}: {message}). Check merchantNo, storeNo and the API token.",
                    profile.base_url
                ),
                code,
            }),
            Err(e) => Err(e.into()),
        }
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

    /// Validates everything, records the payment, then asks the provider for a QR or link.
    pub async fn create_payment(&self, req: &CreatePayment) -> Result<PaymentView, AppError> {
        let profile = self.profile(&req.profile)?;
        let method = Method::parse(req.method.as_deref())?;
        let currency = Currency::from_code(&req.currency)?;
        rules::check_currency(currency)?;
        let amount = Money::parse(&req.amount, currency)?;
        let vendor = req.vendor.trim().to_ascii_lowercase();
        let customer_no = req.customer_no.clone().map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if customer_no.is_some() && method == Method::CounterQr {
            return Err(AppError::invalid(
                "customer_no",
                "customer_no: attach customers to payment links (--method link)",
            ));
        }
        let reference = new_reference();
        let sale = Sale {
            method,
            amount,
            vendor: &vendor,
            reference: &reference,
            terminal: req.terminal.as_deref(),
            description: req.description.as_deref(),
            customer_no: customer_no.clone(),
        };
        let outgoing = Outgoing::new(&profile, sale);
        outgoing.validate(&profile)?;
        let client = self.client_for(&profile)?;
        let row = self.ledger().insert_payment(&NewPayment {
            reference,
            profile: profile.name.clone(),
            provider: profile.provider.clone(),
            method: method.as_str().into(),
            vendor: Some(vendor),
            amount_minor: amount.minor,
            currency: currency.code().into(),
            customer_no,
        })?;
        self.send_create(&client, row.id, &outgoing).await
    }

    async fn send_create(&self, client: &PockytClient, id: i64, outgoing: &Outgoing) -> Result<PaymentView, AppError> {
        let (exchange, result) = match outgoing {
            Outgoing::Link(r) => {
                let o = client.secure_pay(r).await;
                (o.exchange, o.result.map(|c| (c.transaction_no, c.cashier_url)))
            }
            Outgoing::CounterQr(r) => {
                let o = client.counter_qr(r).await;
                (o.exchange, o.result.map(|c| (c.transaction_no, c.deep_link)))
            }
        };
        self.log_exchange(id, &exchange)?;
        let reference = outgoing.reference().to_string();
        match result {
            Ok((transaction_no, link)) => {
                let ledger = self.ledger();
                ledger.record_provider_ids(id, &transaction_no, Some(&link))?;
                let change = StatusChange {
                    status: PaymentStatus::Pending.as_str(),
                    raw_status: None,
                    source: exchange_source(&exchange),
                };
                ledger.apply_status(id, &change)?;
                Ok(ledger.payment_by_id(id)?.expect("payment exists").into())
            }
            Err(e) => Err(match self.record_failure(id, e)? {
                AppError::ProviderUnreachable { message, .. } => {
                    AppError::ProviderUnreachable { message, reference: Some(reference) }
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

    /// Every request and response becomes an event (the payment's, or unattached for
    /// customer calls). Bodies hold the signature, never the token.
    pub(crate) fn log_exchange(
        &self,
        id: impl Into<Option<i64>>,
        exchange: &pockyt::client::Exchange,
    ) -> Result<(), AppError> {
        let id = id.into();
        let ledger = self.ledger();
        ledger.append_event(id, "request", &serde_json::json!({"path": exchange.path, "body": exchange.request}))?;
        if exchange.http_status.is_some() {
            ledger.append_event(
                id,
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
        let method = Method::parse(Some(&row.method))?;
        let amount = Money::new(row.amount_minor, Currency::from_code(&row.currency)?);
        let sale = Sale {
            method,
            amount,
            vendor: row.vendor.as_deref().unwrap_or_default(),
            reference: &row.reference,
            terminal: None,
            description: None,
            customer_no: row.customer_no.clone(),
        };
        let outgoing = Outgoing::new(&profile, sale);
        outgoing.validate(&profile)?;
        let client = self.client_for(&profile)?;
        self.send_create(&client, row.id, &outgoing).await
    }

    fn payment_row(&self, reference: &str) -> Result<PaymentRow, AppError> {
        self.ledger().payment_by_reference(reference)?.ok_or_else(|| AppError::payment_not_found(reference))
    }

    pub fn payment(&self, reference: &str) -> Result<PaymentView, AppError> {
        Ok(self.payment_row(reference)?.into())
    }

    pub fn payment_detail(&self, reference: &str) -> Result<PaymentDetail, AppError> {
        let row = self.payment_row(reference)?;
        let ledger = self.ledger();
        let events = ledger.events(row.id)?;
        let refunds = ledger.refunds(row.id)?;
        let in_flight_or_done = paydesk_ledger::committed_minor(&refunds);
        let currency = Currency::from_code(&row.currency)?;
        let payment: PaymentView = row.into();
        let refundable_minor = if matches!(payment.status, PaymentStatus::Paid | PaymentStatus::PartiallyRefunded) {
            payment.amount_minor - in_flight_or_done
        } else {
            0
        };
        let mut actions = vec!["refresh"];
        if refundable_minor > 0 {
            actions.push("refund");
        }
        if matches!(payment.status, PaymentStatus::Pending | PaymentStatus::Created) {
            actions.push("cancel");
        }
        if payment.status == PaymentStatus::Created {
            actions.push("retry");
        }
        Ok(PaymentDetail {
            payment,
            events,
            refunds,
            refundable: Money::new(refundable_minor, currency).to_decimal_string(),
            actions,
        })
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
        let status = reconcile(&ledger, &row, PaymentStatus::from(PockytStatus(&info.status)))?;
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

    /// Refunds `amount` (or everything still refundable), never above the remainder the
    /// ledger knows. The refund is recorded before it is sent; a retry reuses its reference.
    pub async fn refund(&self, reference: &str, amount: Option<&str>) -> Result<RefundOutcome, AppError> {
        let row = self.payment_row(reference)?;
        let status = PaymentStatus::parse(&row.status).unwrap_or(PaymentStatus::Unknown);
        if !matches!(status, PaymentStatus::Paid | PaymentStatus::PartiallyRefunded) {
            return Err(AppError::NotAllowed {
                message: format!("Payment {reference} is {}; only paid payments can be refunded.", row.status),
            });
        }
        let currency = Currency::from_code(&row.currency)?;
        let requested = match amount.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(Money::parse(a, currency)?),
            None => None,
        };
        let refunds = self.ledger().refunds(row.id)?;
        let profile = self.profile(&row.profile)?;
        let client = self.client_for(&profile)?;
        // A refund sent before without an answer is sent again as it was (same refund
        // reference), so it can never be paid out twice.
        let refund_row = if let Some(unconfirmed) = refunds.iter().find(|r| r.status == "created") {
            if requested.is_some_and(|m| m.minor != unconfirmed.amount_minor) {
                return Err(AppError::NotAllowed {
                    message: format!(
                        "Refund {} of {} is not confirmed yet; refund again with that amount (or none) to resend it first.",
                        unconfirmed.refund_reference,
                        Money::new(unconfirmed.amount_minor, currency)
                    ),
                });
            }
            unconfirmed.clone()
        } else {
            let used = paydesk_ledger::committed_minor(&refunds);
            let remainder = row.amount_minor - used;
            let money = requested.unwrap_or(Money::new(remainder, currency));
            if money.minor > remainder || remainder <= 0 {
                return Err(AppError::invalid(
                    "amount",
                    format!(
                        "amount: {} is more than the {} still refundable on {reference}",
                        money,
                        Money::new(remainder.max(0), currency)
                    ),
                ));
            }
            let refund_reference = format!("{reference}-R{}", refunds.len() + 1);
            self.ledger().insert_refund(row.id, &refund_reference, money.minor).map_err(|e| match e {
                paydesk_ledger::LedgerError::Conflict(m) => AppError::invalid("amount", format!("amount: {m}")),
                other => other.into(),
            })?
        };
        let money = Money::new(refund_row.amount_minor, currency);
        let refund_reference = refund_row.refund_reference.clone();
        let request = paydesk_gateways::pockyt::RefundRequest {
            transaction: match &row.transaction_no {
                Some(no) => TranQueryRequest::TransactionNo(no.clone()),
                None => TranQueryRequest::Reference(row.reference.clone()),
            },
            refund_amount: money,
            refund_reference,
            ipn_url: None,
        };
        let outcome = client.refund(&request).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        let ledger = self.ledger();
        match outcome.result {
            Ok(done) => {
                let no = Some(done.refund_transaction_no.as_str()).filter(|n| !n.is_empty());
                ledger.finish_refund(refund_row.id, "succeeded", no)?;
                let refunded = ledger.refunded_minor(row.id)?;
                let status = if refunded >= row.amount_minor {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::PartiallyRefunded
                };
                ledger.apply_status(
                    row.id,
                    &StatusChange { status: status.as_str(), raw_status: None, source: "refund" },
                )?;
                let refund = ledger.refund_by_reference(&refund_row.refund_reference)?.expect("refund exists");
                Ok(RefundOutcome { payment: ledger.payment_by_id(row.id)?.expect("payment exists").into(), refund })
            }
            Err(e @ GatewayError::Rejected { transient: false, .. }) => {
                ledger.finish_refund(refund_row.id, "failed", None)?;
                Err(e.into())
            }
            // No answer: the refund stays `created` (counted against the remainder) until
            // it is known; refreshing the payment or refunding again resolves it.
            Err(e) => Err(e.into()),
        }
    }

    /// Cancels a payment nobody has paid yet.
    pub async fn cancel(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        let status = PaymentStatus::parse(&row.status).unwrap_or(PaymentStatus::Unknown);
        if !matches!(status, PaymentStatus::Pending | PaymentStatus::Created) {
            return Err(AppError::NotAllowed {
                message: format!(
                    "Payment {reference} is {}; only unpaid payments can be cancelled{}.",
                    row.status,
                    if status == PaymentStatus::Paid { " (refund it instead)" } else { "" }
                ),
            });
        }
        let profile = self.profile(&row.profile)?;
        let client = self.client_for(&profile)?;
        let query = match &row.transaction_no {
            Some(no) => TranQueryRequest::TransactionNo(no.clone()),
            None => TranQueryRequest::Reference(row.reference.clone()),
        };
        let outcome = client.cancel(&query).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        let done = outcome.result?;
        let ledger = self.ledger();
        let raw = Some(done.status.as_str()).filter(|s| !s.is_empty());
        ledger.apply_status(
            row.id,
            &StatusChange { status: PaymentStatus::Cancelled.as_str(), raw_status: raw, source: "cancel" },
        )?;
        Ok(ledger.payment_by_id(row.id)?.expect("payment exists").into())
    }

    pub fn qr_png(&self, reference: &str, min_px: u32) -> Result<Vec<u8>, AppError> {
        let view = self.payment(reference)?;
        let link = view
            .link
            .ok_or_else(|| AppError::NotAllowed { message: format!("Payment {reference} has no link yet") })?;
        qr::png(&link, min_px)
    }
}
