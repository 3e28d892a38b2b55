//! Pockyt behind the one gateway interface: checkout is SecurePay (link) or the counter QR,
//! query is tran-query, refund and cancel confirm their answers before they count.

use super::customers::{Customer, CustomerFields, CustomerKey};
use super::rules;
use super::transformers::*;
use super::PockytClient;
use crate::gateway::{
    Acknowledgement, CancelAnswer, Capabilities, Checkout, CheckoutAnswer, Flow, Gateway, IncomingNotification,
    NotificationRefusal, Outcome, PayMethod, PaymentRef, RefundAnswer, RefundOrder, SecretSpec, Setting,
    VerifiedNotification, Wallet,
};
use crate::{PaymentReport, ValidationError};

const fn wallet(id: &'static str, label: &'static str) -> Wallet {
    Wallet { id, label }
}

const COUNTER_WALLETS: &[Wallet] =
    &[wallet("alipay", "Alipay"), wallet("wechatpay", "WeChat Pay"), wallet("cashapppay", "Cash App Pay")];

const LINK_WALLETS: &[Wallet] = &[
    wallet("alipay", "Alipay"),
    wallet("wechatpay", "WeChat Pay"),
    wallet("unionpay", "UnionPay"),
    wallet("creditcard", "Credit card"),
    wallet("paypal", "PayPal"),
    wallet("venmo", "Venmo"),
    wallet("cashapppay", "Cash App Pay"),
    wallet("truemoney", "TrueMoney"),
    wallet("alipay_hk", "AlipayHK"),
    wallet("tng", "Touch 'n Go"),
    wallet("gcash", "GCash"),
    wallet("dana", "DANA"),
    wallet("kakaopay", "KakaoPay"),
    wallet("bkash", "bKash"),
    wallet("easypaisa", "Easypaisa"),
];

pub static CAPABILITIES: Capabilities = Capabilities {
    provider: "pockyt",
    label: "Pockyt",
    flows: &[Flow::Checkout, Flow::Query, Flow::Refund, Flow::Cancel, Flow::Customers, Flow::Notifications],
    methods: &[PayMethod::CounterQr, PayMethod::Link],
    currencies: rules::CURRENCIES,
    counter_wallets: COUNTER_WALLETS,
    link_wallets: LINK_WALLETS,
    wallet_link_schemes: super::WALLET_LINK_SCHEMES,
    sandbox_url: super::SANDBOX_URL,
    production_url: super::PRODUCTION_URL,
    settings: &[
        Setting {
            key: "merchant_no",
            label: "merchant number",
            required: true,
            digits_only: true,
            max_chars: 32,
            public_key_pem: false,
            flag: false,
            form_label: "Merchant no.",
            summary: "merchant",
            ip_address: false,
        },
        Setting {
            key: "store_no",
            label: "store number",
            required: true,
            digits_only: true,
            max_chars: 32,
            public_key_pem: false,
            flag: false,
            form_label: "Store no.",
            summary: "store",
            ip_address: false,
        },
    ],
    secret: SecretSpec { form_label: "API token", multiline: false, summary: "token" },
    payer_fields: &[],
    payer_channels: &[],
    acknowledge,
};

/// Pockyt resends a notification until it reads the plain body `success`.
fn acknowledge(taken: bool) -> Acknowledgement {
    let (http_status, body) = if taken { (200, "success") } else { (400, "fail") };
    Acknowledgement { http_status, content_type: "text/plain", body: body.into() }
}

/// Pockyt for one merchant profile.
#[derive(Debug, Clone)]
pub struct PockytGateway {
    client: PockytClient,
}

/// Fields of a notification kept as evidence, and the characters kept of each.
const MAX_FIELDS_KEPT: usize = 40;
const MAX_FIELD_CHARS: usize = 256;

/// What a notification's evidence keeps: every field but the signature, bounded.
pub fn kept_fields(fields: &std::collections::BTreeMap<String, String>) -> std::collections::BTreeMap<String, String> {
    fields
        .iter()
        .filter(|(k, _)| k.as_str() != super::signing::SIGN_FIELD)
        .take(MAX_FIELDS_KEPT)
        .map(|(k, v)| {
            let bound = |s: &str| s.chars().take(MAX_FIELD_CHARS).collect::<String>();
            (bound(k), bound(v))
        })
        .collect()
}

enum Request {
    Link(SecurePayRequest),
    CounterQr(CounterQrRequest),
}

impl PockytGateway {
    pub fn new(client: PockytClient) -> Self {
        Self { client }
    }

    fn request(checkout: &Checkout) -> Request {
        let description = checkout.description.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(String::from);
        let vendor = checkout.wallet.clone().unwrap_or_default();
        match checkout.method {
            PayMethod::Link => Request::Link(SecurePayRequest {
                amount: checkout.amount,
                vendor,
                reference: checkout.reference.clone(),
                terminal: checkout.terminal.as_deref().unwrap_or("ONLINE").to_ascii_uppercase(),
                ipn_url: checkout.notify_url.clone(),
                callback_url: checkout.return_url.clone(),
                description,
                note: None,
                timeout_minutes: Some(120),
                customer_no: checkout.customer_no.clone(),
                os_type: checkout.os_type.clone(),
                // A registered customer paying by card: Pockyt's hosted card checkout
                // (pockyt-hosted-checkout.txt: register, then secure-pay with creditType hosted).
                credit_type: (checkout.wallet.as_deref() == Some("creditcard") && checkout.customer_no.is_some())
                    .then(|| "hosted".to_string()),
            }),
            PayMethod::CounterQr => Request::CounterQr(CounterQrRequest {
                amount: checkout.amount,
                vendor,
                reference: checkout.reference.clone(),
                ipn_url: checkout.notify_url.clone(),
                // We draw the QR from deepLink ourselves.
                need_qrcode: false,
                timeout_minutes: Some(30),
                description,
            }),
        }
    }

