//! One interface for every provider (Hyperswitch's one-trait-per-flow, ActiveMerchant's
//! declared capabilities): the core asks for a checkout, a query, a refund, ... in the app's
//! own terms; each provider turns them into its wire form and back. A flow a provider does
//! not offer answers [`GatewayError::Unsupported`], never a panic or a silent no-op.

use crate::{GatewayError, Money, PaymentReport, ValidationError};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;

pub use crate::settings::{SecretSpec, Setting};
use crate::RuleId;

/// Registered customers, for the providers that keep them (`Flow::Customers`).
pub mod customers {
    pub use crate::customers::{Customer, CustomerFields, CustomerKey};
}
use customers::{Customer, CustomerFields, CustomerKey};

/// What a provider can be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    Checkout,
    Query,
    Capture,
    Void,
    Refund,
    Cancel,
    Customers,
    Tokens,
    RemoveToken,
    CancelRecurring,
    ApplePaySession,
    Notifications,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Checkout => "checkout",
            Flow::Query => "query",
            Flow::Capture => "capture",
            Flow::Void => "void",
            Flow::Refund => "refund",
            Flow::Cancel => "cancel",
            Flow::Customers => "customers",
            Flow::Tokens => "tokens",
            Flow::RemoveToken => "remove_token",
            Flow::CancelRecurring => "cancel_recurring",
            Flow::ApplePaySession => "apple_pay_session",
            Flow::Notifications => "notifications",
        }
    }
}

/// How the customer reaches the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    /// A QR the customer scans at the counter.
    CounterQr,
    /// A hosted payment page (also shown as a QR, and as a link to send).
    Link,
}

/// A wallet (or payment method) a provider offers, as the counter lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Wallet {
    pub id: &'static str,
    pub label: &'static str,
}

/// A way to pay that a provider offers the payer, and the payer fields it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PayerChannel {
    pub code: &'static str,
    pub label: &'static str,
    pub needs: &'static [&'static str],
}

/// What a provider declares about itself.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The stable id stored with profiles and payments (its folder's name).
    pub provider: &'static str,
    /// The name people read (the provider's own spelling).
    pub label: &'static str,
    pub flows: &'static [Flow],
    pub methods: &'static [PayMethod],
    /// Currencies it takes, by ISO code.
    pub currencies: &'static [&'static str],
    /// Wallets for each method (empty: the provider's page offers its own choice).
    pub counter_wallets: &'static [Wallet],
    pub link_wallets: &'static [Wallet],
    /// Link schemes besides https its answers may carry (WeChat Pay's `weixin`).
    pub wallet_link_schemes: &'static [&'static str],
    /// The addresses `--base-url sandbox` and `--base-url production` stand for.
    pub sandbox_url: &'static str,
    pub production_url: &'static str,
    /// The profile settings it needs, the first naming the account in messages.
    pub settings: &'static [Setting],
    /// The secret it needs (kept only in the OS keyring).
    pub secret: SecretSpec,
    /// Where the provider must know who pays and how: the payer's fields every sale asks
    /// for, and the channels with what each adds (empty: the provider asks nothing).
    pub payer_fields: &'static [&'static str],
    pub payer_channels: &'static [PayerChannel],
    /// What to answer a notification: taken (safely recorded) or not (so it is resent).
    pub acknowledge: fn(taken: bool) -> Acknowledgement,
}

impl Capabilities {
    pub fn supports(&self, flow: Flow) -> bool {
        self.flows.contains(&flow)
    }

    /// The refusal for a flow this provider does not offer.
    pub fn unsupported(&'static self, flow: Flow) -> GatewayError {
        GatewayError::Unsupported { provider: self.label, flow: flow.as_str() }
    }

