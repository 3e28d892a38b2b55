//! The core against minimal look-alike providers written in this test from the documents
//! (not the sandbox), answering the ways the documents allow and the emulator does not: a
//! PayKKa capture answered with "No content" and no signature is confirmed by a query and
//! booked exactly once; a PayKKa webhook that reaches the listener through a path-rewriting
//! proxy is verified over the public path PayKKa signed; Vexora's Test connection is judged
//! by whether it accepted the signature, whatever code it gives for a trade it does not know.

mod support;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use paydesk_core::{secrets, CreatePayment, Paydesk, ProfileInput};
use paydesk_gateways::{ApiSecret, PaymentStatus};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

fn vector(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../gateways/test-vectors/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Saves a profile and its secret as `paydesk profile add` and `secret set` do.
fn profile(paydesk: &Paydesk, name: &str, provider: &str, base: &str, settings: Value, secret: &str) {
    let mut input = json!({
        "name": name, "provider": provider, "base_url": base,
        "ipn_url": format!("https://shop.example/notify/{name}"), "callback_url": "https://shop.example/done",
    });
    // The provider's own settings sit beside the common ones.
    input.as_object_mut().unwrap().extend(settings.as_object().unwrap().clone());
    let input: ProfileInput = serde_json::from_value(input).unwrap();
    let saved = paydesk.save_profile(input).unwrap();
    secrets::save_secret(&saved, &ApiSecret::new(secret)).unwrap();
}

/// One PayKKa order, as the look-alike keeps it.
#[derive(Default)]
struct Order {
    reference: String,
    captured: i64,
    captures_received: u32,
}

async fn paykka_session(State(order): State<Arc<Mutex<Order>>>, Json(body): Json<Value>) -> Json<Value> {
    let reference = body["trans_id"].as_str().unwrap_or_default().to_string();
    order.lock().unwrap().reference = reference.clone();
    Json(json!({"ret_code": "000000", "ret_msg": "Success", "data": {
        "session_id": "S1", "session_url": "https://pay.example/checkout/S1", "trans_id": reference,
        "amount": body["amount"], "currency": body["currency"]}}))
}

async fn paykka_query(State(order): State<Arc<Mutex<Order>>>) -> Json<Value> {
    let o = order.lock().unwrap();
    let status = if o.captured > 0 { "SUCCESS" } else { "AUTHORIZED" };
    Json(json!({"ret_code": "000000", "ret_msg": "Success", "data": {
        "merchant_id": "18356675194960", "trans_id": o.reference, "order_id": "GW20620000006999",
        "status": status, "capture_method": "MANUAL", "amount": 1300, "currency": "USD",
        "balances": {"authed_amount": 1300, "captured_amount": o.captured, "able_to_capture_amount": 1300 - o.captured,
                     "voided_amount": 0, "able_to_void_amount": 1300 - o.captured, "refunded_amount": 0,
                     "able_to_refund_amount": o.captured}}}))
}

/// "No content": an empty body, no signature.
async fn paykka_capture(State(order): State<Arc<Mutex<Order>>>, Json(body): Json<Value>) -> &'static str {
    let mut o = order.lock().unwrap();
    o.captures_received += 1;
    o.captured += body["amount"].as_i64().unwrap_or(0);
    ""
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paykka_capture_answered_with_no_content_is_confirmed_by_query_and_booked_once() {
    let order = Arc::new(Mutex::new(Order::default()));
    let base = serve(
        Router::new()
            .route("/v3/payment/acq/session", post(paykka_session))
            .route("/v3/payment/acq/query", post(paykka_query))
            .route("/v3/payment/acq/capture", post(paykka_capture))
            .with_state(order.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paydesk = support::open_paydesk(&dir);
    // The platform key is set (for webhooks); the look-alike signs nothing.
    let settings = json!({"merchant_id": "18356675194960", "app_id": "978594372956732",
                          "platform_public_key": vector("paykka-test-merchant-public.pem")});
    let name = format!("lookalike-paykka-{}", std::process::id());
    profile(&paydesk, &name, "paykka", &base, settings, &vector("paykka-test-merchant-private.pem"));

    let sale = CreatePayment {
        profile: name.clone(),
        amount: "13.00".into(),
        currency: "USD".into(),
        method: Some("link".into()),
        capture: Some("manual".into()),
        ..CreatePayment::default()
    };
    let sale = paydesk.create_payment(&sale).await.unwrap();
    assert_eq!(sale.status, PaymentStatus::Pending, "an unsigned session answer is taken");
    let authorised = paydesk.refresh(&sale.reference).await.unwrap();
    assert_eq!(authorised.status, PaymentStatus::Authorized);

    let captured = paydesk.capture(&sale.reference, Some("13.00"), true).await.unwrap();
    assert_eq!(captured.status, PaymentStatus::Paid, "confirmed by the query, never 'unexpected'");
    assert_eq!(order.lock().unwrap().captures_received, 1);
    let detail = paydesk.payment_detail(&sale.reference).unwrap();
    assert!(!detail.events.iter().any(|e| e.kind == "suspicious"), "{:?}", detail.events);
    // Asked again, nothing is sent twice: the capture is done.
    assert!(paydesk.capture(&sale.reference, Some("13.00"), true).await.is_err());
    assert_eq!(order.lock().unwrap().captures_received, 1, "captured once");
    let _ = secrets::delete_secret(&name);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// PayKKa posts to the shop's public URL (`--ipn-url …/hooks/paykka`); a proxy forwards it
/// to the listener's own route (`/notify/paykka/NAME`). The webhook is signed over the public
/// path, and verified over it: applied (after the query confirms), never refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paykka_webhook_through_a_path_rewriting_proxy_is_verified_over_the_public_path() {
    let order = Arc::new(Mutex::new(Order::default()));
    let base = serve(
        Router::new()
            .route("/v3/payment/acq/session", post(paykka_session))
            .route("/v3/payment/acq/query", post(paykka_query))
            .with_state(order.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paydesk = Arc::new(support::open_paydesk(&dir));
    let name = format!("proxied-paykka-{}", std::process::id());
    let (listen, proxy_port) = (format!("127.0.0.1:{}", free_port()), free_port());
    let public = format!("http://127.0.0.1:{proxy_port}/hooks/paykka");
    let input: ProfileInput = serde_json::from_value(json!({
        "name": name, "provider": "paykka", "base_url": base, "ipn_url": public, "ipn_listen": listen,
        "callback_url": "https://shop.example/done", "merchant_id": "18356675194960", "app_id": "978594372956732",
        "platform_public_key": vector("paykka-test-merchant-public.pem"),
    }))
    .unwrap();
    let saved = paydesk.save_profile(input).unwrap();
    secrets::save_secret(&saved, &ApiSecret::new(vector("paykka-test-merchant-private.pem"))).unwrap();
    paydesk_core::notifications::start_for_profiles(&paydesk).await.unwrap();

    // The proxy: /hooks/paykka → the listener's route, headers and body as they came.
    let target = format!("http://{listen}/notify/paykka/{name}");
    let proxy = Router::new().route(
        "/hooks/paykka",
        post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let target = target.clone();
            async move {
                let mut forward = reqwest::Client::new().post(&target).body(body);
                for (k, v) in headers.iter().filter(|(k, _)| k.as_str().starts_with("x-paykka") || *k == "content-type")
                {
                    forward = forward.header(k.as_str(), v.to_str().unwrap());
                }
                let answer = forward.send().await.unwrap();
                (axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap(), answer.text().await.unwrap())
            }
        }),
    );
    let proxy_listener = tokio::net::TcpListener::bind(("127.0.0.1", proxy_port)).await.unwrap();
    tokio::spawn(async move { axum::serve(proxy_listener, proxy).await });

    let sale = CreatePayment {
        profile: name.clone(),
        amount: "13.00".into(),
        currency: "USD".into(),
        method: Some("link".into()),
        ..CreatePayment::default()
    };
    let sale = paydesk.create_payment(&sale).await.unwrap();
    order.lock().unwrap().captured = 1300;
    let body = json!({"merchant_id": "18356675194960", "trans_id": sale.reference, "order_id": "GW20620000006999",
                      "status": "SUCCESS", "amount": 1300, "currency": "USD"})
    .to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis().to_string();
    // PayKKa's platform signs what it sent to: the public path (the vector's key plays it).
    let platform =
        paydesk_gateways::paykka::signing::MerchantKey::from_pem(&vector("paykka-test-merchant-private.pem")).unwrap();
    let signed = |path: &str| {
        platform.sign_header(&paydesk_gateways::paykka::signing::string_to_sign(
            "POST",
            path,
            &now,
            "nonce-proxied-1",
            &body,
        ))
    };
    let post_webhook = |sign: String, nonce: &'static str| {
        reqwest::Client::new()
            .post(&public)
            .header("content-type", "application/json")
            .header("x-paykka-timestamp", &now)
            .header("x-paykka-nonce", nonce)
            .header("x-paykka-sign-alg", "SHA256_WITH_RSA")
            .header("x-paykka-sign", sign)
            .body(body.clone())
            .send()
    };
    // Signed over the local route instead: not what PayKKa signs, refused.
    let local = post_webhook(signed(&format!("/notify/paykka/{name}")), "nonce-proxied-0").await.unwrap();
    assert!(!local.status().is_success(), "{}", local.status());
    let answer = post_webhook(signed("/hooks/paykka"), "nonce-proxied-1").await.unwrap();
    assert!(answer.status().is_success(), "{}: {}", answer.status(), answer.text().await.unwrap());
    let mut status = paydesk.payment(&sale.reference).unwrap().status;
    for _ in 0..100 {
        if status == PaymentStatus::Paid {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        status = paydesk.payment(&sale.reference).unwrap().status;
    }
    assert_eq!(status, PaymentStatus::Paid, "applied through the proxy");
    let _ = secrets::delete_secret(&name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vexora_test_connection_is_judged_by_signature_acceptance() {
    let unknown_trade = serve(Router::new().route(
        "/v1/vexora/queryPayInResult",
        post(|| async {
            Json(json!({"msg": "order does not exist", "code": "2001", "timestamp": 1, "success": false, "data": null}))
        }),
    ))
    .await;
    let bad_sign = serve(Router::new().route(
        "/v1/vexora/queryPayInResult",
        post(|| async {
            Json(json!({"msg": "sign error", "code": "2002", "timestamp": 1, "success": false, "data": null}))
        }),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paydesk = support::open_paydesk(&dir);
    let (accepted, refused) = (format!("vx-ok-{}", std::process::id()), format!("vx-bad-{}", std::process::id()));
    profile(&paydesk, &accepted, "vexora", &unknown_trade, json!({"merchant_no": "VX0001"}), "vx_test_secret_7f3a");
    profile(&paydesk, &refused, "vexora", &bad_sign, json!({"merchant_no": "VX0001"}), "vx_test_secret_7f3a");
    let said = paydesk.test_connection(&accepted).await.unwrap();
    assert!(said.contains("signature accepted"), "{said}");
    let refusal = paydesk.test_connection(&refused).await.unwrap_err();
    assert!(refusal.to_string().contains("sign error"), "{refusal}");
    let _ = secrets::delete_secret(&accepted);
    let _ = secrets::delete_secret(&refused);
}
