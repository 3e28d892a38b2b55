//! The registration point: which providers exist, and the one place a profile's provider
//! name becomes its gateway. Adding a provider adds a line here and its own folder.

use crate::gateway::{
    CancelAnswer, Capabilities, Checkout, CheckoutAnswer, Gateway, IncomingNotification, NotificationRefusal, Outcome,
    PaymentRef, RefundAnswer, RefundOrder, VerifiedNotification,
};
use crate::{paykka, pockyt, vexora, ApiSecret, PaymentReport, ValidationError};
use std::collections::BTreeMap;

/// Every provider Paydesk speaks.
pub static PROVIDERS: &[&Capabilities] =
    &[&pockyt::gateway::CAPABILITIES, &paykka::gateway::CAPABILITIES, &vexora::gateway::CAPABILITIES];

pub fn capabilities_of(provider: &str) -> Option<&'static Capabilities> {
    PROVIDERS.iter().copied().find(|c| c.provider == provider)
}

/// What a gateway is built from: a profile's provider, address and settings, its secret
/// (from the keyring) and the profile's reused HTTP client.
pub struct GatewaySetup<'a> {
    pub provider: &'a str,
    /// The profile's name (PayKKa signs webhooks over the path that names it).
    pub profile: &'a str,
    /// Where the provider posts notifications (its public URL, maybe behind a tunnel or
    /// proxy): PayKKa signs webhooks over this URL's path, not the local listener's.
    pub notify_url: Option<&'a str>,
    pub base_url: &'a str,
    pub settings: &'a BTreeMap<String, String>,
    pub secret: ApiSecret,
    pub http: reqwest::Client,
}

fn setting<'a>(settings: &'a BTreeMap<String, String>, key: &'static str) -> Result<&'a str, ValidationError> {
    settings
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ValidationError::new(key, "is required"))
}

/// The payment reference a notification names, read before it is verified (to find its
/// profile when the address does not say). Never trusted beyond that look-up.
pub fn notification_reference(provider: &str, incoming: IncomingNotification<'_>) -> Option<String> {
    match provider {
        "pockyt" => form_urlencoded::parse(incoming.body).find(|(k, _)| k == "reference").map(|(_, v)| v.into_owned()),
        "vexora" => vexora::gateway::notification_fields(incoming.body)?.remove("tradeNo"),
        _ => None,
    }
}

/// Checks a secret before it goes into the keyring: Pockyt's API token (one line), or
/// PayKKa's RSA private key (PEM, PKCS#8 or PKCS#1). The error never quotes the secret.
pub fn check_secret(provider: &str, secret: &ApiSecret) -> Result<(), ValidationError> {
    let text = secret.expose().trim();
    if text.is_empty() {
        return Err(ValidationError::new("secret", "must not be empty"));
    }
    match provider {
        "paykka" => paykka::signing::MerchantKey::from_pem(text)
            .map(|_| ())
            .map_err(|e| ValidationError::new("secret", format!("{e}; nothing was saved"))),
        _ => {
            let what = if provider == "vexora" { "the app secret" } else { "the API token" };
            if text.len() > 256 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ValidationError::new(
                    "secret",
                    format!("must be {what}: one word, at most 256 characters"),
                ));
            }
            Ok(())
        }
    }
}

/// A profile's gateway, whichever provider it is.
#[derive(Debug, Clone)]
pub enum AnyGateway {
    Pockyt(pockyt::gateway::PockytGateway),
    Paykka(paykka::gateway::PaykkaGateway),
    Vexora(vexora::gateway::VexoraGateway),
}

macro_rules! dispatch {
    ($self:ident, $g:ident => $call:expr) => {
        match $self {
            AnyGateway::Pockyt($g) => $call,
            AnyGateway::Paykka($g) => $call,
            AnyGateway::Vexora($g) => $call,
        }
    };
}

