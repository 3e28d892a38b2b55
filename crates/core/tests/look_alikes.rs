//! The core against minimal look-alike providers written in this test from the documents
//! (not the sandbox), answering the ways the documents allow and the emulator does not: a
//! PayKKa capture answered with "No content" and no signature is confirmed by a query and
//! booked exactly once; Vexora's Test connection is judged by whether it accepted the
//! signature, whatever code it gives for a trade it does not know.

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
    let _ = secrets::delete_token(&name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vexora_test_connection_is_judged_by_signature_acceptance() {
    let unknown_trade = serve(Router::new().route(
        "/v1/vexora/queryPayInResult",
        post(|| async { Json(json!({"msg": "order does not exist", "code": "2001", "timestamp": 1, "success": false, "data": null})) }),
    ))
    .await;
    let bad_sign = serve(Router::new().route(
        "/v1/vexora/queryPayInResult",
        post(|| async { Json(json!({"msg": "sign error", "code": "2002", "timestamp": 1, "success": false, "data": null})) }),
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
    let _ = secrets::delete_token(&accepted);
    let _ = secrets::delete_token(&refused);
}
