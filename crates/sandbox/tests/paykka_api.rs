//! PayKKa through its gateway against the sandbox over real HTTP on 127.0.0.1: a hosted
//! session with manual capture and a saved card, query with balances, partial final
//! capture, refund, cards on file, Apple Pay's domain rule; the sandbox's refusals of a
//! tampered body or header, a stale timestamp, an unknown merchant and an unknown order;
//! and a webhook that verifies with the platform key the sandbox serves.

use paydesk_gateways::gateway::{Checkout, Gateway, PayMethod, PaymentRef, RefundOrder};
use paydesk_gateways::paykka::client::{answer_verifies, PaykkaClient};
use paydesk_gateways::paykka::gateway::{self as api, PaykkaGateway};
use paydesk_gateways::paykka::signing::{self, MerchantKey};
use paydesk_gateways::{Currency, GatewayError, Money, PaymentStatus};
use paydesk_sandbox::{paykka, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const MERCHANT_PRIVATE: &str = include_str!("../../gateways/test-vectors/paykka-test-merchant-private.pem");

async fn sandbox() -> Sandbox {
    Sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxConfig::default()).await.unwrap()
}

async fn platform_key(sb: &Sandbox) -> String {
    reqwest::get(format!("{}/paykka/sandbox/platform-public-key", sb.base_url())).await.unwrap().text().await.unwrap()
}

async fn gateway(sb: &Sandbox) -> PaykkaGateway {
    let client = PaykkaClient::new(
        paydesk_gateways::http::client(),
        &format!("{}/paykka", sb.base_url()),
        paykka::DEMO_MERCHANT_ID,
        paykka::DEMO_APP_ID,
        MerchantKey::from_pem(MERCHANT_PRIVATE).unwrap(),
        Some(platform_key(sb).await),
    );
    PaykkaGateway::new(client, "/notify/paykka/shop".into())
}

