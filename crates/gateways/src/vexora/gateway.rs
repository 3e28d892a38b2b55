//! Vexora behind the one gateway interface: checkout is a payment link (shown as the QR),
//! query reads the trade's status, notifications are verified with the MD5 `sign` over
//! every field received. Vexora offers no refund or cancel through its API.

use super::client::VexoraClient;
use super::transformers::*;
use super::{signing, CHECKOUT_PATH, QUERY_PATH};
use crate::gateway::{
    Acknowledgement, Capabilities, Checkout, CheckoutAnswer, Flow, Gateway, IncomingNotification, NotificationRefusal,
    Outcome, PayMethod, PayerChannel, PaymentRef, SecretSpec, Setting, VerifiedNotification,
};
use crate::{PaymentReport, ValidationError};
use std::collections::BTreeMap;

pub static CAPABILITIES: Capabilities = Capabilities {
    provider: "vexora",
    label: "Vexora",
    flows: &[Flow::Checkout, Flow::Query, Flow::Notifications],
    methods: &[PayMethod::CounterQr, PayMethod::Link],
    currencies: &[CURRENCY],
    // The channel (bank transfer, store, e-wallet) is the payer's choice, asked with the payer.
    counter_wallets: &[],
    link_wallets: &[],
    wallet_link_schemes: &[],
    sandbox_url: super::SANDBOX_URL,
    production_url: super::PRODUCTION_URL,
    settings: &[
        Setting {
            key: "merchant_no",
            label: "merchant number",
            required: true,
            digits_only: false,
            max_chars: 32,
            public_key_pem: false,
            flag: false,
            form_label: "Merchant no.",
            summary: "merchant",
            ip_address: false,
        },
        // Vexora asks for the payer's IP address; at a counter that is the shop's own.
        Setting {
            key: "public_ip",
            label: "counter's public IP address",
            required: false,
            digits_only: false,
            max_chars: 45,
            public_key_pem: false,
            flag: false,
            form_label: "Counter's public IP address",
            summary: "",
            ip_address: true,
        },
    ],
    // No IP address here: the profile's public one is sent (the CLI may give the payer's).
    secret: SecretSpec { form_label: "App secret", multiline: false, summary: "app secret" },
    payer_fields: &["mobile", "first_name", "last_name", "email"],
    payer_channels: &[
        PayerChannel { code: "STORE", label: "Convenience store", needs: &["postcode", "address"] },
        PayerChannel { code: "NET_BANKING", label: "Bank transfer", needs: &["bank_number"] },
        PayerChannel { code: "EWALLET", label: "E-wallet", needs: &["way_code"] },
    ],
    acknowledge,
};

/// Vexora reads exactly `OK` as taken, and resends on anything else.
fn acknowledge(taken: bool) -> Acknowledgement {
    let (http_status, body) = if taken { (200, "OK") } else { (400, "FAIL") };
    Acknowledgement { http_status, content_type: "text/plain; charset=utf-8", body: body.into() }
}

/// Most fields a notification may carry, and how long each may be.
const MAX_NOTIFY_FIELDS: usize = 40;
const MAX_NOTIFY_FIELD_CHARS: usize = 512;

#[derive(Debug, Clone)]
pub struct VexoraGateway {
    client: VexoraClient,
    /// The counter's public IP address, sent as the payer's when none is given (a cashier
    /// cannot know the customer's).
    public_ip: Option<String>,
}

impl VexoraGateway {
    pub fn new(client: VexoraClient) -> Self {
        Self { client, public_ip: None }
    }

    pub fn with_public_ip(self, public_ip: Option<String>) -> Self {
        Self { public_ip: public_ip.filter(|ip| !ip.trim().is_empty()), ..self }
    }

    pub fn client(&self) -> &VexoraClient {
        &self.client
    }
}