    /// Checks a profile's settings against this provider's: every required one given and
    /// valid, nothing it does not know. Returns them trimmed, empties dropped, or every
    /// problem at once (a form shows them all).
    pub fn check_all_settings(
        &self,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, Vec<ValidationError>> {
        let mut checked = BTreeMap::new();
        let mut problems = Vec::new();
        for (key, value) in given {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let Some(spec) = self.settings.iter().find(|s| s.key == key) else {
                let known: Vec<_> = self.settings.iter().map(|s| s.key).collect();
                problems.push(ValidationError::new(
                    "settings",
                    format!("{} has no setting '{key}'; it takes {}", self.label, known.join(", ")),
                ));
                continue;
            };
            if spec.public_key_pem {
                use rsa::pkcs8::DecodePublicKey;
                if value.len() > spec.max_chars || rsa::RsaPublicKey::from_public_key_pem(value).is_err() {
                    problems.push(
                        ValidationError::new(spec.key, "must be an RSA public key in PEM (BEGIN PUBLIC KEY)")
                            .because(RuleId::RsaPublicKey),
                    );
                } else {
                    checked.insert(key.clone(), value.to_string());
                }
                continue;
            }
            if let Err(e) = crate::text::check_line(spec.key, value, spec.max_chars) {
                problems.push(e);
            } else if spec.ip_address && value.parse::<std::net::IpAddr>().is_err() {
                problems.push(ValidationError::new(spec.key, "must be an IP address such as 203.0.113.7"));
            } else if spec.digits_only && !value.chars().all(|c| c.is_ascii_digit()) {
                problems.push(
                    ValidationError::new(spec.key, format!("digits only, as {} assigned it", self.label))
                        .because(RuleId::DigitsOnly),
                );
            } else {
                checked.insert(key.clone(), value.to_string());
            }
        }
        for spec in self.settings.iter().filter(|s| s.required) {
            if !checked.contains_key(spec.key) && !problems.iter().any(|p| p.field == spec.key) {
                problems.push(
                    ValidationError::new(spec.key, format!("is required by {} ({})", self.label, spec.label))
                        .because(RuleId::Required),
                );
            }
        }
        if problems.is_empty() {
            Ok(checked)
        } else {
            Err(problems)
        }
    }

    pub fn wallet_label(&self, id: &str) -> Option<&'static str> {
        self.counter_wallets.iter().chain(self.link_wallets).find(|w| w.id == id).map(|w| w.label)
    }
}

/// One request/response pair as it crossed the wire, in one shape for every provider:
/// secrets never appear (headers that carry them are redacted, signatures are kept).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    pub http_status: Option<u16>,
    pub response: Option<Value>,
    /// The answer's `Date` header: the provider's clock, for telling a shop its clock is off.
    pub server_date: Option<String>,
}

/// What a call produced: always the exchange (for the ledger), and the typed result.
#[derive(Debug)]
pub struct Outcome<T> {
    pub exchange: Option<Exchange>,
    pub result: Result<T, GatewayError>,
}

impl<T> Outcome<T> {
    /// A refusal made before anything was sent.
    pub fn refused(e: GatewayError) -> Self {
        Outcome { exchange: None, result: Err(e) }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> Result<U, GatewayError>) -> Outcome<U> {
        Outcome { exchange: self.exchange, result: self.result.and_then(f) }
    }
}

/// A new payment, in the app's terms.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub reference: String,
    pub amount: Money,
    pub method: PayMethod,
    /// The wallet chosen at the counter, where the provider asks for one.
    pub wallet: Option<String>,
    pub terminal: Option<String>,
    /// The payer's phone system (IOS, ANDROID), which a WAP or APP terminal must name.
    pub os_type: Option<String>,
    pub description: Option<String>,
    /// A registered customer (or shopper) of the provider's.
    pub customer_no: Option<String>,
    /// Where the provider sends its notifications, and where the customer returns.
    pub notify_url: String,
    pub return_url: String,
    /// Capture at once (default), or authorise now and capture later.
    pub manual_capture: bool,
    /// The shop's id for the shopper, for cards on file.
    pub shopper_reference: Option<String>,
    /// Keep the card (a token) for the shopper's next payment.
    pub save_card: bool,
    /// Who pays and how, where the provider must know (`Capabilities::payer_fields`).
    pub payer: Option<Payer>,
}

/// The payer and the payment channel, for providers that ask. Every field as the
/// person gave it; the provider's `validate_checkout` holds the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Payer {
    /// How the payer pays: a bank transfer, at a store, by e-wallet (NET_BANKING, STORE,
    /// EWALLET).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The provider's code of the exact way within the channel (a store chain: 711).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub way_code: Option<String>,
    /// The payer's bank account(s), `808-0368988888888`, several separated by `,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The payer's own IP address (the provider limits payments per address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Returned as is by the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
}

impl Payer {
    /// The same with every field trimmed and empty ones dropped; None when nothing is left.
    pub fn tidied(self) -> Option<Payer> {
        let t = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let p = Payer {
            channel: t(self.channel),
            way_code: t(self.way_code),
            bank_number: t(self.bank_number),
            mobile: t(self.mobile),
            first_name: t(self.first_name),
            last_name: t(self.last_name),
            email: t(self.email),
            ip_address: t(self.ip_address),
            postcode: t(self.postcode),
            address: t(self.address),
            remark: t(self.remark),
        };
        (p != Payer::default()).then_some(p)
    }
}

/// The provider's answer to a checkout: the payment as it now stands, and what the
/// customer opens (drawn as the QR).
#[derive(Debug, Clone)]
pub struct CheckoutAnswer {
    pub report: PaymentReport,
    pub link: String,
    /// The provider's id of a hosted session, where it has one.
    pub session_id: Option<String>,
}