fn checkout(reference: &str, notify_url: &str) -> Checkout {
    Checkout {
        reference: reference.into(),
        amount: Money::new(2000, Currency::from_code("USD").unwrap()),
        method: PayMethod::CounterQr,
        wallet: None,
        terminal: None,
        os_type: None,
        description: None,
        customer_no: None,
        notify_url: notify_url.into(),
        return_url: "https://shop.example/done".into(),
        manual_capture: true,
        shopper_reference: Some("shopper-42".into()),
        save_card: true,
        payer: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_capture_refund_and_cards_on_file() {
    let sb = sandbox().await;
    let g = gateway(&sb).await;
    let c = checkout("PD-PK-1", "https://shop.example/notify/paykka/shop");
    g.validate_checkout(&c).unwrap();
    let answer = g.checkout(&c).await.result.unwrap();
    assert!(answer.link.contains("/paykka/checkout/SS"), "{}", answer.link);
    assert_eq!(answer.report.reference, "PD-PK-1");
    let again = g.checkout(&c).await.result.unwrap();
    assert_eq!(again.link, answer.link, "one session per trans_id");

    let by_ref = PaymentRef { reference: "PD-PK-1", transaction_no: None };
    assert_eq!(g.query(by_ref).await.result.unwrap().status, PaymentStatus::Pending);
    let order = sb.settle_paykka("PD-PK-1", true, true).unwrap();
    let queried = g.query(by_ref).await.result.unwrap();
    assert_eq!(queried.status, PaymentStatus::Authorized, "manual capture stops at AUTHORIZED");
    assert_eq!(queried.transaction_no, order.order_id);
    assert_eq!(queried.amount.unwrap().minor, 2000);

    // Capture part of it as final; then it is paid and refundable up to what was captured.
    let captured = g
        .client()
        .call::<Value>(
            api::CAPTURE_PATH,
            json!({"order_id": order.order_id, "amount": 1500, "currency": "USD", "capture_final": true}),
        )
        .await
        .result
        .unwrap();
    assert_eq!(captured["status"], "SUCCESS");
    assert_eq!(captured["balances"]["able_to_refund_amount"], 1500);
    let over = g
        .client()
        .call::<Value>(api::CAPTURE_PATH, json!({"order_id": order.order_id, "amount": 1, "currency": "USD"}))
        .await
        .result;
    assert!(matches!(over, Err(GatewayError::Rejected { .. })), "nothing left to capture");
    let void = g
        .client()
        .call::<Value>(api::VOID_PATH, json!({"order_id": order.order_id, "reason": "REQUESTED_BY_CUSTOMER"}))
        .await;
    assert!(matches!(void.result, Err(GatewayError::Rejected { .. })), "no void after capture");

    let by_order = PaymentRef { reference: "PD-PK-1", transaction_no: Some(&order.order_id) };
    let refund = RefundOrder {
        payment: by_order,
        refund_reference: "PD-PK-1-R1",
        amount: Money::new(500, Currency::from_code("USD").unwrap()),
    };
    let first = g.refund(&refund).await.result.unwrap();
    let resent = g.refund(&refund).await.result.unwrap();
    assert_eq!(first.refund_transaction_no, resent.refund_transaction_no, "a resent refund is the same refund");
    assert_eq!(g.query(by_order).await.result.unwrap().status, PaymentStatus::PartiallyRefunded);
    let too_much = RefundOrder {
        refund_reference: "PD-PK-1-R2",
        amount: Money::new(1001, Currency::from_code("USD").unwrap()),
        ..refund
    };
    assert!(g.refund(&too_much).await.result.is_err());

    // The saved card: listed, then removed.
    let tokens = g
        .client()
        .call::<Vec<Value>>(api::TOKEN_QUERY_PATH, json!({"shopper_reference": "shopper-42"}))
        .await
        .result
        .unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["token_usage"], "CARD_ON_FILE");
    let token = tokens[0]["token"].as_str().unwrap();
    g.client()
        .call::<Value>(api::TOKEN_REMOVE_PATH, json!({"shopper_reference": "shopper-42", "token": token}))
        .await
        .result
        .unwrap();
    let tokens = g
        .client()
        .call::<Vec<Value>>(api::TOKEN_QUERY_PATH, json!({"shopper_reference": "shopper-42"}))
        .await
        .result
        .unwrap();
    assert!(tokens.is_empty());

    let apple = g.client().call::<Value>(api::APPLE_PAY_PATH, json!({"domain_name": "https://shop.example:443"})).await;
    assert!(matches!(apple.result, Err(GatewayError::Rejected { .. })), "no scheme, no port");
    let apple = g.client().call::<Value>(api::APPLE_PAY_PATH, json!({"domain_name": "shop.example"})).await;
    assert!(apple.result.is_ok());
}

/// Posts `body` signed as the demo merchant, with the parts a test wants to spoil.
async fn raw(sb: &Sandbox, path: &str, body: &str, sign_body: &str, timestamp: u64, appid: &str) -> (u16, Value) {
    let key = MerchantKey::from_pem(MERCHANT_PRIVATE).unwrap();
    let (ts, nonce) = (timestamp.to_string(), "nonce-0123456789".to_string());
    let sign = key.sign_header(&signing::string_to_sign("POST", path, &ts, &nonce, sign_body));
    let r = reqwest::Client::new()
        .post(format!("{}/paykka{path}", sb.base_url()))
        .header("content-type", "application/json")
        .header("x-paykka-appid", appid)
        .header("x-paykka-timestamp", ts)
        .header("x-paykka-nonce", nonce)
        .header("x-paykka-sign-alg", signing::SIGN_ALG)
        .header("x-paykka-sign", sign)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_refuses_what_paykka_refuses() {
    let sb = sandbox().await;
    let body = json!({"merchant_id": paykka::DEMO_MERCHANT_ID, "trans_id": "NOPE"}).to_string();
    let q = api::QUERY_PATH;
    let (_, v) = raw(&sb, q, &body, &body, now_ms(), paykka::DEMO_APP_ID).await;
    assert_eq!(v["ret_code"], "206024", "unknown order");
    let tampered = body.replace("NOPE", "NOPF");
    let (status, v) = raw(&sb, q, &tampered, &body, now_ms(), paykka::DEMO_APP_ID).await;
    assert_eq!((status, v["ret_code"].as_str().unwrap()), (401, "206003"), "tampered body");
    let (_, v) = raw(&sb, q, &body, &body, now_ms(), "someone-else").await;
    assert_eq!(v["ret_code"], "206005", "another app id is an unknown merchant");
    let (_, v) = raw(&sb, q, &body, &body, now_ms() - 6 * 60 * 1000, paykka::DEMO_APP_ID).await;
    assert_eq!(v["ret_code"], "206004", "stale timestamp");
    let other = json!({"merchant_id": "999", "trans_id": "NOPE"}).to_string();
    let (_, v) = raw(&sb, q, &other, &other, now_ms(), paykka::DEMO_APP_ID).await;
    assert_eq!(v["ret_code"], "206005", "unknown merchant");
    // The path signed is the API path, without the /paykka prefix.
    let key = MerchantKey::from_pem(MERCHANT_PRIVATE).unwrap();
    let ts = now_ms().to_string();
    let sign =
        key.sign_header(&signing::string_to_sign("POST", &format!("/paykka{q}"), &ts, "nonce-0123456789", &body));
    let r = reqwest::Client::new()
        .post(format!("{}/paykka{q}", sb.base_url()))
        .header("x-paykka-appid", paykka::DEMO_APP_ID)
        .header("x-paykka-timestamp", ts)
        .header("x-paykka-nonce", "nonce-0123456789")
        .header("x-paykka-sign", sign)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["ret_code"], "206003", "a tampered header (the signed path)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_verifies_with_the_served_platform_key() {
    let received: Arc<Mutex<Option<(std::collections::BTreeMap<String, String>, Vec<u8>)>>> = Default::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/notify/paykka/shop",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                let h = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                *sink.lock().unwrap() = Some((h, body.to_vec()));
                r#"{"ret_code":"000000","ret_msg":"Success"}"#
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sb = sandbox().await;
    let g = gateway(&sb).await;
    let mut c = checkout("PD-PK-W", &format!("http://{addr}/notify/paykka/shop"));
    c.manual_capture = false;
    g.checkout(&c).await.result.unwrap();
    sb.settle_paykka("PD-PK-W", true, false).unwrap();
    let mut got = None;
    for _ in 0..100 {
        got = received.lock().unwrap().clone();
        if got.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (headers, body) = got.expect("the webhook arrived");
    let platform = platform_key(&sb).await;
    assert!(answer_verifies(&platform, "/notify/paykka/shop", &headers, &body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((v["notify_type"].as_str(), v["status"].as_str()), (Some("PAYMENT.SUCCESS"), Some("SUCCESS")));
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert!(!answer_verifies(&platform, "/notify/paykka/shop", &headers, &tampered));
    // The gateway's own check (with its notify path and the five-minute window) agrees.
    let verified =
        g.verify_notification(paydesk_gateways::gateway::IncomingNotification { headers: &headers, body: &body });
    assert_eq!(verified.unwrap().report.status, PaymentStatus::Paid);
}

/// The hosted page a shopper opens: a card form that takes the test cards (the first pays,
/// the second is declined), asks again for any other number, and saves the card when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_page_takes_the_test_cards() {
    let sb = sandbox().await;
    let g = gateway(&sb).await;
    let http = reqwest::Client::new();
    let post_card = |link: String, card: &'static str, save: bool| {
        let http = http.clone();
        async move {
            let mut form = vec![("card_number", card), ("expiry", "12/30"), ("cvc", "123")];
            if save {
                form.push(("save_card", "on"));
            }
            let r = http.post(&link).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    let mut c = checkout("PD-PK-HOSTED-1", "");
    c.manual_capture = false;
    c.save_card = false;
    let link = g.checkout(&c).await.result.unwrap().link;
    let page = reqwest::get(&link).await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="card_number""#) && page.contains(r#"id="save-card""#), "{page}");
    assert!(page.contains("20.00 USD"), "{page}");

    let (code, page) = post_card(link.clone(), "1234 5678 9012 3456", false).await;
    assert_eq!(code, 422, "an unknown card is asked again: {page}");
    assert!(page.contains("Use a test card"), "{page}");
    let by_ref = PaymentRef { reference: "PD-PK-HOSTED-1", transaction_no: None };
    assert_eq!(g.query(by_ref).await.result.unwrap().status, PaymentStatus::Pending, "nothing settled");

    let (code, page) = post_card(link.clone(), "4242 4242 4242 4242", true).await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains(r#"<h1 id="result">Paid</h1>"#), "{page}");
    assert_eq!(g.query(by_ref).await.result.unwrap().status, PaymentStatus::Paid);
    let tokens = g.tokens("shopper-42").await.result.unwrap();
    assert_eq!(tokens.len(), 1, "the shopper asked to save the card: {tokens:?}");

    let c2 = checkout("PD-PK-HOSTED-2", "");
    let link = g.checkout(&c2).await.result.unwrap().link;
    let (code, page) = post_card(link, "4000 0000 0000 0002", false).await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains(r#"<h1 id="result">Declined</h1>"#), "{page}");
    let by_ref = PaymentRef { reference: "PD-PK-HOSTED-2", transaction_no: None };
    assert_eq!(g.query(by_ref).await.result.unwrap().status, PaymentStatus::Failed);
}