/// A notification's body as fields of strings (numbers as written); None when it is not
/// a flat JSON object of bounded size.
pub fn notification_fields(body: &[u8]) -> Option<BTreeMap<String, String>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    if object.len() > MAX_NOTIFY_FIELDS {
        return None;
    }
    let mut fields = BTreeMap::new();
    for (k, v) in object {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => String::new(),
            _ => return None,
        };
        if k.len() > 64 || text.chars().count() > MAX_NOTIFY_FIELD_CHARS {
            return None;
        }
        fields.insert(k.clone(), text);
    }
    Some(fields)
}

impl Gateway for VexoraGateway {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError> {
        checkout_fields(checkout, &self.client.merchant_no, self.public_ip.as_deref()).map(|_| ())
    }

    fn checkout_problems(&self, checkout: &Checkout) -> Vec<ValidationError> {
        super::transformers::checkout_problems(checkout, &self.client.merchant_no, self.public_ip.as_deref())
    }

    async fn checkout(&self, checkout: &Checkout) -> Outcome<CheckoutAnswer> {
        let fields = match checkout_fields(checkout, &self.client.merchant_no, self.public_ip.as_deref()) {
            Ok(f) => f,
            Err(e) => return Outcome::refused(e.into()),
        };
        let sent = checkout.amount;
        self.client.call::<CheckoutData>(CHECKOUT_PATH, fields).await.map(move |data| {
            let Some(link) = data.link().map(String::from) else {
                return Err(crate::GatewayError::Protocol {
                    provider: "Vexora",
                    message: "the checkout answer carries no payment link".into(),
                });
            };
            Ok(CheckoutAnswer { report: data.report(sent), link, session_id: None })
        })
    }

    async fn query(&self, payment: PaymentRef<'_>) -> Outcome<PaymentReport> {
        let fields = BTreeMap::from([("tradeNo".to_string(), payment.reference.to_string())]);
        self.client.call::<TradeData>(QUERY_PATH, fields).await.map(|d| Ok(d.report()))
    }

    /// Signed with the app secret over every field it carries (whatever their order, and
    /// fields we do not know included), like requests.
    fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal> {
        let Some(fields) = notification_fields(incoming.body) else {
            return Err(NotificationRefusal { reason: "malformed body", fields: BTreeMap::new() });
        };
        let bounded: BTreeMap<String, String> = fields
            .iter()
            .filter(|(k, _)| k.as_str() != signing::SIGN_FIELD)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let refuse = |reason: &'static str| NotificationRefusal { reason, fields: bounded.clone() };
        let received = fields.get(signing::SIGN_FIELD).map(|s| s.to_ascii_lowercase()).unwrap_or_default();
        let expected = signing::sign(&fields, self.client.secret());
        if received.len() != expected.len() || !constant_time_eq(received.as_bytes(), expected.as_bytes()) {
            return Err(refuse("signature does not verify"));
        }
        // Fresh, and once: a replay of an old (or the same) signed notification never
        // moves a payment. Without a time it is only a trigger: the payment is asked about.
        let sent_ms = fields.get("timestamp").and_then(|t| t.trim().parse::<u64>().ok());
        if sent_ms.is_some_and(|ms| super::client::now_ms().abs_diff(ms) > NOTIFICATION_TOLERANCE_MS) {
            return Err(refuse("timestamp is stale"));
        }
        let data = TradeData {
            trade_no: fields.get("tradeNo").cloned().unwrap_or_default().into(),
            plat_form_trade_no: fields.get("platFormTradeNo").cloned().unwrap_or_default().into(),
            status: fields.get("status").cloned().unwrap_or_default().into(),
            amount: fields.get("amount").cloned().unwrap_or_default().into(),
        };
        // Remembered by a hash keyed with the secret: the stored nonce is no test of guesses.
        let nonce = Some(format!("sign-hash:{}", keyed_hash(self.client.secret(), &received)));
        Ok(VerifiedNotification {
            report: data.report(),
            fields: bounded,
            nonce,
            // Vexora resends until it reads OK: the same signed body again is that.
            repeat_is_resend: true,
            requery: sent_ms.is_none(),
        })
    }
}

