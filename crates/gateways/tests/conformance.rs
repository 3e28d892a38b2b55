//! Conformance to the providers' own documents. Every request sample in the documents
//! (`tests/fixtures/docs/`, copied from `shared/reference/*.txt`) is built again through
//! the client and compared field by field: the same names, the same JSON types (a string
//! is not a number), the same units; every answer sample and status list is parsed and its
//! state asserted. The requests go to a closed loopback port: the client's own record of
//! what it sent (its `Exchange`) is what is compared.

use paydesk_gateways::gateway::{CaptureOrder, Checkout, PayMethod, Payer, PaymentRef};
use paydesk_gateways::registry::{AnyGateway, GatewaySetup};
use paydesk_gateways::{ApiSecret, Currency, Money, PaymentStatus};
use serde_json::Value;
use std::collections::BTreeMap;

/// Nothing listens here: the request is built, recorded and refused at connect.
const CLOSED: &str = "http://127.0.0.1:9";

fn sample(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/docs/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["sample"].clone()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field the client sent is in the sample with the same JSON type; `required` (or,
/// when None, every field of the sample) is sent.
fn conforms(what: &str, sent: &Value, documented: &Value, required: Option<&[&str]>) {
    let (sent, documented) = (sent.as_object().unwrap(), documented.as_object().unwrap());
    for (k, v) in sent {
        let Some(d) = documented.get(k) else {
            panic!("{what}: sends '{k}', which the document's sample does not have")
        };
        assert_eq!(kind(v), kind(d), "{what}: '{k}' is a {} in the document, the client sends a {}", kind(d), kind(v));
    }
    let required: Vec<&str> = match required {
        Some(r) => r.to_vec(),
        None => documented.keys().map(String::as_str).collect(),
    };
    for k in required {
        assert!(sent.contains_key(k), "{what}: the document sends '{k}', the client does not");
    }
}

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn gateway(provider: &str, settings: &BTreeMap<String, String>, secret: &str) -> AnyGateway {
    AnyGateway::new(GatewaySetup {
        provider,
        profile: "docs",
        notify_url: None,
        base_url: CLOSED,
        settings,
        secret: ApiSecret::new(secret),
        http: reqwest::Client::new(),
    })
    .unwrap()
}

fn paykka() -> AnyGateway {
    let key = std::fs::read_to_string(format!(
        "{}/test-vectors/paykka-test-merchant-private.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    gateway("paykka", &settings(&[("merchant_id", "18356675194960"), ("app_id", "978594372956732")]), &key)
}

fn sent<T>(outcome: paydesk_gateways::gateway::Outcome<T>) -> (String, Value) {
    let exchange = outcome.exchange.expect("the client records what it sent");
    (exchange.path, exchange.body)
}

fn usd(text: &str) -> Money {
    Money::parse(text, Currency::from_code("USD").unwrap()).unwrap()
}

#[tokio::test]
async fn paykka_requests_are_built_as_the_document_samples() {
    let g = paykka();
    let order = PaymentRef { reference: "174293243204402", transaction_no: Some("GW20620xxxxx6999") };

    let (path, body) = sent(g.capture(&CaptureOrder { payment: order, amount: usd("3.00"), last: true }).await);
    assert_eq!(path, "/v3/payment/acq/capture");
    conforms("capture", &body, &sample("paykka-capture"), None);
    assert_eq!(body["amount"], 300, "PayKKa amounts are integers in minor units (USD 3.00 is 300)");

    let (path, body) = sent(g.void(order, "REQUESTED_BY_CUSTOMER").await);
    assert_eq!(path, "/v3/payment/acq/void");
    conforms("void", &body, &sample("paykka-void"), None);

    let (path, body) = sent(g.query(order).await);
    assert_eq!(path, "/v3/payment/acq/query");
    // The sample sends trans_id and session_id empty beside order_id: one of them is enough.
    conforms("query", &body, &sample("paykka-query"), Some(&["merchant_id", "order_id", "timestamp"]));

    let shopper = "f4911bc8b17106a08f2f7a89a9fc4d11";
    let (path, body) = sent(g.tokens(shopper).await);
    assert_eq!(path, "/v3/payment/acq/token/query");
    conforms("token query", &body, &sample("paykka-token-query"), None);

    let (path, body) = sent(g.remove_token(shopper, "TK206139xxx264751").await);
    assert_eq!(path, "/v3/payment/acq/token/remove");
    conforms("token remove", &body, &sample("paykka-token-remove"), None);

    let (path, body) = sent(g.cancel_recurring(shopper, "RA2061xxxx0784537").await);
    assert_eq!(path, "/v3/payment/acq/recurring/cancel");
    conforms("recurring cancel", &body, &sample("paykka-recurring-cancel"), None);

    let (path, body) = sent(g.apple_pay_session("www.mydomain.com", Some("Your Merchant Name")).await);
    assert_eq!(path, "/v3/payment/acq/apple-pay/create-session");
    conforms("Apple Pay session", &body, &sample("paykka-apple-pay"), None);
}

/// The hosted session is not in the document (its purchase sample is the direct card API):
/// the fields it shares with that sample keep their names and types.
#[tokio::test]
async fn a_paykka_session_shares_the_purchase_samples_names_and_types() {
    let checkout = Checkout {
        reference: "174293243204408".into(),
        amount: Money::parse("1.00", Currency::from_code("EUR").unwrap()).unwrap(),
        method: PayMethod::Link,
        wallet: None,
        terminal: None,
        os_type: None,
        description: None,
        customer_no: None,
        notify_url: "https://shop.example/notify".into(),
        return_url: "https://your_url".into(),
        manual_capture: false,
        shopper_reference: None,
        save_card: false,
        payer: None,
    };
    let (_, body) = sent(paykka().checkout(&checkout).await);
    let purchase = sample("paykka-purchase");
    for (k, v) in body.as_object().unwrap() {
        if let Some(d) = purchase.get(k) {
            assert_eq!(kind(v), kind(d), "session '{k}'");
        }
    }
    assert_eq!(body["amount"], 100, "EUR 1.00 is 100");
    for k in
        ["trans_id", "merchant_id", "payment_type", "capture_method", "timestamp", "currency", "amount", "return_url"]
    {
        assert!(body.get(k).is_some(), "session sends {k}");
    }
}

#[test]
fn paykka_answer_samples_and_statuses_read_as_documented() {
    use paydesk_gateways::paykka::transformers::{parse_envelope, OrderData, PaykkaStatus};
    let order: OrderData = parse_envelope(&sample("paykka-query-answer")).unwrap();
    let report = order.report();
    assert_eq!((report.status, report.reference.as_str()), (PaymentStatus::Pending, "174293243204402"));
    assert_eq!(report.amount.map(|m| m.to_string()), Some("1.00 EUR".to_string()));
    assert_eq!(report.balances.unwrap().capturable, 100);
    let captured: OrderData = parse_envelope(&sample("paykka-query-answer-captured")).unwrap();
    assert_eq!(captured.report().balances.unwrap().captured, 100);
    let tokens: Vec<paydesk_gateways::gateway::CardToken> =
        parse_envelope(&sample("paykka-token-query-answer")).unwrap();
    assert_eq!(tokens.len(), 2);
    let mapped: Vec<PaymentStatus> = sample("paykka-statuses")
        .as_array()
        .unwrap()
        .iter()
        .map(|s| PaymentStatus::from(PaykkaStatus(s.as_str().unwrap())))
        .collect();
    use PaymentStatus::*;
    assert_eq!(
        mapped,
        [Pending, Paid, Authorized, Failed, Refunded, PartiallyRefunded, Cancelled, PartiallyCaptured],
        "every documented status has a state (none is unknown)"
    );
}

fn vexora_checkout(doc: &Value) -> Checkout {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(String::from);
    Checkout {
        reference: text("tradeNo").unwrap(),
        amount: Money::parse(&text("amount").unwrap(), Currency::from_code("TWD").unwrap()).unwrap(),
        method: PayMethod::Link,
        wallet: None,
        terminal: None,
        os_type: None,
        description: None,
        customer_no: None,
        notify_url: text("notifyUrl").unwrap(),
        return_url: text("returnUrl").unwrap(),
        manual_capture: false,
        shopper_reference: None,
        save_card: false,
        payer: Some(Payer {
            channel: text("channelCode"),
            way_code: text("wayCode"),
            mobile: text("mobile"),
            first_name: text("firstname"),
            last_name: text("lastname"),
            email: text("email"),
            ip_address: text("ipAddress"),
            bank_number: text("bankNumber"),
            postcode: text("postcode"),
            address: text("address"),
            remark: text("remark"),
        }),
    }
}

#[tokio::test]
async fn vexora_checkouts_are_built_as_the_document_samples() {
    let g = gateway("vexora", &settings(&[("merchant_no", "VX0001")]), "vx_test_secret_7f3a");
    for name in ["vexora-checkout-net-banking", "vexora-checkout-store"] {
        let doc = sample(name);
        let outcome = g.checkout(&vexora_checkout(&doc)).await;
        let exchange = outcome.exchange.as_ref().unwrap();
        assert_eq!(
            exchange.headers.get("merchantNo").map(String::as_str),
            Some("VX0001"),
            "the merchant in its header"
        );
        conforms(name, &exchange.body, &doc, None);
        for k in ["amount", "tradeNo", "mobile", "wayCode", "channelCode", "ipAddress", "remark"] {
            assert_eq!(exchange.body[k], doc[k], "{name}: {k}");
        }
        assert_eq!(exchange.body["amount"], "300", "Vexora amounts are whole New Taiwan dollars");
    }
}

#[test]
fn the_vexora_answer_sample_reads_as_documented() {
    use paydesk_gateways::vexora::transformers::{parse_envelope, CheckoutData, VexoraStatus};
    let data: CheckoutData = parse_envelope(&sample("vexora-checkout-answer")).unwrap();
    assert!(data.link().unwrap().starts_with("https://ccutest.dj70000.com/"), "the sample names the link paymentUrl");
    assert_eq!(PaymentStatus::from(VexoraStatus(data.status.as_str().unwrap())), PaymentStatus::Pending, "0015 Paying");
}

#[tokio::test]
async fn pockyt_secure_pay_is_built_as_the_document_sample() {
    let doc = sample("pockyt-secure-pay");
    let g = gateway(
        "pockyt",
        &settings(&[("merchant_no", "203797"), ("store_no", "303714")]),
        "5cbfb079f15b150122261c8537086d77a",
    );
    let checkout = Checkout {
        reference: "1698153188772".into(),
        amount: usd("0.50"),
        method: PayMethod::Link,
        wallet: Some("wechatpay".into()),
        terminal: Some("ONLINE".into()),
        os_type: None,
        description: None,
        customer_no: None,
        notify_url: "https://t.seapig.co/webhooks".into(),
        return_url: "https://t.seapig.co/completed".into(),
        manual_capture: false,
        shopper_reference: None,
        save_card: false,
        payer: None,
    };
    let (path, body) = sent(g.checkout(&checkout).await);
    assert_eq!(path, "/online/v3/secure-pay");
    let required = [
        "merchantNo",
        "storeNo",
        "verifySign",
        "currency",
        "settleCurrency",
        "amount",
        "vendor",
        "reference",
        "terminal",
        "ipnUrl",
        "callbackUrl",
    ];
    conforms("secure-pay", &body, &doc, Some(&required));
    assert_eq!(body["amount"], "0.50", "a decimal string in the currency");
    assert_eq!(body["timeout"], doc["timeout"], "minutes, as a string");

    // A registered customer paying by card (pockyt-hosted-checkout.txt), from a phone.
    let hosted = Checkout {
        wallet: Some("creditcard".into()),
        customer_no: Some("302156".into()),
        terminal: Some("WAP".into()),
        os_type: Some("IOS".into()),
        ..checkout
    };
    let (_, body) = sent(g.checkout(&hosted).await);
    assert_eq!((body["creditType"].as_str(), body["customerNo"].as_str()), (Some("hosted"), Some("302156")));
    assert_eq!(body["osType"], "IOS");
    let phone_without_os = Checkout { os_type: None, ..hosted };
    let refused = g.validate_checkout(&phone_without_os).unwrap_err();
    assert_eq!(refused.field, "os_type");
}

#[test]
fn the_pockyt_answer_sample_reads_as_documented() {
    let doc = sample("pockyt-secure-pay-answer");
    let result: paydesk_gateways::pockyt::SecurePayResult = serde_json::from_value(doc["result"].clone()).unwrap();
    assert_eq!((result.transaction_no.as_str(), result.amount.as_str()), ("342127388232290055", "0.50"));
}
