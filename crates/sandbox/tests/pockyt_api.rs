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
    }
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
    assert_eq!(out.exchange.request["verifySign"].len(), 32);

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
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/online/v3/secure-pay", sb.base_url()))
        .json(&params)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