    fn lookup(payment: PaymentRef<'_>) -> TranQueryRequest {
        match payment.transaction_no {
            Some(no) => TranQueryRequest::TransactionNo(no.into()),
            None => TranQueryRequest::Reference(payment.reference.into()),
        }
    }
}

impl Gateway for PockytGateway {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    // Pockyt's customers API (SecurePay's `customerNo`).

    async fn customer_create(&self, fields: &CustomerFields) -> Outcome<Customer> {
        self.client.customer_create(fields).await
    }

    async fn customer_retrieve(&self, key: &CustomerKey) -> Outcome<Customer> {
        self.client.customer_retrieve(key).await
    }

    async fn customer_update(&self, customer_no: &str, changes: &CustomerFields) -> Outcome<Customer> {
        self.client.customer_update(customer_no, changes).await
    }

    fn validate_checkout(&self, checkout: &Checkout) -> Result<(), ValidationError> {
        if checkout.manual_capture {
            return Err(ValidationError::new(
                "capture",
                "Pockyt captures every payment at once; there is no manual capture",
            ));
        }
        if checkout.save_card || checkout.shopper_reference.is_some() {
            return Err(ValidationError::new("save_card", "Pockyt keeps no cards on file; use a registered customer"));
        }
        if checkout.customer_no.is_some() && checkout.method == PayMethod::CounterQr {
            return Err(
                ValidationError::new("customer_no", "attach customers to payment links").option("--method link")
            );
        }
        match Self::request(checkout) {
            Request::Link(r) => r.validate(),
            Request::CounterQr(r) => r.validate(),
        }
    }

    async fn checkout(&self, checkout: &Checkout) -> Outcome<CheckoutAnswer> {
        match Self::request(checkout) {
            Request::Link(r) => self
                .client
                .secure_pay(&r)
                .await
                .map(|c| Ok(CheckoutAnswer { report: c.report(), link: c.cashier_url, session_id: None })),
            Request::CounterQr(r) => self
                .client
                .counter_qr(&r)
                .await
                .map(|c| Ok(CheckoutAnswer { report: c.report(), link: c.deep_link, session_id: None })),
        }
    }

    async fn query(&self, payment: PaymentRef<'_>) -> Outcome<PaymentReport> {
        self.client.tran_query(&Self::lookup(payment)).await.map(|info| Ok(info.report()))
    }

    async fn refund(&self, order: &RefundOrder<'_>) -> Outcome<RefundAnswer> {
        let request = RefundRequest {
            transaction: Self::lookup(order.payment),
            refund_amount: order.amount,
            refund_reference: order.refund_reference.into(),
            ipn_url: None,
        };
        self.client.refund(&request).await.map(|done| {
            let state = done.confirm(&request)?;
            Ok(RefundAnswer { refund_transaction_no: done.refund_transaction_no, state })
        })
    }

    /// Pockyt posts a form; `verifySign` covers every received field (never a fixed list).
    fn verify_notification(
        &self,
        incoming: IncomingNotification<'_>,
    ) -> Result<VerifiedNotification, NotificationRefusal> {
        let fields: std::collections::BTreeMap<String, String> =
            form_urlencoded::parse(incoming.body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if !self.client.verifies(&fields) {
            return Err(NotificationRefusal { reason: "signature does not verify", fields: kept_fields(&fields) });
        }
        Ok(VerifiedNotification {
            report: notification_report(&fields),
            fields: kept_fields(&fields),
            nonce: None,
            repeat_is_resend: false,
            requery: false,
        })
    }

    async fn cancel(&self, payment: PaymentRef<'_>) -> Outcome<CancelAnswer> {
        self.client.cancel(&Self::lookup(payment)).await.map(|done| {
            done.confirm(payment.transaction_no)?;
            Ok(CancelAnswer { transaction_no: done.transaction_no, raw_status: done.status })
        })
    }
}

/// Pockyt as the registry holds it.
pub struct PockytProvider;

pub static PROVIDER: PockytProvider = PockytProvider;

impl crate::provider::Provider for PockytProvider {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn notification_reference(&self, incoming: crate::gateway::IncomingNotification<'_>) -> Option<String> {
        form_urlencoded::parse(incoming.body).find(|(k, _)| k == "reference").map(|(_, v)| v.into_owned())
    }

    fn unknown_transaction_code(&self) -> Option<&'static str> {
        Some("000021")
    }

    fn build(
        &self,
        setup: crate::provider::GatewaySetup<'_>,
    ) -> Result<std::sync::Arc<dyn crate::provider::DynGateway>, crate::ValidationError> {
        let client = super::PockytClient::with_http(
            setup.http.clone(),
            setup.base_url,
            setup.required("merchant_no")?,
            setup.required("store_no")?,
            setup.secret.clone(),
        );
        Ok(std::sync::Arc::new(PockytGateway::new(client)))
    }
}
