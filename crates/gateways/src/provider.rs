//! A provider as a value: [`Provider`] (what it offers, how its secret is checked, how its
//! notifications name a payment, how a gateway is built) and [`DynGateway`], the flows of
//! any [`Gateway`] behind one pointer. The registry holds a list of providers.

use crate::customers::{Customer, CustomerFields, CustomerKey};
use crate::gateway::{
    CancelAnswer, Capabilities, CaptureOrder, CardToken, Checkout, CheckoutAnswer, Gateway, IncomingNotification,
    NotificationRefusal, Outcome, PaymentRef, RefundAnswer, RefundOrder, VerifiedNotification,
};
use crate::RuleId;
use crate::{PaymentReport, ValidationError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;

/// A flow's answer to come, boxed: what a [`DynGateway`] returns.
pub type Pending<'a, T> = std::pin::Pin<Box<dyn Future<Output = Outcome<T>> + Send + 'a>>;

/// [`Gateway`] as a trait object: the same flows with boxed futures, so a provider is a
/// value the registry holds, not a variant of a closed enum. Every `Gateway` is one.
pub trait DynGateway: Send + Sync + std::fmt::Debug {
    fn capabilities(&self) -> &'static Capabilities;
    fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError>;
    fn checkout_problems(&self, checkout: &Checkout) -> Vec<ValidationError>;
    fn checkout<'a>(&'a self, checkout: &'a Checkout) -> Pending<'a, CheckoutAnswer>;
    fn query<'a>(&'a self, payment: PaymentRef<'a>) -> Pending<'a, PaymentReport>;
    fn refund<'a>(&'a self, order: &'a RefundOrder<'a>) -> Pending<'a, RefundAnswer>;
    fn cancel<'a>(&'a self, payment: PaymentRef<'a>) -> Pending<'a, CancelAnswer>;
    fn capture<'a>(&'a self, order: &'a CaptureOrder<'a>) -> Pending<'a, Option<PaymentReport>>;
    fn void<'a>(&'a self, payment: PaymentRef<'a>, reason: &'a str) -> Pending<'a, Option<PaymentReport>>;
    fn tokens<'a>(&'a self, shopper: &'a str) -> Pending<'a, Vec<CardToken>>;
    fn remove_token<'a>(&'a self, shopper: &'a str, token: &'a str) -> Pending<'a, ()>;
    fn cancel_recurring<'a>(&'a self, shopper: &'a str, agreement: &'a str) -> Pending<'a, ()>;
    fn apple_pay_session<'a>(&'a self, domain: &'a str, display_name: Option<&'a str>) -> Pending<'a, Value>;
    fn customer_create<'a>(&'a self, fields: &'a CustomerFields) -> Pending<'a, Customer>;
    fn customer_retrieve<'a>(&'a self, key: &'a CustomerKey) -> Pending<'a, Customer>;
    fn customer_update<'a>(&'a self, customer_no: &'a str, changes: &'a CustomerFields) -> Pending<'a, Customer>;
    fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal>;
}

