//! The payment flows: validate, record, send, update. The ledger row is written before
//! any request leaves, and every exchange becomes an event.

use crate::profiles::{is_demo_name, DemoContext, Environment, Profile, ProfileInput};
use crate::{qr, secrets, AppError};
use paydesk_gateways::gateway::{Checkout, Exchange, PayMethod, Payer, PaymentRef};
use paydesk_gateways::registry::{capabilities_of, AnyGateway, GatewaySetup};
use paydesk_gateways::{
    links, text, ApiSecret, Currency, GatewayError, Money, PaymentReport, PaymentStatus, RefundStatus,
};
use paydesk_ledger::{Applied, EventRow, Ledger, NewPayment, PaymentRow, ProfileRow, StatusChange};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// What the counter (or a script) asks for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreatePayment {
    pub profile: String,
    /// As typed: "13.00", "13", "0.5".
    pub amount: String,
    pub currency: String,
    /// The wallet, where the provider asks for one (Pockyt's vendor).
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub terminal: Option<String>,
    /// IOS or ANDROID: Pockyt asks it of a WAP or APP terminal.
    #[serde(default)]
    pub os_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// "qr" (counter QR, the customer scans it) or "link" (hosted page). Default: qr.
    #[serde(default)]
    pub method: Option<String>,
    /// A registered customer to attach (payment links only).
    #[serde(default)]
    pub customer_no: Option<String>,
    /// "automatic" (default) or "manual": authorise now, capture later.
    #[serde(default)]
    pub capture: Option<String>,
    /// The shop's id for the shopper, for cards on file.
    #[serde(default)]
    pub shopper_reference: Option<String>,
    /// Keep the card for the shopper's next payment.
    #[serde(default)]
    pub save_card: bool,
    /// The payer and channel, where the provider asks (Vexora).
    #[serde(default)]
    pub payer: Option<Payer>,
    /// Collects what is still due on this partly paid sale (its reference): same profile and
    /// currency, at most what is due, its payer when none is given; both are linked in
    /// their histories.
    #[serde(default)]
    pub rest_of: Option<String>,
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

    fn pay_method(self) -> PayMethod {
        match self {
            Self::CounterQr => PayMethod::CounterQr,
            Self::Link => PayMethod::Link,
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
    /// A hosted session's id, where the provider has one (PayKKa).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Authorised, captured, capturable, voidable, refunded and refundable, exactly
    /// ("5.00"), where the provider reports them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<BTreeMap<&'static str, String>>,
    /// What actually arrived of a partly paid payment, exactly ("120.00").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_amount: Option<String>,
    /// What is still due on a partly paid payment, exactly ("380.00").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_amount: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentDetail {
    pub payment: PaymentView,
    pub events: Vec<EventRow>,
    pub refunds: Vec<paydesk_ledger::RefundRow>,
    /// Captures and voids, each with its own reference and status.
    pub movements: Vec<paydesk_ledger::MovementRow>,
    /// What has been refunded (confirmed), exactly ("4.00").
    pub refunded: String,
    /// What can still be refunded, exactly ("9.00"): money taken less refunds (in flight too).
    pub refundable: String,
    /// Money taken: what was captured or paid ("15.00"; the amount once paid in full).
    pub captured: String,
    /// What is still authorised and may be captured or voided ("10.00").
    pub capturable: String,
    /// The actions the status allows: refresh, refund, cancel, retry.
    pub actions: Vec<&'static str>,
}

impl From<PaymentRow> for PaymentView {
    fn from(r: PaymentRow) -> Self {
        let amount = match Currency::from_code(&r.currency) {
            Ok(c) => Money::new(r.amount_minor, c).to_decimal_string(),
            Err(_) => r.amount_minor.to_string(),
        };
        let balances = r.balances.and_then(|b| {
            let c = Currency::from_code(&r.currency).ok()?;
            let d = |minor: i64| Money::new(minor, c).to_decimal_string();
            Some(BTreeMap::from([
                ("authorized", d(b.authorized)),
                ("captured", d(b.captured)),
                ("capturable", d(b.capturable)),
                ("voidable", d(b.voidable)),
                ("refunded", d(b.refunded)),
                ("refundable", d(b.refundable)),
            ]))
        });
        // What was taken when it is less than the amount: what arrived of a partial
        // payment, what was captured of a partial (or finally partial) capture.
        let taken = r.payment_status().took_money();
        let paid_amount = r
            .paid_minor
            .zip(Currency::from_code(&r.currency).ok())
            .filter(|(minor, _)| taken && *minor < r.amount_minor)
            .map(|(minor, c)| Money::new(minor, c).to_decimal_string());
        let due_amount = due_minor(&r)
            .zip(Currency::from_code(&r.currency).ok())
            .map(|(minor, c)| Money::new(minor, c).to_decimal_string());
        PaymentView {
            paid_amount,
            due_amount,
            vendor_label: r
                .vendor
                .as_deref()
                .map(|v| capabilities_of(&r.provider).and_then(|c| c.wallet_label(v)).unwrap_or("Wallet").to_string()),
            status: r.payment_status(),
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
            session_id: r.session_id,
            balances,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Why an answer about a payment cannot be applied to it, if it cannot: every field that
/// identifies a payment must agree with the ledger.
pub(crate) fn mismatch(row: &PaymentRow, report: &PaymentReport) -> Option<String> {
    if report.reference != row.reference {
        return Some(format!("it names reference '{}'", shown(&report.reference)));
    }
    match &row.transaction_no {
        Some(ours) if *ours != report.transaction_no => {
            return Some(format!("it names transaction '{}'", shown(&report.transaction_no)));
        }
        // Some providers name the transaction only once the customer pays (PayKKa's order
        // of a hosted session): none yet is fine; one we will store must be plain.
        None if !report.transaction_no.is_empty() && !valid_provider_id(&report.transaction_no) => {
            return Some(format!("it names no usable transaction number ('{}')", shown(&report.transaction_no)));
        }
        _ => {}
    }
    if let Some(b) = &report.balances {
        let parts = [b.authorized, b.captured, b.capturable, b.voidable, b.refunded, b.refundable];
        let impossible = parts.iter().any(|v| *v < 0)
            || b.authorized > row.amount_minor
            || b.captured > b.authorized
            || b.capturable > b.authorized - b.captured
            || b.refunded > b.captured
            || b.refundable > b.captured - b.refunded;
        if impossible {
            return Some(format!(
                "it reports impossible balances (authorised {}, captured {}, capturable {}, refunded {}, refundable {})",
                b.authorized, b.captured, b.capturable, b.refunded, b.refundable
            ));
        }
    }
    let ours = Currency::from_code(&row.currency).ok().map(|c| Money::new(row.amount_minor, c));
    if report.status == PaymentStatus::PartiallyPaid {
        // Part of the amount arrived: more than nothing, less than all, in its currency.
        let part =
            report.paid_amount.zip(ours).filter(|(paid, all)| paid.currency == all.currency && paid.minor < all.minor);
        if part.is_none() || report.amount.is_some_and(|a| Some(a) != ours) {
            let paid = report.paid_amount.map(|m| m.to_decimal_string()).unwrap_or_else(|| "no valid amount".into());
            return Some(format!("it says {} {} arrived of a partial payment", shown(&paid), shown(&report.currency)));
        }
        return None;
    }
    // A decline moves no money: an answer naming none (Vexora's "actually paid" is 0) may
    // still end an unpaid payment; one that names an amount must name ours.
    let moves_no_money =
        matches!(report.status, PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled);
    if report.amount.is_none() && moves_no_money {
        return None;
    }
    if report.amount.is_none() || report.amount != ours {
        return Some(format!("it says {} {}", shown(&amount_shown(report)), shown(&report.currency)));
    }
    None
}

fn amount_shown(report: &PaymentReport) -> String {
    report.amount.map(|m| m.to_decimal_string()).unwrap_or_else(|| "no valid amount".into())
}

/// A provider's id we are willing to store: short and plain.
pub(crate) fn valid_provider_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// At most 64 printable characters of something a provider sent, for a message.
pub(crate) fn shown(s: &str) -> String {
    s.chars().filter(|c| !text::is_forbidden(*c)).take(64).collect()
}

/// The evidence kept with a suspicious answer: what it said, bounded.
fn evidence(report: &PaymentReport) -> serde_json::Value {
    serde_json::json!({
        "reference": shown(&report.reference),
        "transaction_no": shown(&report.transaction_no),
        "amount": report.amount.map(|m| m.to_decimal_string()),
        "paid_amount": report.paid_amount.map(|m| m.to_decimal_string()),
        "currency": shown(&report.currency),
        "raw_status": shown(&report.raw_status),
    })
}

/// The checkout's provider options worth keeping for a retry (None when all are defaults).
fn checkout_options(c: &Checkout, rest_of: Option<&str>) -> Option<serde_json::Value> {
    (c.manual_capture || c.save_card || c.shopper_reference.is_some() || c.payer.is_some() || rest_of.is_some()).then(|| {
        let mut options = serde_json::json!({"manual_capture": c.manual_capture, "shopper_reference": c.shopper_reference, "save_card": c.save_card, "payer": c.payer});
        if let Some(first) = rest_of {
            options["rest_of"] = first.into();
        }
        options
    })
}

fn option<'a>(row: &'a PaymentRow, key: &str) -> Option<&'a serde_json::Value> {
    row.checkout_options.as_ref()?.get(key)
}

/// What is still due on a partly paid payment (the amount less what arrived); None for any
/// other status.
pub(crate) fn due_minor(row: &PaymentRow) -> Option<i64> {
    (row.payment_status() == PaymentStatus::PartiallyPaid)
        .then(|| (row.amount_minor - row.paid_minor.unwrap_or(0)).max(0))
}

/// What a payment's refunds are measured against: the money actually taken (what was
/// captured of a partial capture, what arrived of a partial payment), else nothing.
pub(crate) fn settled_minor(row: &PaymentRow) -> i64 {
    let status = row.payment_status();
    paydesk_ledger::captured_minor(status, row.amount_minor, row.paid_minor)
}

/// Where an exchange came from, for the events: the endpoint's last path segment
/// ("create-trans-qrcode", "tran-query"), else the flow.
pub(crate) fn source_of(exchange: &Option<Exchange>, flow: &'static str) -> String {
    exchange
        .as_ref()
        .and_then(|e| e.path.rsplit('/').next())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .unwrap_or_else(|| flow.to_string())
}

pub(crate) fn payment_ref(row: &PaymentRow) -> PaymentRef<'_> {
    PaymentRef { reference: &row.reference, transaction_no: row.transaction_no.as_deref() }
}

/// `Paydesk::record_mismatch` on a ledger already in hand (a batch).
pub(crate) fn record_mismatch_in(
    ledger: &Ledger,
    row: &PaymentRow,
    report: &PaymentReport,
    source: &str,
    reason: &str,
) -> Result<AppError, AppError> {
    ledger.append_event(
        Some(row.id),
        "suspicious",
        &serde_json::json!({"source": source, "reason": format!("answer does not match the ledger: {reason}"), "answer": evidence(report)}),
    )?;
    Ok(AppError::ProviderProtocol {
        message: format!(
            "The provider's answer does not match payment {} ({} {}): {reason}. It was recorded as suspicious and not applied.",
            row.reference,
            Currency::from_code(&row.currency).map(|c| Money::new(row.amount_minor, c).to_decimal_string()).unwrap_or_default(),
            row.currency
        ),
        reference: Some(row.reference.clone()),
    })
}

/// `Paydesk::apply_report` on a ledger already in hand (a batch).
pub(crate) fn apply_report_in(
    ledger: &Ledger,
    row: &PaymentRow,
    report: &PaymentReport,
    source: &str,
) -> Result<Applied, AppError> {
    if let Some(reason) = mismatch(row, report) {
        return Err(record_mismatch_in(ledger, row, report, source, &reason)?);
    }
    let raw = shown(&report.raw_status);
    let raw_status = Some(raw.as_str()).filter(|r| !r.is_empty());
    // A status we do not know is kept as the provider's word and never moves the payment.
    if report.status == PaymentStatus::Unknown {
        ledger.append_event(
            Some(row.id),
            "unknown_status",
            &serde_json::json!({"source": source, "raw": raw, "says": format!("the provider says {raw}")}),
        )?;
        return Ok(Applied::Unchanged);
    }
    // Ids are adopted only from an answer that names our reference (checked above).
    if row.transaction_no.is_none() {
        ledger.record_provider_ids(row.id, &report.transaction_no, None)?;
    }
    let (status, taken) = money_taken(row, report);
    let current = row.payment_status();
    if let Some(taken) = taken.filter(|_| current.can_move_to(status)) {
        if !ledger.record_paid(row.id, taken)? {
            // Money taken never decreases: an older or smaller report is kept, not applied.
            ledger.append_event(
                Some(row.id),
                "suspicious",
                &serde_json::json!({"source": source, "reason": "it reports less money taken than the ledger holds; kept, not applied",
                                    "reported_minor": taken, "held_minor": row.paid_minor}),
            )?;
        }
    }
    let applied = ledger.apply_status(row.id, &StatusChange { status, raw_status, source })?;
    if !matches!(applied, Applied::Refused { .. }) {
        if let Some(balances) = &report.balances {
            ledger.record_balances(row.id, balances)?;
        }
    }
    Ok(applied)
}

/// The status a report stands for in the one state machine, and the money it says was
/// taken where less than the amount: what arrived of a partial payment, or what was
/// captured where the balances show a partial capture (more may follow: partly captured;
/// none may: paid, for what was captured).
fn money_taken(row: &PaymentRow, report: &PaymentReport) -> (PaymentStatus, Option<i64>) {
    if let (Some(paid), PaymentStatus::PartiallyPaid) = (report.paid_amount, report.status) {
        return (PaymentStatus::PartiallyPaid, Some(paid.minor));
    }
    match (report.status, report.balances) {
        (PaymentStatus::Authorized | PaymentStatus::Paid, Some(b))
            if b.captured > 0 && b.captured < row.amount_minor =>
        {
            let status = if b.capturable > 0 { PaymentStatus::PartiallyCaptured } else { PaymentStatus::Paid };
            (status, Some(b.captured))
        }
        (status, _) => (status, None),
    }
}

/// `Paydesk::log_exchange` on a ledger already in hand (a batch).
pub(crate) fn log_exchange_in(
    ledger: &Ledger,
    id: Option<i64>,
    exchange: &Option<Exchange>,
) -> Result<(), paydesk_ledger::LedgerError> {
    let Some(exchange) = exchange else { return Ok(()) };
    let mut events = vec![(
        id,
        "request",
        serde_json::json!({"method": exchange.method, "path": exchange.path, "headers": exchange.headers, "body": exchange.body}),
    )];
    if exchange.http_status.is_some() {
        events.push((
            id,
            "response",
            serde_json::json!({"path": exchange.path, "http_status": exchange.http_status, "body": exchange.response}),
        ));
    }
    ledger.append_events(&events)
}

/// Refuses, before anything is recorded or sent, a flow the payment's provider does not
/// offer (Vexora has no refund or cancel through its API).
pub(crate) fn require_flow(provider: &str, flow: paydesk_gateways::gateway::Flow) -> Result<(), AppError> {
    match capabilities_of(provider) {
        Some(c) if !c.supports(flow) => Err(AppError::NotAllowed {
            message: format!(
                "{} does not offer {} through its API; do it in {}'s own merchant portal.",
                c.label,
                flow.as_str(),
                c.label
            ),
        }),
        _ => Ok(()),
    }
}

/// A profile field a provider rule names, said where to set it.
fn name_profile_field(profile: &Profile, e: paydesk_gateways::ValidationError) -> AppError {
    match e.field {
        "ipn_url" | "callback_url" => AppError::invalid(
            e.field,
            format!("{e}. Set it on profile '{}' (--{}).", profile.name, e.field.replace('_', "-")),
        ),
        _ => e.into(),
    }
}

/// Longest description sent with a payment (Pockyt shows it to the customer).
pub const MAX_DESCRIPTION_CHARS: usize = 127;

/// The application core. One per process; cheap to share behind an `Arc`.
pub struct Paydesk {
    home: PathBuf,
    ledger: Mutex<Ledger>,
    demo: OnceLock<DemoContext>,
    last_query: Mutex<HashMap<String, Instant>>,
    /// One HTTP client per profile, reused (connection pooling; TLS set up once).
    http_clients: Mutex<HashMap<String, reqwest::Client>>,
    /// IPN listeners started for profiles, by the address they asked for.
    pub(crate) listeners: Mutex<HashMap<String, crate::listener::IpnListener>>,
    /// Every payment whose status changed, as it happens (by id): the windows follow it.
    /// On a shared ledger also every payment another counter wrote (0: reload everything,
    /// the server was away).
    changes: tokio::sync::broadcast::Sender<i64>,
    /// The shared ledger this counter belongs to (its URL), reachable or not.
    shared: Option<String>,
    /// Hears the other counters' writes (shared ledger only, while it is reachable).
    follower: Mutex<Option<paydesk_ledger::postgres::Follower>>,
    /// Files this process exported: the only ones a window may ask to show in their folder.
    pub(crate) exported: Mutex<Vec<PathBuf>>,
}

impl std::fmt::Debug for Paydesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paydesk").field("home", &self.home).finish()
    }
}