/// How old (or how far ahead) a notification's `timestamp` may be: five minutes, as other
/// providers' signed webhooks allow.
pub const NOTIFICATION_TOLERANCE_MS: u64 = 5 * 60 * 1000;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}
/// A signature as the replay memory keeps it: SHA-256 over the secret and the signature, so
/// the stored value neither reveals the signature nor lets anyone test a guessed secret.
fn keyed_hash(secret: &crate::secret::ApiSecret, signature: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(secret.expose().as_bytes());
    h.update([0u8]);
    h.update(signature.as_bytes());
    hex::encode(h.finalize())
}

/// Vexora as the registry holds it.
pub struct VexoraProvider;

pub static PROVIDER: VexoraProvider = VexoraProvider;

impl crate::provider::Provider for VexoraProvider {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn check_secret(&self, secret: &str) -> Result<(), crate::ValidationError> {
        crate::provider::one_word_secret("the app secret", secret)
    }

    fn notification_reference(&self, incoming: crate::gateway::IncomingNotification<'_>) -> Option<String> {
        notification_fields(incoming.body)?.remove("tradeNo")
    }

    fn unknown_transaction_code(&self) -> Option<&'static str> {
        Some(super::transformers::CODE_UNKNOWN_TRADE)
    }

    fn refuses_only_in_words(&self) -> bool {
        true
    }

    fn build(
        &self,
        setup: crate::provider::GatewaySetup<'_>,
    ) -> Result<std::sync::Arc<dyn crate::provider::DynGateway>, crate::ValidationError> {
        let client = super::VexoraClient::new(
            setup.http.clone(),
            setup.base_url,
            setup.required("merchant_no")?,
            setup.secret.clone(),
        );
        Ok(std::sync::Arc::new(
            VexoraGateway::new(client).with_public_ip(setup.optional("public_ip").map(String::from)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Payer;
    use crate::{ApiSecret, Currency, Money};

    fn gateway() -> VexoraGateway {
        VexoraGateway::new(VexoraClient::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/vexora",
            "VX0001",
            ApiSecret::new("vx_test_secret_7f3a"),
        ))
    }

    fn checkout(amount: &str, payer: Payer) -> Checkout {
        Checkout {
            reference: "PD1".into(),
            amount: Money::parse(amount, Currency::from_code("TWD").unwrap()).unwrap(),
            method: PayMethod::Link,
            wallet: None,
            terminal: None,
            os_type: None,
            description: None,
            customer_no: None,
            notify_url: "https://shop.example/notify/vexora/tw".into(),
            return_url: "https://shop.example/done".into(),
            manual_capture: false,
            shopper_reference: None,
            save_card: false,
            payer: Some(payer),
        }
    }

    fn store_payer() -> Payer {
        Payer {
            channel: Some("STORE".into()),
            mobile: Some("0912345678".into()),
            first_name: Some("Mei".into()),
            last_name: Some("Lin".into()),
            email: Some("mei@example.com".into()),
            ip_address: Some("203.0.113.7".into()),
            postcode: Some("100".into()),
            address: Some("1 Zhongshan Rd, Taipei".into()),
            ..Payer::default()
        }
    }

    /// Each rule is refused before the network, naming its field.
    #[test]
    fn bad_input_is_refused_naming_the_field() {
        let g = gateway();
        assert!(g.validate_checkout(&checkout("300", store_payer())).is_ok());
        let cases: Vec<(&str, Payer, &str)> = vec![
            ("300.50", store_payer(), "amount"),
            ("300", Payer { mobile: Some("0812345678".into()), ..store_payer() }, "mobile"),
            ("300", Payer { mobile: Some("091234567".into()), ..store_payer() }, "mobile"),
            ("300", Payer { channel: Some("NET_BANKING".into()), ..store_payer() }, "bank_number"),
            ("300", Payer { postcode: None, ..store_payer() }, "postcode"),
            ("300", Payer { address: None, ..store_payer() }, "address"),
            ("300", Payer { channel: Some("CASH".into()), ..store_payer() }, "channel"),
            ("300", Payer { ip_address: Some("not-an-ip".into()), ..store_payer() }, "payer_ip"),
            ("300", Payer { email: Some("mei.example.com".into()), ..store_payer() }, "email"),
            (
                "300",
                Payer {
                    channel: Some("NET_BANKING".into()),
                    bank_number: Some("8080368988888888".into()),
                    ..store_payer()
                },
                "bank_number",
            ),
        ];
        for (amount, payer, field) in cases {
            let err = g.validate_checkout(&checkout(amount, payer.clone())).unwrap_err();
            assert_eq!(err.field, field, "{payer:?}: {err}");
        }
        let banks = Payer {
            channel: Some("NET_BANKING".into()),
            bank_number: Some("808-0358988888888,013-0458988888888888".into()),
            ..store_payer()
        };
        let fields = checkout_fields(&checkout("300", banks), "VX0001", None).unwrap();
        assert_eq!(fields["bankNumber"], "808-0358988888888,013-0458988888888888");
        assert_eq!(fields["amount"], "300", "whole dollars on the wire");
        assert_eq!(fields["wayCode"], "BANK_TRANSFER");
    }

    fn signed(mut fields: BTreeMap<String, String>) -> Vec<u8> {
        let sign = signing::sign(&fields, &ApiSecret::new("vx_test_secret_7f3a"));
        fields.insert("sign".into(), sign);
        serde_json::to_vec(&fields).unwrap()
    }

    #[test]
    fn notifications_verify_over_every_field_received() {
        let g = gateway();
        let headers = BTreeMap::new();
        let fields: BTreeMap<String, String> = [
            ("platFormTradeNo", "c167o1itir0fypid"),
            ("tradeNo", "PD1"),
            ("amount", "120"),
            ("status", "0001"),
            ("message", "partial"),
            ("successTime", "2026-11-22 10:00:00"),
            ("futureField", "added later"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("timestamp".to_string(), super::super::client::now_ms().to_string())])
        .collect();
        // An hour-old one, correctly signed, is refused: replays never move money.
        let mut stale = fields.clone();
        stale.insert("timestamp".into(), (super::super::client::now_ms() - 3_600_000).to_string());
        let stale = signed(stale);
        let refused = g.verify_notification(IncomingNotification { headers: &headers, body: &stale });
        assert_eq!(refused.unwrap_err().reason, "timestamp is stale");
        let body = signed(fields.clone());
        let verified = g.verify_notification(IncomingNotification { headers: &headers, body: &body }).unwrap();
        assert_eq!(verified.report.status, crate::PaymentStatus::PartiallyPaid);
        assert_eq!(verified.report.paid_amount.unwrap().minor, 12000);
        assert_eq!(verified.report.amount, None);

        // The same fields in another order still verify; a changed one does not.
        let mut shuffled: Vec<(String, serde_json::Value)> =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body).unwrap().into_iter().collect();
        shuffled.reverse();
        let text = format!(
            "{{{}}}",
            shuffled.iter().map(|(k, v)| format!("{}:{}", serde_json::json!(k), v)).collect::<Vec<_>>().join(",")
        );
        assert!(g.verify_notification(IncomingNotification { headers: &headers, body: text.as_bytes() }).is_ok());
        let tampered = String::from_utf8(body.clone()).unwrap().replace("\"120\"", "\"300\"");
        let refused = g.verify_notification(IncomingNotification { headers: &headers, body: tampered.as_bytes() });
        assert_eq!(refused.unwrap_err().reason, "signature does not verify");
        let refused = g.verify_notification(IncomingNotification { headers: &headers, body: b"tradeNo=PD1" });
        assert_eq!(refused.unwrap_err().reason, "malformed body");
    }
}