/// How a provider finds a payment: by its number once known, else by our reference.
#[derive(Debug, Clone, Copy)]
pub struct PaymentRef<'a> {
    pub reference: &'a str,
    pub transaction_no: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct RefundOrder<'a> {
    pub payment: PaymentRef<'a>,
    /// Unique per refund; a resend reuses it, so it is never paid out twice.
    pub refund_reference: &'a str,
    pub amount: Money,
}

/// A refund the provider accepted: by its own number (where it named one) and whether it
/// says the money was paid out (only an explicit success is success).
#[derive(Debug, Clone)]
pub struct RefundAnswer {
    pub refund_transaction_no: String,
    pub state: crate::RefundState,
}

/// A card kept on file for a shopper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CardToken {
    pub token: String,
    #[serde(default)]
    pub payment_method: String,
    #[serde(default)]
    pub token_usage: String,
    #[serde(default)]
    pub status: String,
    /// The card itself, where the provider describes it (its payment answers do, as
    /// `card_info`; its token list may).
    #[serde(default)]
    pub card_info: Option<CardInfo>,
}

/// A card as a person names it. Kept only when well formed: a brand of letters, four
/// digits, a real month; anything else is left out rather than shown wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CardInfo {
    #[serde(default)]
    pub card_brand: Option<String>,
    #[serde(default)]
    pub last4: Option<String>,
    #[serde(default, alias = "exp_month")]
    pub expiry_month: Option<String>,
    #[serde(default, alias = "exp_year")]
    pub expiry_year: Option<String>,
}

impl CardInfo {
    /// "VISA", uppercase letters, digits, spaces and dashes, at most 24.
    pub fn brand(&self) -> Option<String> {
        let b = self.card_brand.as_deref()?.trim();
        let ok = !b.is_empty()
            && b.chars().count() <= 24
            && b.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-' || c == '_');
        ok.then(|| b.to_ascii_uppercase().replace('_', " "))
    }

    pub fn last_four(&self) -> Option<String> {
        let l = self.last4.as_deref()?.trim();
        (l.len() == 4 && l.bytes().all(|b| b.is_ascii_digit())).then(|| l.to_string())
    }

    /// "03/27".
    pub fn expiry(&self) -> Option<String> {
        let month: u8 = self.expiry_month.as_deref()?.trim().parse().ok()?;
        let year = self.expiry_year.as_deref()?.trim();
        if !(1..=12).contains(&month)
            || !(year.len() == 2 || year.len() == 4)
            || !year.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(format!("{month:02}/{}", &year[year.len() - 2..]))
    }
}
/// Capturing (part of) what was authorised; `last` closes the authorisation.
#[derive(Debug, Clone, Copy)]
pub struct CaptureOrder<'a> {
    pub payment: PaymentRef<'a>,
    pub amount: Money,
    pub last: bool,
}

/// A cancel the provider confirmed: the transaction it closed and its raw status.
#[derive(Debug, Clone)]
pub struct CancelAnswer {
    pub transaction_no: String,
    pub raw_status: String,
}

/// A notification as it arrived: its headers (names lower-case) and the raw body, which
/// signature schemes over the exact bytes need.
#[derive(Debug, Clone, Copy)]
pub struct IncomingNotification<'a> {
    pub headers: &'a BTreeMap<String, String>,
    pub body: &'a [u8],
}

/// A verified notification: what it says about a payment, and its fields (without the
/// signature) for the evidence.
#[derive(Debug, Clone)]
pub struct VerifiedNotification {
    pub report: PaymentReport,
    pub fields: BTreeMap<String, String>,
    /// The sender's one-time value, where the scheme has one: a second use is a replay.
    pub nonce: Option<String>,
    /// The one-time value is the notification itself (its signature): a second use is the
    /// provider resending what it sent, acknowledged but never applied again, rather than a
    /// replay to refuse.
    pub repeat_is_resend: bool,
    /// Whether the payment is to be asked of the provider before its state changes (the
    /// notification being a trigger, not the evidence).
    pub requery: bool,
}

/// Why a notification was refused before it reached any payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRefusal {
    /// A short, stable reason ("signature does not verify", "malformed body").
    pub reason: &'static str,
    /// What it carried, bounded, for the evidence.
    pub fields: BTreeMap<String, String>,
}

/// The answer a provider expects to a notification: taken, or not (so it resends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub http_status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// The flows, one method each. Every provider implements the ones its capabilities
/// declare; the rest keep the default answer, [`GatewayError::Unsupported`].
pub trait Gateway: Send + Sync {
    fn capabilities(&self) -> &'static Capabilities;

    /// Every rule the provider has for a new payment, before anything is recorded or sent.
    fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError>;

    /// Every problem of a new payment at once, for a form that marks each under its field
    /// (a provider that stops at the first one gives that one).
    fn checkout_problems(&self, checkout: &Checkout) -> Vec<ValidationError> {
        self.validate_checkout(checkout).err().into_iter().collect()
    }