/// Records a new payment. Another counter on a shared ledger may have drawn the same
/// reference in the same second: nothing was recorded or sent under it, so draw again.
fn record_new_payment(
    ledger: &paydesk_ledger::Ledger,
    new: &mut NewPayment,
    mut draw: impl FnMut() -> String,
) -> Result<PaymentRow, AppError> {
    let mut draws = 1;
    loop {
        match ledger.insert_payment(new) {
            Err(paydesk_ledger::LedgerError::Conflict(_)) if draws < 3 => {
                draws += 1;
                new.reference = draw();
            }
            other => return Ok(other?),
        }
    }
}

/// A fresh merchant reference: `PD` + UTC time + random suffix, unique and readable.
pub fn new_reference() -> String {
    let now = time::OffsetDateTime::now_utc();
    let stamp =
        now.format(time::macros::format_description!("[year][month][day][hour][minute][second]")).unwrap_or_default();
    let mut rng = rand::thread_rng();
    let suffix: String =
        (0..6).map(|_| REFERENCE_ALPHABET[rng.gen_range(0..REFERENCE_ALPHABET.len())] as char).collect();
    let counter = COUNTER_MARK.get().map(String::as_str).unwrap_or("");
    format!("PD{stamp}-{counter}{suffix}")
}

const REFERENCE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// This counter's mark in every reference it draws (3 characters from this machine and
/// Paydesk home): counters selling apart (an outage) never draw the same reference, and a
/// reference says where it was made.
static COUNTER_MARK: OnceLock<String> = OnceLock::new();

