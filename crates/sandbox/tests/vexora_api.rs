//! Vexora through its gateway against the sandbox over real HTTP on 127.0.0.1: a checkout
//! link per channel, status by query (paid, partly paid, declined), the sandbox's refusal
//! of a bad sign, an unknown merchant, broken field rules and the per-IP limits, and
//! notifications signed as Vexora signs them, resent until answered `OK`. (The sandbox
//! notifies only this machine or the local network: `shop.example` URLs go nowhere.)

use paydesk_gateways::gateway::{Checkout, Gateway, IncomingNotification, PayMethod, Payer, PaymentRef};
use paydesk_gateways::vexora::gateway::VexoraGateway;
use paydesk_gateways::vexora::VexoraClient;
use paydesk_gateways::{ApiSecret, Currency, GatewayError, Money, PaymentStatus};
use paydesk_sandbox::{vexora, Sandbox, SandboxConfig};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

async fn sandbox() -> Sandbox {
    Sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxConfig::default()).await.unwrap()
}

fn gateway(sb: &Sandbox, merchant: &str, secret: &str) -> VexoraGateway {
    VexoraGateway::new(VexoraClient::new(
        paydesk_gateways::http::client(),
        &format!("{}/vexora", sb.base_url()),
        merchant,
        ApiSecret::new(secret),
    ))
}

fn payer(channel: &str, ip: &str) -> Payer {
    Payer {
        channel: Some(channel.into()),
        mobile: Some("0912345678".into()),
        first_name: Some("Mei".into()),
        last_name: Some("Lin".into()),
        email: Some("mei@example.com".into()),
        ip_address: Some(ip.into()),
        postcode: Some("100".into()),
        address: Some("1 Zhongshan Rd".into()),
        bank_number: Some("808-0368988888888".into()),
        // The contract's e-wallet (the document lists none); other channels have their own.
        way_code: (channel == "EWALLET").then(|| "JKOPAY".into()),
        ..Payer::default()
    }
}

