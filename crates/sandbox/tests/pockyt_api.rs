//! The sandbox over real HTTP on 127.0.0.1, driven by the real Pockyt client.

use axum::routing::post;
use axum::{Form, Router};
use paydesk_gateways::pockyt::{signing, PockytClient, SecurePayRequest, TranQueryRequest};
use paydesk_gateways::{ApiSecret, Currency, GatewayError, Money};
use paydesk_sandbox::{Sandbox, SandboxConfig, DEMO_MERCHANT_NO, DEMO_STORE_NO, DEMO_TOKEN};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

async fn sandbox() -> Sandbox {
    let config = SandboxConfig { ipn_retry_delays: vec![Duration::from_millis(50); 3], ..Default::default() };
    Sandbox::start("127.0.0.1:0".parse().unwrap(), config).await.unwrap()
}

fn request(reference: &str, ipn_url: &str) -> SecurePayRequest {
    SecurePayRequest {
        amount: Money::parse("13.00", Currency::from_code("USD").unwrap()).unwrap(),
        vendor: "alipay".into(),
        reference: reference.into(),
        terminal: "ONLINE".into(),
        ipn_url: ipn_url.into(),
        callback_url: "http://127.0.0.1:9/return".into(),
        description: Some("Coffee".into()),
        note: None,
        timeout_minutes: Some(120),
        customer_no: None,
        os_type: None,
        credit_type: None,
    }
}

/// Posts parameters as they are (for requests the typed client would never send).
async fn post_raw(sb: &Sandbox, path: &str, params: &BTreeMap<String, String>) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{}{path}", sb.base_url()))
        .json(params)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn client(sb: &Sandbox, token: &str) -> PockytClient {
    PockytClient::new(sb.base_url(), DEMO_MERCHANT_NO, DEMO_STORE_NO, ApiSecret::new(token))
}

