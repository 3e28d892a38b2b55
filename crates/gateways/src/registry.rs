//! The registry's lookups: a profile's provider name to its provider and gateway. The list
//! of providers itself is [`crate::PROVIDERS`], beside their folders' `mod` lines.

use crate::customers::{Customer, CustomerFields, CustomerKey};
use crate::gateway::{
    CancelAnswer, Capabilities, Checkout, CheckoutAnswer, IncomingNotification, NotificationRefusal, Outcome,
    PaymentRef, RefundAnswer, RefundOrder, VerifiedNotification,
};
pub use crate::provider::GatewaySetup;
use crate::provider::{DynGateway, Provider};
pub use crate::PROVIDERS;
use crate::{ApiSecret, PaymentReport, ValidationError};
use std::sync::Arc;

pub fn provider(name: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.capabilities().provider == name)
}

pub fn capabilities_of(name: &str) -> Option<&'static Capabilities> {
    provider(name).map(|p| p.capabilities())
}

/// The payment reference a notification names, read before it is verified (to find its
/// profile when the address does not say). Never trusted beyond that look-up.
pub fn notification_reference(name: &str, incoming: IncomingNotification<'_>) -> Option<String> {
    provider(name)?.notification_reference(incoming)
}

/// Checks a secret before it goes into the keyring, as its provider reads it. The error
/// never quotes the secret.
pub fn check_secret(name: &str, secret: &ApiSecret) -> Result<(), ValidationError> {
    let text = secret.expose().trim();
    if text.is_empty() {
        return Err(ValidationError::new("secret", "must not be empty"));
    }
    match provider(name) {
        Some(p) => p.check_secret(text),
        None => crate::provider::one_word_secret("the API token", text),
    }
}

/// A profile's gateway, whichever provider it is.
#[derive(Debug, Clone)]
pub struct AnyGateway(Arc<dyn DynGateway>);

impl AnyGateway {
    pub fn new(setup: GatewaySetup<'_>) -> Result<Self, ValidationError> {
        let name = setup.provider;
        let p = provider(name)
            .ok_or_else(|| ValidationError::new("provider", format!("'{name}' is not a provider Paydesk knows")))?;
        Ok(AnyGateway(p.build(setup)?))
    }

    pub fn capabilities(&self) -> &'static Capabilities {
        self.0.capabilities()
    }

    pub fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError> {
        self.0.validate_checkout(checkout)
    }

    pub fn checkout_problems(&self, checkout: &Checkout) -> Vec<ValidationError> {
        self.0.checkout_problems(checkout)
    }

    pub async fn checkout(&self, checkout: &Checkout) -> Outcome<CheckoutAnswer> {
        self.0.checkout(checkout).await
    }

    pub async fn query(&self, payment: PaymentRef<'_>) -> Outcome<PaymentReport> {
        self.0.query(payment).await
    }

    pub async fn refund(&self, order: &RefundOrder<'_>) -> Outcome<RefundAnswer> {
        self.0.refund(order).await
    }

    pub async fn cancel(&self, payment: PaymentRef<'_>) -> Outcome<CancelAnswer> {
        self.0.cancel(payment).await
    }

    pub async fn tokens(&self, shopper: &str) -> Outcome<Vec<crate::gateway::CardToken>> {
        self.0.tokens(shopper).await
    }

    pub async fn remove_token(&self, shopper: &str, token: &str) -> Outcome<()> {
        self.0.remove_token(shopper, token).await
    }

    pub async fn cancel_recurring(&self, shopper: &str, agreement: &str) -> Outcome<()> {
        self.0.cancel_recurring(shopper, agreement).await
    }

    pub async fn apple_pay_session(&self, domain: &str, display_name: Option<&str>) -> Outcome<serde_json::Value> {
        self.0.apple_pay_session(domain, display_name).await
    }

    pub async fn capture(&self, order: &crate::gateway::CaptureOrder<'_>) -> Outcome<Option<PaymentReport>> {
        self.0.capture(order).await
    }

    pub async fn void(&self, payment: PaymentRef<'_>, reason: &str) -> Outcome<Option<PaymentReport>> {
        self.0.void(payment, reason).await
    }

    pub fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal> {
        self.0.verify_notification(incoming)
    }

    pub async fn customer_create(&self, fields: &CustomerFields) -> Outcome<Customer> {
        self.0.customer_create(fields).await
    }

    pub async fn customer_retrieve(&self, key: &CustomerKey) -> Outcome<Customer> {
        self.0.customer_retrieve(key).await
    }

    pub async fn customer_update(&self, customer_no: &str, changes: &CustomerFields) -> Outcome<Customer> {
        self.0.customer_update(customer_no, changes).await
    }
}

impl crate::GatewayError {
    /// The provider says it has no such transaction (the code its provider declares for "no
    /// such payment"): a payment it never saw.
    pub fn is_unknown_transaction(&self) -> bool {
        let crate::GatewayError::Rejected { provider: label, code, .. } = self else { return false };
        PROVIDERS
            .iter()
            .find(|p| p.capabilities().label == *label)
            .and_then(|p| p.unknown_transaction_code())
            .is_some_and(|unknown| unknown == code)
    }
}