/// The mark of the counter at `home` on this machine.
pub fn counter_mark(home: &Path) -> String {
    use sha2::{Digest, Sha256};
    let machine = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    let digest = Sha256::digest(format!("{}\n{}", machine.trim(), home.display()).as_bytes());
    digest.iter().take(3).map(|b| REFERENCE_ALPHABET[*b as usize % REFERENCE_ALPHABET.len()] as char).collect()
}

type Changes = tokio::sync::broadcast::Sender<i64>;

/// Tells the windows of every status this ledger changes.
fn hook_status_changes(changes: &Changes, ledger: &mut Ledger) {
    let sender = changes.clone();
    ledger.on_status_change(move |id| {
        // Nobody listening (the CLI) is fine.
        let _ = sender.send(id);
    });
}

/// Hooks the shared `ledger` and follows the other counters' writes on it.
fn follow_shared(
    changes: &Changes,
    ledger: &mut Ledger,
    url: &str,
) -> Result<paydesk_ledger::postgres::Follower, AppError> {
    hook_status_changes(changes, ledger);
    let sender = changes.clone();
    Ok(paydesk_ledger::postgres::follow_changes(url, move |id| {
        let _ = sender.send(id);
    })?)
}

impl Paydesk {
    /// Opens the core on the ledger this machine is set to use: `PAYDESK_LEDGER`, else the
    /// shared ledger chosen in Settings, else the SQLite file in `home`.
    pub fn open(home: &Path) -> Result<Self, AppError> {
        Self::open_at(home, &crate::settings::ledger_location(home)?)
    }

    /// Opens the core on the ledger at `location` (`--ledger`). A shared ledger that cannot
    /// be reached: a counter that has worked on it keeps selling into its offline journal
    /// (replayed when the server is back); one that never has cannot sell (an error here).
    pub fn open_at(home: &Path, location: &paydesk_ledger::Location) -> Result<Self, AppError> {
        COUNTER_MARK.get_or_init(|| counter_mark(home));
        let shared = match location {
            paydesk_ledger::Location::Shared(url) => Some(url.clone()),
            paydesk_ledger::Location::File(_) => None,
        };
        let mut ledger = match location {
            paydesk_ledger::Location::File(path) if *path == home.join(paydesk_ledger::FILE_NAME) => {
                Ledger::open_in(home)?
            }
            paydesk_ledger::Location::Shared(url) => match Ledger::open_at(location) {
                Ok(ledger) => {
                    if let Err(e) = crate::journal::remember_profiles(home, url, &ledger) {
                        tracing::warn!("{e}");
                    }
                    ledger
                }
                Err(paydesk_ledger::LedgerError::Unreachable(why)) => match crate::journal::open_journal(home, url)? {
                    Some(journal) => journal,
                    None => return Err(paydesk_ledger::LedgerError::Unreachable(why).into()),
                },
                Err(e) => return Err(e.into()),
            },
            other => Ledger::open_at(other)?,
        };
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        let follower = match &shared {
            Some(url) if ledger.is_shared() => Some(follow_shared(&changes, &mut ledger, url)?),
            _ => {
                hook_status_changes(&changes, &mut ledger);
                None
            }
        };
        let paydesk = Self {
            home: home.into(),
            ledger: Mutex::new(ledger),
            demo: OnceLock::new(),
            last_query: Mutex::new(HashMap::new()),
            http_clients: Mutex::new(HashMap::new()),
            listeners: Mutex::new(HashMap::new()),
            changes,
            shared,
            follower: Mutex::new(follower),
            exported: Mutex::new(Vec::new()),
        };
        // Back on the shared ledger with sales journaled meanwhile: replayed now.
        if paydesk.ledger_is_shared() && crate::journal::journal_exists(home) {
            if let Err(e) = paydesk.sync_ledger() {
                tracing::warn!("the offline journal was not replayed: {e}");
            }
        }
        Ok(paydesk)
    }