impl AnyGateway {
    pub fn new(setup: GatewaySetup<'_>) -> Result<Self, ValidationError> {
        match setup.provider {
            "pockyt" => {
                let client = pockyt::PockytClient::with_http(
                    setup.http,
                    setup.base_url,
                    setting(setup.settings, "merchant_no")?,
                    setting(setup.settings, "store_no")?,
                    setup.secret,
                );
                Ok(AnyGateway::Pockyt(pockyt::gateway::PockytGateway::new(client)))
            }
            "paykka" => {
                let key = paykka::signing::MerchantKey::from_pem(setup.secret.expose())
                    .map_err(|e| ValidationError::new("secret", e.to_string()))?;
                let client = paykka::client::PaykkaClient::new(
                    setup.http,
                    setup.base_url,
                    setting(setup.settings, "merchant_id")?,
                    setting(setup.settings, "app_id")?,
                    key,
                    setup.settings.get("platform_public_key").cloned().filter(|k| !k.is_empty()),
                )
                .requiring_signed_answers(setup.settings.get("require_signed_answers").is_some_and(|v| v == "true"));
                let notify_path = setup
                    .notify_url
                    .and_then(|u| url::Url::parse(u).ok())
                    .map(|u| u.path().to_string())
                    .filter(|p| p.starts_with('/') && p.len() > 1)
                    .unwrap_or_else(|| format!("/notify/paykka/{}", setup.profile));
                Ok(AnyGateway::Paykka(paykka::gateway::PaykkaGateway::new(client, notify_path)))
            }
            "vexora" => {
                let client = vexora::VexoraClient::new(
                    setup.http,
                    setup.base_url,
                    setting(setup.settings, "merchant_no")?,
                    setup.secret,
                );
                Ok(AnyGateway::Vexora(
                    vexora::gateway::VexoraGateway::new(client)
                        .with_public_ip(setup.settings.get("public_ip").cloned()),
                ))
            }
            other => Err(ValidationError::new("provider", format!("'{other}' is not a provider Paydesk knows"))),
        }
    }

    pub fn capabilities(&self) -> &'static Capabilities {
        dispatch!(self, g => g.capabilities())
    }

    pub fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError> {
        dispatch!(self, g => g.validate_checkout(checkout))
    }

    pub fn checkout_problems(&self, checkout: &Checkout) -> Vec<ValidationError> {
        dispatch!(self, g => g.checkout_problems(checkout))
    }

    pub async fn checkout(&self, checkout: &Checkout) -> Outcome<CheckoutAnswer> {
        dispatch!(self, g => g.checkout(checkout).await)
    }

    pub async fn query(&self, payment: PaymentRef<'_>) -> Outcome<PaymentReport> {
        dispatch!(self, g => g.query(payment).await)
    }

    pub async fn refund(&self, order: &RefundOrder<'_>) -> Outcome<RefundAnswer> {
        dispatch!(self, g => g.refund(order).await)
    }

    pub async fn cancel(&self, payment: PaymentRef<'_>) -> Outcome<CancelAnswer> {
        dispatch!(self, g => g.cancel(payment).await)
    }

    pub async fn tokens(&self, shopper: &str) -> Outcome<Vec<crate::gateway::CardToken>> {
        dispatch!(self, g => g.tokens(shopper).await)
    }

    pub async fn remove_token(&self, shopper: &str, token: &str) -> Outcome<()> {
        dispatch!(self, g => g.remove_token(shopper, token).await)
    }

    pub async fn cancel_recurring(&self, shopper: &str, agreement: &str) -> Outcome<()> {
        dispatch!(self, g => g.cancel_recurring(shopper, agreement).await)
    }

    pub async fn apple_pay_session(&self, domain: &str, display_name: Option<&str>) -> Outcome<serde_json::Value> {
        dispatch!(self, g => g.apple_pay_session(domain, display_name).await)
    }

    pub async fn capture(&self, order: &crate::gateway::CaptureOrder<'_>) -> Outcome<Option<PaymentReport>> {
        dispatch!(self, g => g.capture(order).await)
    }

    pub async fn void(&self, payment: PaymentRef<'_>, reason: &str) -> Outcome<Option<PaymentReport>> {
        dispatch!(self, g => g.void(payment, reason).await)
    }

    pub fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal> {
        dispatch!(self, g => g.verify_notification(incoming))
    }

    /// The customers API, where the provider has one.
    pub fn customers(&self) -> Result<&pockyt::gateway::PockytGateway, crate::GatewayError> {
        match self {
            AnyGateway::Pockyt(g) => Ok(g),
            other => Err(other.capabilities().unsupported(crate::gateway::Flow::Customers)),
        }
    }
}

// The providers' own words for "no such transaction", kept here with the other places a
// provider name is known, so the error type itself names none.
impl crate::GatewayError {
    /// The provider says it has no such transaction (Pockyt's 000021 "no related
    /// information"): a payment it never saw.
    pub fn is_unknown_transaction(&self) -> bool {
        matches!(
            self,
            crate::GatewayError::Rejected { provider, code, .. }
                if (*provider, code.as_str()) == ("Pockyt", "000021")
                    || (*provider, code.as_str()) == ("PayKKa", "206024")
                    || (*provider, code.as_str()) == ("Vexora", crate::vexora::transformers::CODE_UNKNOWN_TRADE)
        )
    }
}
