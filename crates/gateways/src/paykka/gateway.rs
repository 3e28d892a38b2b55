//! PayKKa behind the one gateway interface: checkout is a hosted session (its URL is the
//! QR and the link), query reads the order with its balances, refunds are their own
//! orders; webhooks are verified with PayKKa's platform key over the raw body.

use super::client::{answer_verifies, PaykkaClient};
use super::transformers::*;
use crate::gateway::{
    Acknowledgement, Capabilities, CaptureOrder, CardToken, Checkout, CheckoutAnswer, Flow, Gateway,
    IncomingNotification, NotificationRefusal, Outcome, PayMethod, PaymentRef, RefundAnswer, RefundOrder, SecretSpec,
    Setting, VerifiedNotification,
};
use crate::RuleId;
use crate::{PaymentReport, PaymentStatus, ValidationError};
use serde_json::json;

pub const SESSION_PATH: &str = "/v3/payment/acq/session";
pub const QUERY_PATH: &str = "/v3/payment/acq/query";
pub const CAPTURE_PATH: &str = "/v3/payment/acq/capture";
pub const VOID_PATH: &str = "/v3/payment/acq/void";
pub const REFUND_PATH: &str = "/v3/payment/acq/refund";
pub const TOKEN_QUERY_PATH: &str = "/v3/payment/acq/token/query";
pub const TOKEN_REMOVE_PATH: &str = "/v3/payment/acq/token/remove";
pub const RECURRING_CANCEL_PATH: &str = "/v3/payment/acq/recurring/cancel";
pub const APPLE_PAY_PATH: &str = "/v3/payment/acq/apple-pay/create-session";

pub static CAPABILITIES: Capabilities = Capabilities {
    provider: "paykka",
    label: "PayKKa",
    flows: &[
        Flow::Checkout,
        Flow::Query,
        Flow::Capture,
        Flow::Void,
        Flow::Refund,
        Flow::Tokens,
        Flow::RemoveToken,
        Flow::CancelRecurring,
        Flow::ApplePaySession,
        Flow::Notifications,
    ],
    methods: &[PayMethod::CounterQr, PayMethod::Link],
    currencies: &["USD", "EUR", "GBP", "HKD", "SGD", "JPY", "AUD", "CAD", "CNY"],
    // The hosted page offers the shopper its own choice of cards and wallets.
    counter_wallets: &[],
    link_wallets: &[],
    wallet_link_schemes: &[],
    sandbox_url: super::SANDBOX_URL,
    production_url: super::PRODUCTION_URL,
    settings: &[
        Setting {
            key: "merchant_id",
            label: "merchant id",
            required: true,
            digits_only: true,
            max_chars: 32,
            public_key_pem: false,
            flag: false,
            form_label: "Merchant id",
            summary: "merchant id",
            ip_address: false,
        },
        Setting {
            key: "app_id",
            label: "app id",
            required: true,
            digits_only: false,
            max_chars: 64,
            public_key_pem: false,
            flag: false,
            form_label: "App id",
            summary: "app",
            ip_address: false,
        },
        Setting {
            key: "platform_public_key",
            label: "PayKKa platform public key (PEM)",
            required: false,
            digits_only: false,
            max_chars: 4096,
            public_key_pem: true,
            flag: false,
            form_label: "PayKKa platform public key (PEM, optional)",
            summary: "",
            ip_address: false,
        },
        Setting {
            key: "require_signed_answers",
            label: "require signed answers (true or empty)",
            required: false,
            digits_only: false,
            max_chars: 5,
            public_key_pem: false,
            flag: true,
            form_label: "Refuse answers not signed with the platform key",
            summary: "",
            ip_address: false,
        },
    ],
    secret: SecretSpec { form_label: "Merchant private key (PEM)", multiline: true, summary: "key" },
    payer_fields: &[],
    payer_channels: &[],
    acknowledge,
};