    /// The shared ledger this counter belongs to, reachable or not.
    pub fn shared_url(&self) -> Option<&str> {
        self.shared.as_deref()
    }

    /// Uses `ledger` (the shared one) with its push of other counters' writes.
    pub(crate) fn follow_shared(&self, ledger: &mut Ledger, url: &str) -> Result<(), AppError> {
        let follower = follow_shared(&self.changes, ledger, url)?;
        *self.follower.lock().unwrap_or_else(|p| p.into_inner()) = Some(follower);
        Ok(())
    }

    /// Every window reads everything again (the ledger in use changed).
    pub(crate) fn announce_all_changed(&self) {
        let _ = self.changes.send(0);
    }

    /// Payments whose status changes from now on (their ids), pushed as they change: from
    /// a verified notification, a query, a refund or capture, a bulk refresh. On a shared
    /// ledger also another counter's writes, `PROFILES_CHANGED` when a profile was saved or
    /// removed anywhere, and 0 when the server came back (anything may have changed).
    pub fn status_changes(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// A payment as shown, by its ledger id.
    pub fn payment_by_id(&self, id: i64) -> Result<Option<PaymentView>, AppError> {
        Ok(crate::blocking(|| self.ledger().payment_by_id(id))?.map(PaymentView::from))
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where the ledger lives (a file, or a shared server).
    pub fn ledger_location(&self) -> paydesk_ledger::Location {
        self.ledger().location().clone()
    }

    /// The SQLite file, when the ledger is one.
    pub fn ledger_path(&self) -> Option<PathBuf> {
        self.ledger().path().map(Path::to_path_buf)
    }

    /// Whether this counter shares its ledger with others (PostgreSQL).
    pub fn ledger_is_shared(&self) -> bool {
        self.ledger().is_shared()
    }

    pub(crate) fn install_demo(&self, ctx: DemoContext) -> Result<&DemoContext, AppError> {
        self.demo.set(ctx).map_err(|_| AppError::Internal { message: "demo mode is already running".into() })?;
        Ok(self.demo.get().expect("just set"))
    }

    /// The ledger this core runs on, and what Settings chose.
    pub fn ledger_settings(&self) -> crate::settings::LedgerSettings {
        crate::settings::ledger_settings_at(self.home(), &self.ledger_location())
    }

    pub fn demo(&self) -> Option<&DemoContext> {
        self.demo.get()
    }

    // ----- profiles -----

    pub fn profile(&self, name: &str) -> Result<Profile, AppError> {
        crate::blocking(|| {
            if is_demo_name(name) {
                let demo = self.demo().ok_or_else(|| AppError::ProfileNotFound {
                    profile: name.into(),
                    message: "Demo mode is not running in this process".into(),
                })?;
                return demo.profile(name).ok_or_else(|| AppError::ProfileNotFound {
                    profile: name.into(),
                    message: format!("No demo profile named '{name}'"),
                });
            }
            self.ledger().profile(name)?.map(Profile::from).ok_or_else(|| AppError::ProfileNotFound {
                profile: name.into(),
                message: format!("No profile named '{name}'. Add it with `paydesk profile add` or in Settings."),
            })
        })
    }

    pub fn profiles(&self) -> Result<Vec<Profile>, AppError> {
        let mut all: Vec<Profile> = self.demo().map(|d| d.profiles()).unwrap_or_default();
        all.extend(self.ledger().profiles()?.into_iter().map(Profile::from));
        Ok(all)
    }

    /// Saves a profile. An existing name is replaced only when asked (`replace`); where it
    /// would send sales elsewhere (another provider, base URL or merchant ids), only a
    /// counter holding the profile's secret may (one without it can only read, so a home
    /// without the secret cannot redirect another counter's sales). Every change is an
    /// event in the ledger's sealed history.
    pub fn save_profile(&self, input: ProfileInput) -> Result<Profile, AppError> {
        let (replace, shop_given) = (input.replace, input.shop.is_some());
        let mut row: ProfileRow = input.validate()?;
        crate::blocking(|| {
            let before = self.ledger().profile(&row.name)?;
            // Edited without naming a shop (the window's form): it stays where it was.
            if let (Some(before), false) = (&before, shop_given) {
                row.shop = before.shop.clone();
            }
            // A production profile sells for real: its secret is here (or saved in the same
            // step, which the app and `profile add --secret-stdin` do first).
            if row.environment == crate::Environment::Production.as_str() && secrets::load_token(&row.name).is_err() {
                return Err(AppError::SecretMissing {
                    profile: row.name.clone(),
                    message: format!(
                        "Profile '{}' is a production profile: save its secret in the same step (Settings, or \
                         `paydesk profile add … --secret-stdin`), so it is never saved unable to sell.",
                        row.name
                    ),
                });
            }
            if let Some(before) = &before {
                if !replace {
                    return Err(AppError::invalid(
                        "name",
                        format!(
                            "name: a profile named '{}' exists; add --replace (or edit it in Settings) to change it",
                            row.name
                        ),
                    ));
                }
                let redirects = before.provider != row.provider
                    || before.base_url != row.base_url
                    || before.private_network != row.private_network
                    || before.settings != row.settings;
                if redirects && secrets::load_token(&row.name).is_err() {
                    return Err(AppError::SecretMissing {
                        profile: row.name.clone(),
                        message: format!(
                            "This counter has no secret for profile '{}', so it cannot change where its sales go \
                             (provider, base URL, merchant settings). Change it from a counter that has the secret, \
                             or save the secret here first.",
                            row.name
                        ),
                    });
                }
            }
            let changed: Vec<&str> = match &before {
                None => vec!["created"],
                Some(b) => [
                    ("provider", b.provider != row.provider),
                    ("base_url", b.base_url != row.base_url),
                    ("settings", b.settings != row.settings),
                    ("ipn_url", b.ipn_url != row.ipn_url),
                    ("callback_url", b.callback_url != row.callback_url),
                    ("ipn_listen", b.ipn_listen != row.ipn_listen),
                    ("private_network", b.private_network != row.private_network),
                ]
                .into_iter()
                .filter_map(|(f, c)| c.then_some(f))
                .collect(),
            };
            let ledger = self.ledger();
            ledger.batch(|l| {
                l.save_profile(&row)?;
                l.append_event(
                    None,
                    "profile_saved",
                    &serde_json::json!({"profile": row.name, "changed": changed, "provider": row.provider,
                                        "base_url": row.base_url, "by": paydesk_ledger::this_process()}),
                )
            })?;
            self.remember_shared_profiles(&ledger);
            let mut saved: Profile = row.into();
            if let Some(addr) = saved.ipn_listen.as_deref().and_then(|a| a.parse::<std::net::SocketAddr>().ok()) {
                if addr.ip().is_unspecified() {
                    saved.warnings.push(format!(
                        "The notification listener for '{}' listens on every network interface ({addr}): anyone who \
                         can reach this computer can post to it. Notifications are verified, but bind it to the one \
                         address your tunnel or router forwards to if you can.",
                        saved.name
                    ));
                }
            }
            Ok(saved)
        })
    }

    /// Profiles saved and removed (of `name`, or all), newest first, from the sealed history.
    pub fn profile_history(&self, name: Option<&str>, limit: i64) -> Result<Vec<paydesk_ledger::EventRow>, AppError> {
        let limit = limit.clamp(1, 1000);
        crate::blocking(|| {
            // Read a generous window, then keep the named profile's (a handful of changes a year).
            let events = self.ledger().profile_events(if name.is_some() { 1000 } else { limit })?;
            Ok(events
                .into_iter()
                .filter(|e| name.is_none_or(|n| e.detail["profile"] == n))
                .take(limit as usize)
                .collect())
        })
    }

    pub fn remove_profile(&self, name: &str) -> Result<bool, AppError> {
        crate::blocking(|| {
            let ledger = self.ledger();
            Ok(ledger
                .batch(|l| {
                    let removed = l.remove_profile(name)?;
                    if removed {
                        l.append_event(
                            None,
                            "profile_removed",
                            &serde_json::json!({"profile": name, "by": paydesk_ledger::this_process()}),
                        )?;
                    }
                    Ok(removed)
                })
                .inspect(|_| self.remember_shared_profiles(&ledger))?)
        })
    }

    /// Keeps the shared ledger's profiles on this computer (for selling through an outage).
    fn remember_shared_profiles(&self, ledger: &Ledger) {
        if let (Some(url), true) = (self.shared_url(), ledger.is_shared()) {
            if let Err(e) = crate::journal::remember_profiles(&self.home, url, ledger) {
                tracing::warn!("{e}");
            }
        }
    }

    pub(crate) fn token_for(&self, profile: &Profile) -> Result<ApiSecret, AppError> {
        crate::blocking(|| {
            if profile.environment == Environment::Demo {
                if let Some(secret) = self.demo().and_then(|d| d.secret_for(&profile.name)) {
                    return Ok(secret);
                }
            }
            secrets::load_token(&profile.name).map_err(|e| match e {
                // On a shared ledger the sales are everyone's, the secrets each machine's.
                AppError::SecretMissing { profile, .. } if self.ledger_is_shared() => AppError::SecretMissing {
                    message: format!(
                        "This counter has no API token for profile '{profile}': it can see the profile's sales on the \
                         shared ledger but cannot act on them. Act from a counter that has the token, or save it here \
                         with `paydesk secret set {profile}` or in Settings."
                    ),
                    profile,
                },
                other => other,
            })
        })
    }

    /// The profile's gateway, with its secret from the keyring and its reused HTTP client.
    pub(crate) fn gateway_for(&self, profile: &Profile) -> Result<AnyGateway, AppError> {
        let secret = self.token_for(profile)?;
        let http = self
            .http_clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(profile.name.clone())
            .or_insert_with(paydesk_gateways::http::client)
            .clone();
        Ok(AnyGateway::new(GatewaySetup {
            provider: &profile.provider,
            profile: &profile.name,
            notify_url: profile.ipn_url.as_deref(),
            base_url: &profile.base_url,
            settings: &profile.settings,
            secret,
            http,
        })?)
    }

    // ----- payments -----

    /// The partly paid sale `reference` whose rest a new sale of `amount` collects, or why
    /// it cannot (naming the field).
    fn rest_due(
        &self,
        reference: &str,
        profile: &str,
        currency: Currency,
        amount: Money,
    ) -> Result<PaymentRow, AppError> {
        let first = crate::blocking(|| Ok::<_, AppError>(self.ledger().payment_by_reference(reference)?))?.ok_or_else(
            || AppError::invalid("rest_of", format!("rest_of: no payment {} in the ledger", shown(reference))),
        )?;
        let Some(due) = due_minor(&first) else {
            return Err(AppError::invalid(
                "rest_of",
                format!("rest_of: {} is not partly paid, nothing is due on it", first.reference),
            ));
        };
        if first.profile != profile || first.currency != currency.code() {
            return Err(AppError::invalid(
                "rest_of",
                format!(
                    "rest_of: the rest of {} is collected in its own profile and currency ({}, {})",
                    first.reference, first.profile, first.currency
                ),
            ));
        }
        if amount.minor > due {
            return Err(AppError::invalid(
                "amount",
                format!(
                    "amount: at most the {} {} still due on {}",
                    Money { minor: due, currency }.to_decimal_string(),
                    currency.code(),
                    first.reference
                ),
            ));
        }
        Ok(first)
    }

    /// Validates everything, records the payment, then asks the provider for a QR or link.
    pub async fn create_payment(&self, req: &CreatePayment) -> Result<PaymentView, AppError> {
        let profile = self.profile(&req.profile)?;
        let method = Method::parse(req.method.as_deref())?;
        let currency = Currency::from_code(&req.currency)?;
        let amount = Money::parse(&req.amount, currency)?;
        let vendor = req.vendor.trim().to_ascii_lowercase();
        text::check_line("vendor", &vendor, 32)?;
        if let Some(d) = &req.description {
            text::check_line("description", d.trim(), MAX_DESCRIPTION_CHARS)?;
        }
        if let Some(t) = &req.terminal {
            text::check_line("terminal", t, 16)?;
        }
        let customer_no = req.customer_no.clone().map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if let Some(c) = &customer_no {
            if !valid_provider_id(c) {
                return Err(AppError::invalid(
                    "customer_no",
                    "customer_no: letters and digits only, at most 64, as the provider assigned it",
                ));
            }
        }
        let manual_capture = match req.capture.as_deref().map(str::trim).unwrap_or("automatic") {
            "automatic" | "" => false,
            "manual" => true,
            other => {
                return Err(AppError::invalid(
                    "capture",
                    format!("capture: must be automatic or manual (got '{}')", shown(other)),
                ))
            }
        };
        let shopper_reference =
            req.shopper_reference.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        // The rest of a partly paid sale: checked before anything is recorded or sent.
        let first = match req.rest_of.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(reference) => Some(self.rest_due(reference, &profile.name, currency, amount)?),
            None => None,
        };
        let payer = req.payer.clone().or_else(|| {
            let first = first.as_ref()?;
            serde_json::from_value(option(first, "payer")?.clone()).ok()
        });
        let gateway = self.gateway_for(&profile)?;
        let checkout = Checkout {
            reference: new_reference(),
            amount,
            method: method.pay_method(),
            wallet: Some(vendor.clone()).filter(|v| !v.is_empty()),
            terminal: req.terminal.clone(),
            os_type: req.os_type.as_deref().map(|o| o.trim().to_ascii_uppercase()).filter(|o| !o.is_empty()),
            description: req.description.clone(),
            customer_no: customer_no.clone(),
            notify_url: profile.ipn_url.clone().unwrap_or_default(),
            return_url: profile.callback_url.clone().unwrap_or_default(),
            manual_capture,
            shopper_reference,
            save_card: req.save_card,
            payer: payer.and_then(Payer::tidied),
        };
        // Every problem at once (the payer's fields each under its own).
        let problems: Vec<AppError> =
            gateway.checkout_problems(&checkout).into_iter().map(|e| name_profile_field(&profile, e)).collect();
        if let Some(all) = AppError::invalid_all(problems) {
            return Err(all);
        }
        let mut new = NewPayment {
            reference: checkout.reference.clone(),
            profile: profile.name.clone(),
            provider: profile.provider.clone(),
            method: method.as_str().into(),
            vendor: Some(vendor).filter(|v| !v.is_empty()),
            amount_minor: amount.minor,
            currency: currency.code().into(),
            customer_no,
            checkout_options: checkout_options(&checkout, first.as_ref().map(|f| f.reference.as_str())),
        };
        let row = crate::blocking(|| {
            let ledger = self.ledger();
            let row = record_new_payment(&ledger, &mut new, new_reference)?;
            if let Some(first) = &first {
                // Each history names the other.
                let amount = amount.to_decimal_string();
                ledger.append_events(&[
                    (
                        Some(first.id),
                        "rest_requested",
                        serde_json::json!({"reference": row.reference, "amount": amount}),
                    ),
                    (Some(row.id), "rest_of", serde_json::json!({"reference": first.reference})),
                ])?;
            }
            Ok::<_, AppError>(row)
        })?;
        if let Some(payer) = &checkout.payer {
            // Recalled by their number next time; a failure here never stops the sale.
            if let Err(e) = self.remember_payer(payer) {
                tracing::warn!(error = %e, "the payer could not be kept for next time");
            }
        }
        let checkout = Checkout { reference: row.reference.clone(), ..checkout };
        // From here on the payment exists: whatever fails, the caller learns its reference.
        self.send_create(&gateway, &profile, &row, &checkout).await.map_err(|e| e.with_reference(&row.reference))
    }

    async fn send_create(
        &self,
        gateway: &AnyGateway,
        profile: &Profile,
        row: &PaymentRow,
        checkout: &Checkout,
    ) -> Result<PaymentView, AppError> {
        let outcome = gateway.checkout(checkout).await;
        let source = source_of(&outcome.exchange, "checkout");
        let source = source.as_str();
        let exchange = &outcome.exchange;
        let answer = match outcome.result {
            Ok(answer) => answer,
            Err(e) => {
                self.log_exchange(row.id, exchange)?;
                return Err(self.record_failure(row.id, source, e)?);
            }
        };
        let (report, link, session_id) = (answer.report, answer.link, answer.session_id);
        if let Some(reason) = mismatch(row, &report) {
            self.log_exchange(row.id, exchange)?;
            return Err(self.record_mismatch(row, &report, source, &reason)?);
        }
        // A checkout answered with a failure ends the payment, with the provider's reason.
        if matches!(report.status, PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled) {
            let raw = shown(&report.raw_status);
            crate::blocking(|| {
                self.ledger().batch(|l| {
                    log_exchange_in(l, Some(row.id), exchange)?;
                    if valid_provider_id(&report.transaction_no) {
                        l.record_provider_ids(row.id, &report.transaction_no, None)?;
                    }
                    l.apply_status(row.id, &StatusChange { status: report.status, raw_status: Some(&raw), source })
                })
            })?;
            return Err(AppError::ProviderRejected {
                message: format!(
                    "{} did not take payment {} ({raw}); it is recorded as {}.",
                    gateway.capabilities().label,
                    row.reference,
                    report.status.label().to_lowercase()
                ),
                code: raw,
            });
        }
        // The exchange and what it settled, in one transaction that does not wait for the
        // disk: the row was flushed before sending, so a power cut losing this leaves it
        // unanswered and recovery asks the provider by reference (nothing lost or doubled).
        crate::blocking(|| {
            let ledger = self.ledger();
            let schemes = gateway.capabilities().wallet_link_schemes;
            let checked = links::check_payment_link(&link, &profile.base_url, schemes, profile.private_network);
            let after = ledger.batch_flushed_later(|l| {
                log_exchange_in(l, Some(row.id), exchange)?;
                if let Err(bad) = &checked {
                    // Keep the provider's id (so a cancel or a retry finds it), never the link.
                    l.record_provider_ids(row.id, &report.transaction_no, None)?;
                    l.append_event(
                        Some(row.id),
                        "suspicious",
                        &serde_json::json!({"source": source, "reason": bad.to_string()}),
                    )?;
                    return Ok(None);
                }
                l.record_provider_ids(row.id, &report.transaction_no, Some(&link))?;
                if let Some(session) = session_id.as_deref().filter(|s| valid_provider_id(s)) {
                    l.record_session(row.id, session)?;
                }
                l.apply_status(row.id, &StatusChange { status: PaymentStatus::Pending, raw_status: None, source })?;
                l.payment_by_id(row.id)
            })?;
            match (checked, after) {
                (Err(bad), _) => Err(AppError::ProviderProtocol {
                    message: format!(
                        "{} returned a payment link Paydesk will not show: {bad}. The payment is kept; cancel it or try again.",
                        gateway.capabilities().label
                    ),
                    reference: None,
                }),
                (Ok(()), after) => Ok(after.expect("payment exists").into()),
            }
        })
    }

    /// A refusal ends the payment (failed); an unanswered request, or a fault on the
    /// provider's side, leaves it `created` so it can be retried with the same reference.
    fn record_failure(&self, id: i64, source: &str, e: GatewayError) -> Result<AppError, AppError> {
        crate::blocking(|| {
            let ledger = self.ledger();
            ledger.append_event(Some(id), "error", &serde_json::json!({"message": e.to_string()}))?;
            if let GatewayError::Rejected { code, transient: false, .. } = &e {
                ledger.apply_status(
                    id,
                    &StatusChange { status: PaymentStatus::Failed, raw_status: Some(code), source },
                )?;
            }
            Ok(e.into())
        })
    }

    /// An answer about another payment (or with another amount) is kept as evidence and
    /// never applied; the error says so.
    pub(crate) fn record_mismatch(
        &self,
        row: &PaymentRow,
        report: &PaymentReport,
        source: &str,
        reason: &str,
    ) -> Result<AppError, AppError> {
        crate::blocking(|| record_mismatch_in(&self.ledger(), row, report, source, reason))
    }

    /// Applies what a provider said about a payment (query answer or notification): only
    /// when it matches the ledger, and only through the state machine.
    pub(crate) fn apply_report(
        &self,
        row: &PaymentRow,
        report: &PaymentReport,
        source: &str,
    ) -> Result<Applied, AppError> {
        crate::blocking(|| apply_report_in(&self.ledger(), row, report, source))
    }

    /// Every request and response becomes an event (the payment's, or unattached for
    /// customer calls), in one shape for every provider. Bodies hold signatures, never secrets.
    pub(crate) fn log_exchange(&self, id: impl Into<Option<i64>>, exchange: &Option<Exchange>) -> Result<(), AppError> {
        let id = id.into();
        crate::blocking(|| Ok(log_exchange_in(&self.ledger(), id, exchange)?))
    }

    /// Sends a payment that never got an answer again, with the same reference.
    pub async fn retry_payment(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        if row.status != PaymentStatus::Created.as_str() {
            return Err(AppError::NotAllowed {
                message: format!("Payment {reference} already reached the provider ({}).", row.status),
            });
        }
        self.resend_checkout(row).await
    }

    /// Asks again for the link of a payment the provider has but the ledger never got the
    /// link of (a crash between the provider's answer and the write): the same checkout,
    /// same reference, which the provider answers with the same session or order.
    pub(crate) async fn restore_link(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        if row.link.is_some() || row.status != PaymentStatus::Pending.as_str() {
            return Ok(row.into());
        }
        self.resend_checkout(row).await
    }

    async fn resend_checkout(&self, row: PaymentRow) -> Result<PaymentView, AppError> {
        let reference = row.reference.clone();
        let reference = reference.as_str();
        let profile = self.profile(&row.profile)?;
        let method = Method::parse(Some(&row.method))?;
        let checkout = Checkout {
            reference: row.reference.clone(),
            amount: Money::new(row.amount_minor, Currency::from_code(&row.currency)?),
            method: method.pay_method(),
            wallet: row.vendor.clone(),
            terminal: None,
            os_type: None,
            description: None,
            customer_no: row.customer_no.clone(),
            notify_url: profile.ipn_url.clone().unwrap_or_default(),
            return_url: profile.callback_url.clone().unwrap_or_default(),
            // Exactly as first asked for: manual capture, shopper, saved card.
            manual_capture: option(&row, "manual_capture").and_then(|v| v.as_bool()).unwrap_or(false),
            shopper_reference: option(&row, "shopper_reference").and_then(|v| v.as_str()).map(String::from),
            save_card: option(&row, "save_card").and_then(|v| v.as_bool()).unwrap_or(false),
            payer: option(&row, "payer").and_then(|v| serde_json::from_value(v.clone()).ok()),
        };
        let gateway = self.gateway_for(&profile)?;
        gateway.validate_checkout(&checkout).map_err(|e| name_profile_field(&profile, e))?;
        self.send_create(&gateway, &profile, &row, &checkout).await.map_err(|e| e.with_reference(reference))
    }

    pub(crate) fn payment_row(&self, reference: &str) -> Result<PaymentRow, AppError> {
        crate::blocking(|| {
            // The ledger is let go before asking whether it is the journal.
            let found = self.ledger().payment_by_reference(reference)?;
            found.ok_or_else(|| {
                self.not_here_offline(reference).unwrap_or_else(|| AppError::payment_not_found(reference))
            })
        })
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
        let refunded_minor: i64 =
            refunds.iter().filter(|r| r.status == RefundStatus::Succeeded.as_str()).map(|r| r.amount_minor).sum();
        let currency = Currency::from_code(&row.currency)?;
        let settled = settled_minor(&row);
        let movements = ledger.movements(row.id)?;
        let open_movement = movements.iter().any(|m| m.status().is_open());
        let payment: PaymentView = row.into();
        let refundable_minor = if payment.status.is_refundable() { (settled - in_flight_or_done).max(0) } else { 0 };
        let authorised = matches!(payment.status, PaymentStatus::Authorized | PaymentStatus::PartiallyCaptured);
        let capturable_minor = if authorised { payment.amount_minor - settled } else { 0 };
        let mut actions = vec!["refresh"];
        if refundable_minor > 0 {
            actions.push("refund");
        }
        // While a capture or void is unconfirmed, refreshing settles it; nothing else moves.
        if capturable_minor > 0 && !open_movement {
            actions.push("capture");
            actions.push("void");
        }
        if matches!(payment.status, PaymentStatus::Pending | PaymentStatus::Created | PaymentStatus::Unknown) {
            actions.push("cancel");
        }
        if payment.status == PaymentStatus::Created {
            actions.push("retry");
        }
        // Only what the payment's provider offers (Vexora has no refund or cancel).
        if let Some(caps) = capabilities_of(&payment.provider) {
            use paydesk_gateways::gateway::Flow;
            actions.retain(|a| {
                let flow = match *a {
                    "refund" => Flow::Refund,
                    "capture" => Flow::Capture,
                    "void" => Flow::Void,
                    "cancel" => Flow::Cancel,
                    "retry" => Flow::Checkout,
                    _ => Flow::Query,
                };
                caps.supports(flow)
            });
        }
        Ok(PaymentDetail {
            payment,
            events,
            refunds,
            movements,
            refunded: Money::new(refunded_minor, currency).to_decimal_string(),
            refundable: Money::new(refundable_minor, currency).to_decimal_string(),
            captured: Money::new(if authorised || settled > 0 { settled } else { 0 }, currency).to_decimal_string(),
            capturable: Money::new(capturable_minor, currency).to_decimal_string(),
            actions,
        })
    }

    /// Asks the provider (tran-query) and applies what it says, when it is about this
    /// payment and moves it forward. Also settles a refund that never got an answer.
    pub async fn refresh(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        if !self.query_provider(&row).await? {
            return Err(AppError::ProviderRejected {
                code: "unknown_transaction".into(),
                message: format!(
                    "{} has never seen payment {reference}; send it again (retry) or cancel it.",
                    self.profile(&row.profile)?.provider_label()
                ),
            });
        }
        match self.settle_movements_of(&row, false).await {
            // Being sent right now elsewhere: its sender books it.
            Ok(_) | Err(AppError::NotAllowed { .. }) => {}
            Err(e) => return Err(e),
        }
        let unanswered = crate::blocking(|| self.ledger().refunds(row.id))?
            .iter()
            .any(|r| RefundStatus::parse(&r.status).is_some_and(RefundStatus::is_open));
        if unanswered {
            match self.settle_refund(&row).await {
                Ok(()) | Err(AppError::ProviderUnreachable { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.payment(reference)
    }

    /// Asks the provider about a payment and applies a matching answer. `Ok(false)`: the
    /// provider has never seen it.
    pub(crate) async fn query_provider(&self, row: &PaymentRow) -> Result<bool, AppError> {
        let profile = self.profile(&row.profile)?;
        let gateway = self.gateway_for(&profile)?;
        self.last_query.lock().unwrap_or_else(|p| p.into_inner()).insert(row.reference.clone(), Instant::now());
        let outcome = gateway.query(payment_ref(row)).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        match outcome.result {
            Ok(report) => {
                self.apply_report(row, &report, &source_of(&outcome.exchange, "query"))?;
                Ok(true)
            }
            // Unknown by the number we kept: asked by our own reference, so a wrong number
            // can never lock the payment out.
            Err(e) if e.is_unknown_transaction() && row.transaction_no.is_some() => {
                let by_reference = PaymentRef { reference: &row.reference, transaction_no: None };
                let outcome = gateway.query(by_reference).await;
                self.log_exchange(row.id, &outcome.exchange)?;
                let report = match outcome.result {
                    Ok(report) => report,
                    Err(e) if e.is_unknown_transaction() => return Ok(false),
                    Err(e) => return Err(e.into()),
                };
                let named = report.transaction_no.clone();
                if report.reference != row.reference || !valid_provider_id(&named) {
                    return Err(self.record_mismatch(row, &report, "query", "it does not name our reference")?);
                }
                let kept = row.transaction_no.clone().unwrap_or_default();
                let row = crate::blocking(|| {
                    let ledger = self.ledger();
                    ledger.correct_transaction_no(row.id, &kept, &named)?;
                    ledger.payment_by_id(row.id)
                })?
                .ok_or_else(|| AppError::payment_not_found(&row.reference))?;
                self.apply_report(&row, &report, &source_of(&outcome.exchange, "query"))?;
                Ok(true)
            }
            Err(e) if e.is_unknown_transaction() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// For a waiting screen: the ledger's view, queried from the provider at most every
    /// `interval` (an IPN usually lands first and is read straight from the ledger).
    pub async fn poll(&self, reference: &str, interval: Duration) -> Result<PaymentView, AppError> {
        let view = self.payment(reference)?;
        // Only what the provider has acknowledged (a transaction number, or a hosted
        // session) can be asked about; the rest is for retry or recovery.
        // What reached the provider can be asked about (by its number, else by our
        // reference); a payment still `created` is for retry or recovery.
        if view.status.is_final() || view.status == PaymentStatus::Created {
            return Ok(view);
        }
        let due = self
            .last_query
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(reference)
            .is_none_or(|t| t.elapsed() >= interval);
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

    /// Cancels a payment nobody has paid yet. Only an answer that names this transaction
    /// as closed cancels it in the ledger.
    pub async fn cancel(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        let status = row.payment_status();
        if !matches!(status, PaymentStatus::Pending | PaymentStatus::Created | PaymentStatus::Unknown) {
            return Err(AppError::NotAllowed {
                message: format!(
                    "Payment {reference} is {}; only unpaid payments can be cancelled{}.",
                    row.status,
                    if status.is_paid() { " (refund it instead)" } else { "" }
                ),
            });
        }
        require_flow(&row.provider, paydesk_gateways::gateway::Flow::Cancel)?;
        let profile = self.profile(&row.profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.cancel(payment_ref(&row)).await;
        self.log_exchange(row.id, &outcome.exchange)?;
        let done = outcome.result;
        let done = match done {
            Ok(done) => done,
            // Recorded but never answered, and the provider has no trace of it: it never
            // arrived, so it is cancelled here (it can never be paid, and recovery will not
            // send it).
            Err(e) if e.is_unknown_transaction() && status == PaymentStatus::Created => {
                return crate::blocking(|| {
                    let ledger = self.ledger();
                    ledger.apply_status(
                        row.id,
                        &StatusChange {
                            status: PaymentStatus::Cancelled,
                            raw_status: Some("never reached the provider"),
                            source: "cancel",
                        },
                    )?;
                    Ok(ledger.payment_by_id(row.id)?.expect("payment exists").into())
                });
            }
            Err(e) => return Err(AppError::from(e).with_reference(reference)),
        };
        crate::blocking(|| {
            let ledger = self.ledger();
            // A cancel answer names no reference of ours: no id is adopted from it.
            let raw = shown(&done.raw_status);
            let applied = ledger.apply_status(
                row.id,
                &StatusChange { status: PaymentStatus::Cancelled, raw_status: Some(raw.as_str()), source: "cancel" },
            )?;
            if let Applied::Refused { from, .. } = applied {
                return Err(AppError::NotAllowed {
                    message: format!("Payment {reference} became {} meanwhile; it was not cancelled.", from.as_str()),
                });
            }
            Ok(ledger.payment_by_id(row.id)?.expect("payment exists").into())
        })
    }

    pub fn qr_png(&self, reference: &str, min_px: u32) -> Result<Vec<u8>, AppError> {
        let view = self.payment(reference)?;
        let link = view
            .link
            .ok_or_else(|| AppError::NotAllowed { message: format!("Payment {reference} has no link yet") })?;
        qr::png(&link, min_px)
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;
    use paydesk_gateways::Balances;

    fn ledger_with(dir: &tempfile::TempDir, status: PaymentStatus, amount_minor: i64) -> (Ledger, PaymentRow) {
        let ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let row = ledger
            .insert_payment(&NewPayment {
                reference: "PD-T".into(),
                profile: "shop".into(),
                provider: "paykka".into(),
                method: "link".into(),
                vendor: None,
                amount_minor,
                currency: "TWD".into(),
                customer_no: None,
                checkout_options: None,
            })
            .unwrap();
        ledger.apply_status(row.id, &StatusChange { status, raw_status: None, source: "t" }).unwrap();
        let row = ledger.payment_by_id(row.id).unwrap().unwrap();
        (ledger, row)
    }

    fn report(status: PaymentStatus, amount: Option<i64>) -> PaymentReport {
        let twd = Currency::from_code("TWD").unwrap();
        PaymentReport {
            reference: "PD-T".into(),
            transaction_no: "T1".into(),
            amount: amount.map(|a| Money::new(a, twd)),
            currency: "TWD".into(),
            raw_status: "X".into(),
            status,
            balances: None,
            paid_amount: None,
        }
    }

    #[test]
    fn a_partly_paid_amount_never_goes_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, row) = ledger_with(&dir, PaymentStatus::Pending, 50000);
        let twd = Currency::from_code("TWD").unwrap();
        let mut held = row;
        for (paid, expected) in [(15000, 15000), (20000, 20000), (10000, 20000), (100, 20000)] {
            let r = PaymentReport {
                paid_amount: Some(Money::new(paid, twd)),
                ..report(PaymentStatus::PartiallyPaid, None)
            };
            apply_report_in(&ledger, &held, &r, "ipn").unwrap();
            held = ledger.payment_by_id(held.id).unwrap().unwrap();
            assert_eq!(held.paid_minor, Some(expected), "after a report of {paid}");
        }
        let events = ledger.events(held.id).unwrap();
        assert_eq!(events.iter().filter(|e| e.kind == "suspicious").count(), 2, "older reports kept as evidence");
    }

    #[test]
    fn impossible_balances_and_a_session_without_amount_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_ledger, row) = ledger_with(&dir, PaymentStatus::Authorized, 2500);
        let mut r = report(PaymentStatus::Paid, Some(2500));
        let b = Balances { authorized: 2500, captured: -500, capturable: 0, voidable: 0, refunded: 0, refundable: 0 };
        r.balances = Some(b);
        assert!(mismatch(&row, &r).is_some_and(|m| m.contains("impossible balances")), "negative capture");
        r.balances = Some(Balances { captured: 2500, refunded: 3000, ..b });
        assert!(mismatch(&row, &r).is_some(), "refunded more than captured");
        r.balances = Some(Balances { captured: 1000, capturable: 2000, ..b });
        assert!(mismatch(&row, &r).is_some(), "capturable above what is left");
        r.balances =
            Some(Balances { captured: 1000, capturable: 1500, voidable: 1500, refunded: 0, refundable: 1000, ..b });
        assert_eq!(mismatch(&row, &r), None);
        // A session answer that names no amount is not about our payment.
        assert!(mismatch(&row, &report(PaymentStatus::Pending, None)).is_some());
    }

    #[test]
    fn an_unknown_status_never_moves_a_payment() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, row) = ledger_with(&dir, PaymentStatus::Pending, 1300);
        let applied = apply_report_in(&ledger, &row, &report(PaymentStatus::Unknown, Some(1300)), "query").unwrap();
        assert_eq!(applied, Applied::Unchanged);
        assert_eq!(ledger.payment_by_id(row.id).unwrap().unwrap().status, "pending");
        let events = ledger.events(row.id).unwrap();
        assert_eq!(events.last().unwrap().detail["says"], "the provider says X");
    }

    #[test]
    fn a_partial_capture_reported_by_balances_is_partly_captured_not_paid() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, row) = ledger_with(&dir, PaymentStatus::Authorized, 2500);
        let mut r = report(PaymentStatus::Paid, Some(2500));
        r.balances = Some(Balances {
            authorized: 2500,
            captured: 1500,
            capturable: 1000,
            voidable: 1000,
            refunded: 0,
            refundable: 1500,
        });
        apply_report_in(&ledger, &row, &r, "query").unwrap();
        let now = ledger.payment_by_id(row.id).unwrap().unwrap();
        assert_eq!((now.status.as_str(), now.paid_minor), ("partially_captured", Some(1500)));
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;

    #[test]
    fn a_reference_another_counter_already_recorded_is_drawn_again() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let mut new = NewPayment {
            reference: "PD20261201120000-AAAAAA".into(),
            profile: "demo".into(),
            provider: "pockyt".into(),
            method: "qr".into(),
            vendor: Some("alipay".into()),
            amount_minor: 1300,
            currency: "USD".into(),
            customer_no: None,
            checkout_options: None,
        };
        ledger.insert_payment(&new).unwrap();
        let mut drawn = vec!["PD20261201120000-BBBBBB".to_string()];
        let row = record_new_payment(&ledger, &mut new, || drawn.pop().unwrap()).unwrap();
        assert_eq!(row.reference, "PD20261201120000-BBBBBB");
        assert_eq!(new.reference, row.reference, "the checkout goes out under the recorded reference");

        // Drawn three times and taken each time: refused, nothing recorded.
        let row = record_new_payment(&ledger, &mut new, || "PD20261201120000-BBBBBB".into());
        assert!(matches!(row, Err(AppError::Storage { .. })), "{row:?}");
        assert_eq!(ledger.count(&paydesk_ledger::PaymentFilter::default()).unwrap(), 2);
    }
}