fn checkout(reference: &str, amount: &str, payer: Payer, notify_url: &str) -> Checkout {
    Checkout {
        reference: reference.into(),
        amount: Money::parse(amount, Currency::from_code("TWD").unwrap()).unwrap(),
        method: PayMethod::CounterQr,
        wallet: None,
        terminal: None,
        os_type: None,
        description: None,
        customer_no: None,
        notify_url: notify_url.into(),
        return_url: "https://shop.example/done".into(),
        manual_capture: false,
        shopper_reference: None,
        save_card: false,
        payer: Some(payer),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_per_channel_and_their_status() {
    let sb = sandbox().await;
    let g = gateway(&sb, vexora::DEMO_MERCHANT_NO, vexora::DEMO_APP_SECRET);
    for (i, channel) in ["NET_BANKING", "STORE", "EWALLET"].iter().enumerate() {
        let reference = format!("PD-VX-{i}");
        let c = checkout(&reference, "300", payer(channel, &format!("203.0.113.{i}")), "https://shop.example/n");
        g.validate_checkout(&c).unwrap();
        let answer = g.checkout(&c).await.result.unwrap();
        assert!(answer.link.starts_with(&format!("{}/vexora/pay/", sb.base_url())), "{}", answer.link);
        assert_eq!(answer.report.status, PaymentStatus::Pending);
        assert_eq!(answer.report.reference, reference);
        assert_eq!(answer.report.transaction_no.len(), 16, "platFormTradeNo kept");
        let page = reqwest::get(&answer.link).await.unwrap().text().await.unwrap();
        assert!(page.contains("NT$300") && page.contains(channel), "{page}");
    }
    let by = |r: &'static str| PaymentRef { reference: r, transaction_no: None };
    assert_eq!(g.query(by("PD-VX-0")).await.result.unwrap().status, PaymentStatus::Pending);

    sb.settle_vexora("PD-VX-0", "pay").unwrap();
    let paid = g.query(by("PD-VX-0")).await.result.unwrap();
    assert_eq!((paid.status, paid.amount.unwrap().minor), (PaymentStatus::Paid, 30000));

    sb.settle_vexora("PD-VX-1", "partial").unwrap();
    let part = g.query(by("PD-VX-1")).await.result.unwrap();
    assert_eq!(part.status, PaymentStatus::PartiallyPaid);
    assert_eq!(part.paid_amount.unwrap().minor, 15000, "half of NT$300 arrived");
    assert_eq!(part.amount, None);

    // The payer page's own Decline button.
    let t = sb.settle_vexora("PD-VX-2", "decline").unwrap();
    assert_eq!(t.status, "00029");
    assert_eq!(g.query(by("PD-VX-2")).await.result.unwrap().status, PaymentStatus::Failed);

    let unknown = g.query(by("PD-VX-NEVER")).await.result.unwrap_err();
    assert!(unknown.is_unknown_transaction(), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_refuses_what_vexora_refuses() {
    let sb = sandbox().await;
    let code_of = |e: GatewayError| match e {
        GatewayError::Rejected { code, .. } => code,
        other => panic!("{other:?}"),
    };
    let c = checkout("PD-VX-R1", "300", payer("EWALLET", "198.51.100.1"), "https://shop.example/n");
    let wrong_secret = gateway(&sb, vexora::DEMO_MERCHANT_NO, "not-the-secret");
    assert_eq!(code_of(wrong_secret.checkout(&c).await.result.unwrap_err()), "1003", "bad sign");
    let wrong_merchant = gateway(&sb, "VX9999", vexora::DEMO_APP_SECRET);
    assert_eq!(code_of(wrong_merchant.checkout(&c).await.result.unwrap_err()), "1002", "unknown merchant");

    // A client that skips the rules still meets them at the sandbox.
    let http = reqwest::Client::new();
    let mut fields: BTreeMap<String, String> = [
        ("tradeNo", "PD-VX-R2"),
        ("amount", "300"),
        ("mobile", "0812345678"),
        ("firstname", "Mei"),
        ("lastname", "Lin"),
        ("email", "mei@example.com"),
        ("channelCode", "STORE"),
        ("wayCode", "711"),
        ("ipAddress", "198.51.100.2"),
        ("notifyUrl", "https://shop.example/n"),
        ("returnUrl", "https://shop.example/d"),
        ("timestamp", "1724142041682"),
        ("postcode", "100"),
        ("address", "1 Road"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sign = paydesk_gateways::vexora::signing::sign(&fields, &ApiSecret::new(vexora::DEMO_APP_SECRET));
    fields.insert("sign".into(), sign);
    let answer: serde_json::Value = http
        .post(format!("{}/vexora/v1/vexora/checkout", sb.base_url()))
        .header("merchantNo", vexora::DEMO_MERCHANT_NO)
        .json(&fields)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["code"], "1001", "{answer}");
    assert!(answer["msg"].as_str().unwrap().contains("mobile"), "{answer}");

    // Per payer IP a day: three successful payments, then no more.
    let g = gateway(&sb, vexora::DEMO_MERCHANT_NO, vexora::DEMO_APP_SECRET);
    for i in 0..3 {
        let reference = format!("PD-VX-IP{i}");
        g.checkout(&checkout(&reference, "100", payer("EWALLET", "192.0.2.9"), "https://shop.example/n"))
            .await
            .result
            .unwrap();
        sb.settle_vexora(&reference, "pay").unwrap();
    }
    let fourth =
        g.checkout(&checkout("PD-VX-IP3", "100", payer("EWALLET", "192.0.2.9"), "https://shop.example/n")).await.result;
    assert_eq!(code_of(fourth.unwrap_err()), "1005", "three successes per IP a day");
    // And ten attempts.
    for i in 0..10 {
        let reference = format!("PD-VX-AT{i}");
        let r = g
            .checkout(&checkout(&reference, "100", payer("EWALLET", "192.0.2.10"), "https://shop.example/n"))
            .await
            .result;
        assert!(r.is_ok(), "attempt {i}: {r:?}");
    }
    let eleventh = g
        .checkout(&checkout("PD-VX-AT10", "100", payer("EWALLET", "192.0.2.10"), "https://shop.example/n"))
        .await
        .result;
    assert_eq!(code_of(eleventh.unwrap_err()), "1005", "ten attempts per IP a day");
}

/// Notifications arrive signed with the app secret, verify through the gateway, and are
/// resent until the merchant answers exactly `OK`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_signed_and_resent_until_ok() {
    let sb = sandbox().await;
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/notify/vexora/tw",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let mut all = seen.lock().unwrap();
                all.push(body.to_vec());
                // The first two are not answered OK: Vexora must send again.
                if all.len() < 3 {
                    "received"
                } else {
                    "OK"
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let g = gateway(&sb, vexora::DEMO_MERCHANT_NO, vexora::DEMO_APP_SECRET);
    let notify = format!("http://{addr}/notify/vexora/tw");
    g.checkout(&checkout("PD-VX-N1", "300", payer("STORE", "203.0.113.50"), &notify)).await.result.unwrap();
    sb.settle_vexora("PD-VX-N1", "partial").unwrap();
    for _ in 0..100 {
        if received.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3, "resent until OK, then no more");
    let headers = BTreeMap::new();
    for body in &bodies {
        let verified = g.verify_notification(IncomingNotification { headers: &headers, body }).unwrap();
        assert_eq!(verified.report.status, PaymentStatus::PartiallyPaid);
        assert_eq!(verified.report.paid_amount.unwrap().minor, 15000);
        assert_eq!(verified.report.reference, "PD-VX-N1");
    }
}