/// PayKKa reads HTTP 200 with `000000` as taken; 401 makes it resend.
fn acknowledge(taken: bool) -> Acknowledgement {
    let (http_status, body) = if taken {
        (200, r#"{"ret_code":"000000","ret_msg":"Success"}"#)
    } else {
        (401, r#"{"ret_code":"206003","ret_msg":"signature error"}"#)
    };
    Acknowledgement { http_status, content_type: "application/json", body: body.into() }
}

/// What a refund answer proves: only SUCCESS with PayKKa's refund order is paid out;
/// PROCESSING, a status we do not know, or no refund order leave it pending until asked
/// again; FAILURE ends it; an answer about another refund is not ours.
pub(crate) fn refund_answer(r: Option<RefundData>, sent: &str) -> Result<RefundAnswer, crate::GatewayError> {
    let r = r.unwrap_or_default();
    if !r.refund_trans_id.is_empty() && r.refund_trans_id != sent {
        return Err(crate::GatewayError::Protocol {
            provider: "PayKKa",
            message: "the refund answer is about another refund".into(),
        });
    }
    if r.status == "FAILURE" {
        return Err(crate::GatewayError::Rejected {
            provider: "PayKKa",
            code: "FAILURE".into(),
            message: "the refund failed".into(),
            transient: false,
        });
    }
    let done = r.status == "SUCCESS" && !r.refund_order_id.trim().is_empty();
    let state = if done { crate::RefundState::Succeeded } else { crate::RefundState::Pending };
    Ok(RefundAnswer { refund_transaction_no: r.refund_order_id, state })
}

/// How old (or how far ahead) a webhook's timestamp may be.
pub const WEBHOOK_TOLERANCE_MS: u64 = 5 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct PaykkaGateway {
    client: PaykkaClient,
    /// Where this profile receives webhooks (the path the platform signs).
    notify_path: String,
}

impl PaykkaGateway {
    pub fn new(client: PaykkaClient, notify_path: String) -> Self {
        Self { client, notify_path }
    }

    pub fn client(&self) -> &PaykkaClient {
        &self.client
    }

    fn lookup(payment: PaymentRef<'_>) -> serde_json::Value {
        match payment.transaction_no {
            Some(order_id) => json!({"order_id": order_id}),
            None => json!({"trans_id": payment.reference}),
        }
    }
}

impl Gateway for PaykkaGateway {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError> {
        if !CAPABILITIES.currencies.contains(&checkout.amount.currency.code()) {
            return Err(ValidationError::new(
                "currency",
                format!(
                    "PayKKa does not take {}; use one of {}",
                    checkout.amount.currency,
                    CAPABILITIES.currencies.join(", ")
                ),
            ));
        }
        if checkout.save_card && checkout.shopper_reference.is_none() {
            return Err(ValidationError::new("shopper_reference", "is required to save the card")
                .because(RuleId::Required)
                .option("--shopper-reference"));
        }
        if let Some(s) = &checkout.shopper_reference {
            crate::text::check_line("shopper_reference", s, 64)?;
            if s.trim().is_empty() {
                return Err(ValidationError::new("shopper_reference", "must not be empty"));
            }
        }
        if checkout.reference.is_empty() || checkout.reference.len() > 64 {
            return Err(ValidationError::new("reference", "must be 1 to 64 characters").because(RuleId::Characters));
        }
        crate::links::check_required_url("ipn_url", &checkout.notify_url, "PayKKa")?;
        crate::links::check_required_url("callback_url", &checkout.return_url, "PayKKa")?;
        Ok(())
    }

    async fn checkout(&self, checkout: &Checkout) -> Outcome<CheckoutAnswer> {
        // RFC 3339 in UTC ("2026-12-06T07:30:00Z").
        let expire = (jiff::Timestamp::now() + jiff::SignedDuration::from_mins(30)).to_string();
        let mut payment = json!({"store_payment_method": checkout.save_card});
        if let Some(s) = &checkout.shopper_reference {
            payment["shopper_reference"] = json!(s);
        }
        if checkout.save_card {
            payment["token_usage"] = json!("CARD_ON_FILE");
        }
        let body = json!({
            "trans_id": checkout.reference,
            "payment_type": "PURCHASE",
            "currency": checkout.amount.currency.code(),
            "amount": wire_amount(checkout.amount),
            "expire_time": expire,
            "session_mode": "HOSTED",
            "return_url": checkout.return_url,
            "cancel_url": checkout.return_url,
            "notify_url": checkout.notify_url,
            "capture_method": if checkout.manual_capture { "MANUAL" } else { "AUTOMATIC" },
            "payment": payment,
        });
        let amount = checkout.amount;
        self.client.call::<SessionData>(SESSION_PATH, body).await.map(move |s| {
            let currency = if s.currency.is_empty() { amount.currency.code().to_string() } else { s.currency.clone() };
            let report = PaymentReport {
                reference: s.trans_id.clone(),
                // The order exists once the shopper pays; until then the session stands for it.
                transaction_no: String::new(),
                // A session that names no amount is not a session for ours: the core
                // refuses it as an answer about another payment.
                amount: s.amount.and_then(|a| {
                    crate::Currency::from_code(&currency).ok().filter(|c| c.code() == currency).map(|c| from_wire(a, c))
                }),
                currency,
                raw_status: "PROCESSING".into(),
                status: PaymentStatus::Pending,
                balances: None,
                paid_amount: None,
            };
            Ok(CheckoutAnswer { report, link: s.session_url, session_id: Some(s.session_id) })
        })
    }

    async fn query(&self, payment: PaymentRef<'_>) -> Outcome<PaymentReport> {
        self.client.call::<OrderData>(QUERY_PATH, Self::lookup(payment)).await.map(|o| Ok(o.report()))
    }

    async fn refund(&self, order: &RefundOrder<'_>) -> Outcome<RefundAnswer> {
        let Some(order_id) = order.payment.transaction_no else {
            return Outcome::refused(crate::GatewayError::Invalid(ValidationError::new(
                "reference",
                "PayKKa has not named this payment's order yet; refresh it first",
            )));
        };
        let body = json!({
            "refund_trans_id": order.refund_reference,
            "ori_order_id": order_id,
            "refund_amount": wire_amount(order.amount),
            "currency": order.amount.currency.code(),
            "reason": "REQUESTED_BY_CUSTOMER",
        });
        let sent = order.refund_reference.to_string();
        self.client.call::<Option<RefundData>>(REFUND_PATH, body).await.map(move |r| refund_answer(r, &sent))
    }

    async fn capture(&self, order: &CaptureOrder<'_>) -> Outcome<Option<PaymentReport>> {
        let Some(order_id) = order.payment.transaction_no else {
            return Outcome::refused(crate::GatewayError::Invalid(ValidationError::new(
                "reference",
                "PayKKa has not named this payment's order yet; refresh it first",
            )));
        };
        let body = json!({
            "order_id": order_id,
            "amount": wire_amount(order.amount),
            "currency": order.amount.currency.code(),
            "capture_final": order.last,
        });
        // Documented with no answer body: whatever order data comes is read, none is needed.
        self.client.call_no_content::<OrderData>(CAPTURE_PATH, body).await.map(|o| Ok(o.map(|o| o.report())))
    }

    async fn void(&self, payment: PaymentRef<'_>, reason: &str) -> Outcome<Option<PaymentReport>> {
        let Some(order_id) = payment.transaction_no else {
            return Outcome::refused(crate::GatewayError::Invalid(ValidationError::new(
                "reference",
                "PayKKa has not named this payment's order yet; refresh it first",
            )));
        };
        let body = json!({"order_id": order_id, "reason": reason});
        self.client.call_no_content::<OrderData>(VOID_PATH, body).await.map(|o| Ok(o.map(|o| o.report())))
    }

    async fn tokens(&self, shopper: &str) -> Outcome<Vec<CardToken>> {
        self.client.call::<Vec<CardToken>>(TOKEN_QUERY_PATH, json!({"shopper_reference": shopper})).await
    }

    async fn remove_token(&self, shopper: &str, token: &str) -> Outcome<()> {
        let body = json!({"shopper_reference": shopper, "token": token});
        self.client.call_no_content::<serde_json::Value>(TOKEN_REMOVE_PATH, body).await.map(|_| Ok(()))
    }

    async fn cancel_recurring(&self, shopper: &str, agreement: &str) -> Outcome<()> {
        let body = json!({"shopper_reference": shopper, "recurring_agreement_id": agreement});
        self.client.call_no_content::<serde_json::Value>(RECURRING_CANCEL_PATH, body).await.map(|_| Ok(()))
    }

    async fn apple_pay_session(&self, domain: &str, display_name: Option<&str>) -> Outcome<serde_json::Value> {
        let mut body = json!({"domain_name": domain});
        if let Some(n) = display_name {
            body["display_name"] = json!(n);
        }
        self.client.call::<serde_json::Value>(APPLE_PAY_PATH, body).await
    }

    /// A webhook: signed by PayKKa's platform key over the raw body at this profile's
    /// notify path, within five minutes. (Replayed nonces are refused by the core, which
    /// remembers them in the ledger.)
    fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal> {
        let body: serde_json::Value = serde_json::from_slice(incoming.body).unwrap_or_default();
        let fields: std::collections::BTreeMap<String, String> = body
            .as_object()
            .map(|o| {
                o.iter()
                    .take(40)
                    .map(|(k, v)| (k.chars().take(64).collect(), v.to_string().chars().take(256).collect()))
                    .collect()
            })
            .unwrap_or_default();
        let refuse = |reason: &'static str| NotificationRefusal { reason, fields: fields.clone() };
        let Some(platform) = self.client.platform_public_key() else {
            return Err(refuse("no PayKKa platform key is configured to verify it"));
        };
        if !answer_verifies(platform, &self.notify_path, incoming.headers, incoming.body) {
            return Err(refuse("signature does not verify"));
        }
        let sent_ms: u64 = incoming.headers.get("x-paykka-timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
        if super::client::now_ms().abs_diff(sent_ms) > WEBHOOK_TOLERANCE_MS {
            return Err(refuse("timestamp is stale"));
        }
        let order: OrderData = serde_json::from_value(body.clone()).map_err(|_| refuse("malformed body"))?;
        if body.get("merchant_id").and_then(|m| m.as_str()) != Some(self.client.merchant_id.as_str()) {
            return Err(refuse("another merchant"));
        }
        let nonce = incoming.headers.get("x-paykka-nonce").filter(|n| (10..=100).contains(&n.len())).cloned();
        if nonce.is_none() {
            return Err(refuse("nonce missing"));
        }
        Ok(VerifiedNotification { report: order.report(), fields, nonce, repeat_is_resend: false, requery: true })
    }
}
/// PayKKa as the registry holds it.
pub struct PaykkaProvider;

pub static PROVIDER: PaykkaProvider = PaykkaProvider;

impl crate::provider::Provider for PaykkaProvider {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    /// The merchant's RSA private key (PEM, PKCS#8 or PKCS#1).
    fn check_secret(&self, secret: &str) -> Result<(), crate::ValidationError> {
        super::signing::MerchantKey::from_pem(secret)
            .map(|_| ())
            .map_err(|e| crate::ValidationError::new("secret", format!("{e}; nothing was saved")))
    }

    fn unknown_transaction_code(&self) -> Option<&'static str> {
        Some("206024")
    }

    fn build(
        &self,
        setup: crate::provider::GatewaySetup<'_>,
    ) -> Result<std::sync::Arc<dyn crate::provider::DynGateway>, crate::ValidationError> {
        let key = super::signing::MerchantKey::from_pem(setup.secret.expose())
            .map_err(|e| crate::ValidationError::new("secret", e.to_string()))?;
        let client = super::client::PaykkaClient::new(
            setup.http.clone(),
            setup.base_url,
            setup.required("merchant_id")?,
            setup.required("app_id")?,
            key,
            setup.optional("platform_public_key").map(String::from),
        )
        .requiring_signed_answers(setup.optional("require_signed_answers") == Some("true"));
        // Webhooks are signed over the path they are posted to: the public one's.
        let notify_path = setup
            .notify_url
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.path().to_string())
            .filter(|p| p.starts_with('/') && p.len() > 1)
            .unwrap_or_else(|| format!("/notify/paykka/{}", setup.profile));
        Ok(std::sync::Arc::new(PaykkaGateway::new(client, notify_path)))
    }
}

#[cfg(test)]
mod refund_answer_tests {
    use super::*;
    use crate::RefundState;

    fn data(id: &str, order: &str, status: &str) -> Option<RefundData> {
        Some(RefundData { refund_trans_id: id.into(), refund_order_id: order.into(), status: status.into() })
    }

    #[test]
    fn an_unfinished_refund_is_pending_never_succeeded() {
        let state = |r| refund_answer(r, "PD-1-R1").map(|a| a.state);
        assert_eq!(state(data("PD-1-R1", "RF1", "SUCCESS")).unwrap(), RefundState::Succeeded);
        assert_eq!(state(data("PD-1-R1", "RF1", "PROCESSING")).unwrap(), RefundState::Pending);
        assert_eq!(state(data("PD-1-R1", "RF1", "SOMETHING_NEW")).unwrap(), RefundState::Pending);
        assert_eq!(state(data("PD-1-R1", "", "SUCCESS")).unwrap(), RefundState::Pending, "no refund order");
        assert_eq!(state(None).unwrap(), RefundState::Pending, "accepted, no data");
        assert!(state(data("PD-9-R1", "RF1", "SUCCESS")).is_err(), "another refund");
        assert!(matches!(state(data("PD-1-R1", "RF1", "FAILURE")), Err(crate::GatewayError::Rejected { .. })));
    }
}