    fn checkout(&self, checkout: &Checkout) -> impl Future<Output = Outcome<CheckoutAnswer>> + Send;

    fn query(&self, payment: PaymentRef<'_>) -> impl Future<Output = Outcome<PaymentReport>> + Send;

    fn refund(&self, order: &RefundOrder<'_>) -> impl Future<Output = Outcome<RefundAnswer>> + Send {
        let caps = self.capabilities();
        let _ = order;
        async move { Outcome::refused(caps.unsupported(Flow::Refund)) }
    }

    fn cancel(&self, payment: PaymentRef<'_>) -> impl Future<Output = Outcome<CancelAnswer>> + Send {
        let caps = self.capabilities();
        let _ = payment;
        async move { Outcome::refused(caps.unsupported(Flow::Cancel)) }
    }

    /// Captures authorised money. Accepted: the payment as it now stands where the answer
    /// says (None where it says nothing; the core then asks), never proof by itself.
    fn capture(&self, order: &CaptureOrder<'_>) -> impl Future<Output = Outcome<Option<PaymentReport>>> + Send {
        let caps = self.capabilities();
        let _ = order;
        async move { Outcome::refused(caps.unsupported(Flow::Capture)) }
    }

    /// Releases what is still authorised (all of it, or the rest after a partial capture).
    /// Accepted: as `capture`.
    fn void(
        &self,
        payment: PaymentRef<'_>,
        reason: &str,
    ) -> impl Future<Output = Outcome<Option<PaymentReport>>> + Send {
        let caps = self.capabilities();
        let _ = (payment, reason);
        async move { Outcome::refused(caps.unsupported(Flow::Void)) }
    }

    /// The cards a shopper has on file.
    fn tokens(&self, shopper: &str) -> impl Future<Output = Outcome<Vec<CardToken>>> + Send {
        let caps = self.capabilities();
        let _ = shopper;
        async move { Outcome::refused(caps.unsupported(Flow::Tokens)) }
    }

    fn remove_token(&self, shopper: &str, token: &str) -> impl Future<Output = Outcome<()>> + Send {
        let caps = self.capabilities();
        let _ = (shopper, token);
        async move { Outcome::refused(caps.unsupported(Flow::RemoveToken)) }
    }

    fn cancel_recurring(&self, shopper: &str, agreement: &str) -> impl Future<Output = Outcome<()>> + Send {
        let caps = self.capabilities();
        let _ = (shopper, agreement);
        async move { Outcome::refused(caps.unsupported(Flow::CancelRecurring)) }
    }

    /// An Apple Pay merchant session for `domain` (no scheme, no port).
    fn apple_pay_session(
        &self,
        domain: &str,
        display_name: Option<&str>,
    ) -> impl Future<Output = Outcome<Value>> + Send {
        let caps = self.capabilities();
        let _ = (domain, display_name);
        async move { Outcome::refused(caps.unsupported(Flow::ApplePaySession)) }
    }

    /// Registers a customer (`Flow::Customers`).
    fn customer_create(&self, fields: &CustomerFields) -> impl Future<Output = Outcome<Customer>> + Send {
        let caps = self.capabilities();
        let _ = fields;
        async move { Outcome::refused(caps.unsupported(Flow::Customers)) }
    }

    fn customer_retrieve(&self, key: &CustomerKey) -> impl Future<Output = Outcome<Customer>> + Send {
        let caps = self.capabilities();
        let _ = key;
        async move { Outcome::refused(caps.unsupported(Flow::Customers)) }
    }

    fn customer_update(
        &self,
        customer_no: &str,
        changes: &CustomerFields,
    ) -> impl Future<Output = Outcome<Customer>> + Send {
        let caps = self.capabilities();
        let _ = (customer_no, changes);
        async move { Outcome::refused(caps.unsupported(Flow::Customers)) }
    }

    /// Checks a notification's signature (over exactly what arrived) and reads it.
    fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal>;
}

#[cfg(test)]
mod card_info_tests {
    use super::CardInfo;

    #[test]
    fn a_card_in_words_only_when_well_formed() {
        let card: CardInfo =
            serde_json::from_str(r#"{"card_brand":"visa","last4":"4242","exp_month":"3","exp_year":"2027"}"#).unwrap();
        assert_eq!(
            (card.brand(), card.last_four(), card.expiry()),
            (Some("VISA".into()), Some("4242".into()), Some("03/27".into()))
        );
        let odd: CardInfo =
            serde_json::from_str(r#"{"card_brand":"<b>x</b>","last4":"42a2","expiry_month":"13","expiry_year":"27"}"#)
                .unwrap();
        assert_eq!((odd.brand(), odd.last_four(), odd.expiry()), (None, None, None));
    }
}