#[tokio::test]
async fn secure_pay_query_settle_and_signed_ipn() {
    // A receiver that refuses the first IPN, so the sandbox must retry.
    let (tx, mut rx) = mpsc::unbounded_channel::<BTreeMap<String, String>>();
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let receiver = Router::new().route(
        "/ipn",
        post(move |Form(form): Form<BTreeMap<String, String>>| {
            let tx = tx.clone();
            let seen = seen.clone();
            async move {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    return "not yet";
                }
                let _ = tx.send(form);
                "success"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ipn_url = format!("http://{}/ipn", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let sb = sandbox().await;
    let c = client(&sb, DEMO_TOKEN);
    let out = c.secure_pay(&request("PD-T1", &ipn_url)).await;
    let created = out.result.expect("secure-pay succeeds");
    assert_eq!(created.amount, "13.00");
    assert!(created.cashier_url.starts_with(&format!("{}/cashier/", sb.base_url())));
    assert_eq!(out.exchange.as_ref().unwrap().body["verifySign"].as_str().unwrap().len(), 32);

    // Same reference again: the same transaction (safe retry).
    let again = c.secure_pay(&request("PD-T1", &ipn_url)).await.result.unwrap();
    assert_eq!(again.transaction_no, created.transaction_no);

    let q = c.tran_query(&TranQueryRequest::Reference("PD-T1".into())).await.result.unwrap();
    assert_eq!(q.status, "init");

    // The cashier page is a real page with Pay and Decline.
    let page = reqwest::get(&created.cashier_url).await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"pay\"") && page.contains("id=\"decline\"") && page.contains("13.00 USD"));

    sb.settle(&created.transaction_no, true).unwrap();
    let q = c.tran_query(&TranQueryRequest::TransactionNo(created.transaction_no.clone())).await.result.unwrap();
    assert_eq!(q.status, "success");

    let ipn = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!(ipn["status"], "success");
    assert_eq!(ipn["reference"], "PD-T1");
    assert!(signing::verify(&ipn, &ApiSecret::new(DEMO_TOKEN)), "IPN is signed with the merchant token");
    assert_eq!(ipn["time"].len(), 14);
    assert_eq!(attempts.load(Ordering::SeqCst), 2, "retried once after a non-success answer");
    for _ in 0..50 {
        if sb.payment("PD-T1").unwrap().ipn_delivered {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("IPN was never marked delivered");
}

#[tokio::test]
async fn tampered_signature_and_unknown_merchant_are_rejected() {
    let sb = sandbox().await;
    let wrong = client(&sb, "not-the-token");
    match wrong.secure_pay(&request("PD-T2", "http://127.0.0.1:9/ipn")).await.result {
        Err(GatewayError::Rejected { code, message, .. }) => {
            assert_ne!(code, "000100");
            assert_eq!(code, "000022");
            assert!(message.contains("verifySign"));
        }
        other => panic!("{other:?}"),
    }

    // Sign correctly, then change a field after signing.
    let good = client(&sb, DEMO_TOKEN);
    let mut params = good.signed_params(request("PD-T3", "http://127.0.0.1:9/ipn").to_params());
    params.insert("amount".into(), "0.01".into());
    let body = post_raw(&sb, paydesk_gateways::pockyt::SECURE_PAY_PATH, &params).await;
    assert_eq!(body["ret_code"], "000022");

    let stranger = PockytClient::new(sb.base_url(), "999999", DEMO_STORE_NO, ApiSecret::new(DEMO_TOKEN));
    match stranger.tran_query(&TranQueryRequest::Reference("x".into())).await.result {
        Err(GatewayError::Rejected { code, .. }) => assert_eq!(code, "000021"),
        other => panic!("{other:?}"),
    }
    assert!(sb.payment("PD-T2").is_none() && sb.payment("PD-T3").is_none(), "nothing was created");
}

#[tokio::test]
async fn decline_and_reference_reuse_for_another_sale() {
    let sb = sandbox().await;
    let c = client(&sb, DEMO_TOKEN);
    let created = c.secure_pay(&request("PD-T4", "http://127.0.0.1:9/ipn")).await.result.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/sandbox/settle/PD-T4", sb.base_url()))
        .json(&serde_json::json!({"outcome": "decline"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let q = c.tran_query(&TranQueryRequest::TransactionNo(created.transaction_no)).await.result.unwrap();
    assert_eq!(q.status, "failed");

    let mut other = request("PD-T4", "http://127.0.0.1:9/ipn");
    other.amount = Money::parse("99.00", Currency::from_code("USD").unwrap()).unwrap();
    assert!(matches!(c.secure_pay(&other).await.result, Err(GatewayError::Rejected { .. })));
}

fn usd(text: &str) -> Money {
    Money::parse(text, Currency::from_code("USD").unwrap()).unwrap()
}

fn rejected_code<T: std::fmt::Debug>(r: Result<T, GatewayError>) -> String {
    match r {
        Err(GatewayError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn counter_qr_sends_need_qrcode_and_returns_a_deep_link() {
    use paydesk_gateways::pockyt::CounterQrRequest;
    let sb = sandbox().await;
    let c = client(&sb, DEMO_TOKEN);
    let req = CounterQrRequest {
        amount: usd("2.50"),
        vendor: "wechatpay".into(),
        reference: "PD-Q1".into(),
        ipn_url: "http://127.0.0.1:9/ipn".into(),
        need_qrcode: false,
        timeout_minutes: Some(15),
        description: None,
    };
    let out = c.counter_qr(&req).await;
    assert_eq!(out.exchange.as_ref().unwrap().body["needQrcode"], "false", "sent explicitly");
    let qr = out.result.unwrap();
    assert!(qr.deep_link.starts_with(&format!("{}/cashier/", sb.base_url())));
    assert!(qr.qrcode_url.is_none());

    // Without needQrcode (correctly signed) the sandbox refuses, as the docs require it.
    let mut without = req.to_params();
    without.remove("needQrcode");
    without.insert("reference".into(), "PD-Q2".into());
    let body = post_raw(&sb, paydesk_gateways::pockyt::COUNTER_QR_PATH, &c.signed_params(without)).await;
    assert_eq!(body["ret_code"], "000020");

    let mut creditcard = req.clone();
    creditcard.vendor = "creditcard".into();
    creditcard.reference = "PD-Q3".into();
    assert_eq!(rejected_code(c.counter_qr(&creditcard).await.result), "000023");
}

#[tokio::test]
async fn refund_respects_the_remainder_and_cancel_only_unpaid() {
    use paydesk_gateways::pockyt::RefundRequest;
    let sb = sandbox().await;
    let c = client(&sb, DEMO_TOKEN);
    let paid = c.secure_pay(&request("PD-RF1", "http://127.0.0.1:9/ipn")).await.result.unwrap();
    let by_no = TranQueryRequest::TransactionNo(paid.transaction_no.clone());
    let refund = |amount: &str, rr: &str| RefundRequest {
        transaction: by_no.clone(),
        refund_amount: usd(amount),
        refund_reference: rr.into(),
        ipn_url: None,
    };
    // Not paid yet: no refund.
    assert_eq!(rejected_code(c.refund(&refund("1.00", "RF-0")).await.result), "000040");
    sb.settle(&paid.transaction_no, true).unwrap();

    let r1 = c.refund(&refund("4.00", "RF-1")).await.result.unwrap();
    assert_eq!((r1.refund_amount.as_str(), r1.status.as_str()), ("4.00", "success"));
    // Same refund again answers the same (a safe retry).
    assert_eq!(c.refund(&refund("4.00", "RF-1")).await.result.unwrap().refund_transaction_no, r1.refund_transaction_no);
    assert_eq!(rejected_code(c.refund(&refund("9.01", "RF-2")).await.result), "000023", "above the remainder of 9.00");
    c.refund(&refund("9.00", "RF-2")).await.result.unwrap();

    assert_eq!(rejected_code(c.cancel(&by_no).await.result), "000040", "a paid transaction cannot be cancelled");
    let open = c.secure_pay(&request("PD-CX1", "http://127.0.0.1:9/ipn")).await.result.unwrap();
    let cancelled = c.cancel(&TranQueryRequest::Reference("PD-CX1".into())).await.result.unwrap();
    assert_eq!(cancelled.status, "closed");
    let q = c.tran_query(&TranQueryRequest::TransactionNo(open.transaction_no)).await.result.unwrap();
    assert_eq!(q.status, "closed");
}

#[tokio::test]
async fn customers_create_retrieve_update_with_pockyt_validation() {
    use paydesk_gateways::pockyt::{CustomerFields, CustomerKey};
    let sb = sandbox().await;
    let c = client(&sb, DEMO_TOKEN);
    let fields = CustomerFields {
        customer_code: Some("SHOP-42".into()),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        email: Some("ada@example.com".into()),
        country_code: Some("US".into()),
        state: Some("CA".into()),
        city: Some("Oakland".into()),
        ..Default::default()
    };
    let out = c.customer_create(&fields).await;
    let ts = out.exchange.as_ref().unwrap().body["timestamp"].as_str().unwrap().to_string();
    assert!(ts.len() == 20 && ts.ends_with('Z'), "timestamp {ts}");
    let created = out.result.unwrap();
    assert!(!created.customer_no.is_empty());
    assert_eq!(created.fields.customer_code.as_deref(), Some("SHOP-42"));

    // US without state is refused by the sandbox as by Pockyt.
    let mut no_state = fields.clone();
    no_state.customer_code = Some("SHOP-43".into());
    no_state.state = None;
    assert_eq!(rejected_code(c.customer_create(&no_state).await.result), "000020");
    assert_eq!(rejected_code(c.customer_create(&fields).await.result), "000023", "customerCode is unique");

    let by_code = c.customer_retrieve(&CustomerKey::CustomerCode("SHOP-42".into())).await.result.unwrap();
    assert_eq!(by_code.customer_no, created.customer_no);
    let changes =
        CustomerFields { city: Some("Berkeley".into()), phone: Some("5105550100".into()), ..Default::default() };
    let updated = c.customer_update(&created.customer_no, &changes).await.result.unwrap();
    assert_eq!(updated.fields.city.as_deref(), Some("Berkeley"));
    assert!(updated.updated_time.is_some());
    let again = c.customer_retrieve(&CustomerKey::CustomerNo(created.customer_no.clone())).await.result.unwrap();
    assert_eq!(again.fields.phone.as_deref(), Some("5105550100"));
    assert_eq!(rejected_code(c.customer_retrieve(&CustomerKey::CustomerNo("1".into())).await.result), "000021");
}