impl<G: Gateway + std::fmt::Debug> DynGateway for G {
    fn capabilities(&self) -> &'static Capabilities {
        Gateway::capabilities(self)
    }
    fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError> {
        Gateway::validate_checkout(self, checkout)
    }
    fn checkout_problems(&self, checkout: &Checkout) -> Vec<ValidationError> {
        Gateway::checkout_problems(self, checkout)
    }
    fn checkout<'a>(&'a self, checkout: &'a Checkout) -> Pending<'a, CheckoutAnswer> {
        Box::pin(Gateway::checkout(self, checkout))
    }
    fn query<'a>(&'a self, payment: PaymentRef<'a>) -> Pending<'a, PaymentReport> {
        Box::pin(Gateway::query(self, payment))
    }
    fn refund<'a>(&'a self, order: &'a RefundOrder<'a>) -> Pending<'a, RefundAnswer> {
        Box::pin(Gateway::refund(self, order))
    }
    fn cancel<'a>(&'a self, payment: PaymentRef<'a>) -> Pending<'a, CancelAnswer> {
        Box::pin(Gateway::cancel(self, payment))
    }
    fn capture<'a>(&'a self, order: &'a CaptureOrder<'a>) -> Pending<'a, Option<PaymentReport>> {
        Box::pin(Gateway::capture(self, order))
    }
    fn void<'a>(&'a self, payment: PaymentRef<'a>, reason: &'a str) -> Pending<'a, Option<PaymentReport>> {
        Box::pin(Gateway::void(self, payment, reason))
    }
    fn tokens<'a>(&'a self, shopper: &'a str) -> Pending<'a, Vec<CardToken>> {
        Box::pin(Gateway::tokens(self, shopper))
    }
    fn remove_token<'a>(&'a self, shopper: &'a str, token: &'a str) -> Pending<'a, ()> {
        Box::pin(Gateway::remove_token(self, shopper, token))
    }
    fn cancel_recurring<'a>(&'a self, shopper: &'a str, agreement: &'a str) -> Pending<'a, ()> {
        Box::pin(Gateway::cancel_recurring(self, shopper, agreement))
    }
    fn apple_pay_session<'a>(&'a self, domain: &'a str, display_name: Option<&'a str>) -> Pending<'a, Value> {
        Box::pin(Gateway::apple_pay_session(self, domain, display_name))
    }
    fn customer_create<'a>(&'a self, fields: &'a CustomerFields) -> Pending<'a, Customer> {
        Box::pin(Gateway::customer_create(self, fields))
    }
    fn customer_retrieve<'a>(&'a self, key: &'a CustomerKey) -> Pending<'a, Customer> {
        Box::pin(Gateway::customer_retrieve(self, key))
    }
    fn customer_update<'a>(&'a self, customer_no: &'a str, changes: &'a CustomerFields) -> Pending<'a, Customer> {
        Box::pin(Gateway::customer_update(self, customer_no, changes))
    }
    fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal> {
        Gateway::verify_notification(self, incoming)
    }
}

/// What a gateway is built from: a profile's provider, address and settings, its secret
/// (from the keyring) and the profile's reused HTTP client.
pub struct GatewaySetup<'a> {
    pub provider: &'a str,
    /// The profile's name (a provider may sign notifications over the path that names it).
    pub profile: &'a str,
    /// Where the provider posts notifications (its public URL, maybe behind a tunnel or
    /// proxy): a provider may sign them over this URL's path, not the local listener's.
    pub notify_url: Option<&'a str>,
    pub base_url: &'a str,
    pub settings: &'a BTreeMap<String, String>,
    pub secret: crate::ApiSecret,
    pub http: reqwest::Client,
}

impl GatewaySetup<'_> {
    /// A setting the provider needs, or the field error naming it.
    pub fn required(&self, key: &'static str) -> Result<&str, ValidationError> {
        self.optional(key).ok_or_else(|| ValidationError::new(key, "is required").because(RuleId::Required))
    }

    /// A setting given and not empty.
    pub fn optional(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// One provider Paydesk speaks: what it offers and needs (its capabilities, with the
/// settings a profile declares), how its secret is checked, how its notifications name a
/// payment, and how a profile's gateway is built. The registry is a list of these.
pub trait Provider: Sync {
    fn capabilities(&self) -> &'static Capabilities;

    /// Checks a secret before it goes into the keyring; the error never quotes it. By
    /// default an API token: one word.
    fn check_secret(&self, secret: &str) -> Result<(), ValidationError> {
        one_word_secret("the API token", secret)
    }

    /// The payment reference a notification names, read before it is verified (to find its
    /// profile when the address does not say); never trusted beyond that look-up.
    fn notification_reference(&self, incoming: IncomingNotification<'_>) -> Option<String> {
        let _ = incoming;
        None
    }

    /// The code this provider refuses a transaction it never saw with: a payment that
    /// never reached it (the core then knows the payment was never taken).
    fn unknown_transaction_code(&self) -> Option<&'static str> {
        None
    }

    /// Whether this provider documents no error codes, so that a refusal of a reference that
    /// cannot exist, unless it is of the caller, means it accepted our signature.
    fn refuses_only_in_words(&self) -> bool {
        false
    }

    fn build(&self, setup: GatewaySetup<'_>) -> Result<std::sync::Arc<dyn DynGateway>, ValidationError>;
}

/// A secret that is one word of at most 256 characters (`what` names it in the error).
pub fn one_word_secret(what: &str, text: &str) -> Result<(), ValidationError> {
    if text.len() > 256 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ValidationError::new("secret", format!("must be {what}: one word, at most 256 characters"))
            .because(RuleId::Characters));
    }
    Ok(())
}
