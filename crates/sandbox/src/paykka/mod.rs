//! PayKKa v3 as the sandbox plays it, under the path prefix `/paykka` (a profile's base URL
//! is `http://ADDR/paykka`). It verifies `x-paykka-sign` over the API path (without the
//! prefix) with the merchant's public key, exactly as PayKKa does: a bad signature answers
//! 206003, a timestamp more than 5 minutes off 206004, an unknown merchant 206005, an
//! unknown order 206024. It signs its answers and webhooks with its own platform key.

mod hosted;
pub mod spec;

use self::spec::{self as api, Signer256};
use crate::state::Shared;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// The demo merchant of the PayKKa sandbox.
pub const DEMO_MERCHANT_ID: &str = "18356675194960";
pub const DEMO_APP_ID: &str = "paydesk-demo";
/// Its public key (the project's test-vector key); the private half is the demo profile's.
pub const DEMO_MERCHANT_PUBLIC_KEY: &str = include_str!("../../keys/paykka-demo-merchant-public.pem");
/// The demo merchant's private key: the public test vector, which demo mode signs with.
pub const DEMO_MERCHANT_PRIVATE_KEY: &str = include_str!("../../keys/paykka-demo-merchant-private.pem");
pub const PLATFORM_PUBLIC_KEY: &str = include_str!("../../keys/paykka-sandbox-platform-public.pem");
const PLATFORM_PRIVATE_KEY: &str = include_str!("../../keys/paykka-sandbox-platform-private.pem");

const ORDER: &str = "paykka-order";
const SESSION: &str = "paykka-session";
const TOKENS: &str = "paykka-tokens";

/// An order as the emulated PayKKa keeps it; amounts in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaykkaOrder {
    pub trans_id: String,
    pub order_id: String,
    pub session_id: String,
    pub merchant_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub capture_method: String,
    pub notify_url: String,
    pub shopper_reference: String,
    pub store_payment_method: bool,
    pub balances: Value,
    pub refunds: Vec<(String, String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
struct Tokens {
    tokens: Vec<Value>,
}

/// The demo profile `demo-paykka`: the sandbox's own merchant and keys (test values).
pub(crate) fn demo_merchant() -> paydesk_gateways::demo::DemoMerchant {
    paydesk_gateways::demo::DemoMerchant {
        profile: "demo-paykka".into(),
        provider: "paykka".into(),
        path: "/paykka".into(),
        notify_sink: "/sandbox/ipn-sink".into(),
        settings: crate::demo::settings(&[
            ("merchant_id", DEMO_MERCHANT_ID),
            ("app_id", DEMO_APP_ID),
            ("platform_public_key", PLATFORM_PUBLIC_KEY.trim()),
        ]),
        secret: paydesk_gateways::ApiSecret::new(DEMO_MERCHANT_PRIVATE_KEY),
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(api::SESSION_PATH, post(session))
        .route(api::QUERY_PATH, post(query))
        .route(api::CAPTURE_PATH, post(capture))
        .route(api::VOID_PATH, post(void))
        .route(api::REFUND_PATH, post(refund))
        .route(api::TOKEN_QUERY_PATH, post(token_query))
        .route(api::TOKEN_REMOVE_PATH, post(token_remove))
        .route(api::RECURRING_CANCEL_PATH, post(recurring_cancel))
        .route(api::APPLE_PAY_PATH, post(apple_pay))
        .route("/sandbox/platform-public-key", get(|| async { PLATFORM_PUBLIC_KEY }))
        .route("/sandbox/settle/{id}", post(settle_hook))
        .route("/checkout/{session}", get(hosted::page).post(hosted::pay))
        .with_state(shared)
}

/// The platform key, parsed once (parsing an RSA key costs more than signing with it).
fn platform_key() -> &'static Signer256 {
    static KEY: std::sync::OnceLock<Signer256> = std::sync::OnceLock::new();
    KEY.get_or_init(|| Signer256::from_pem(PLATFORM_PRIVATE_KEY).expect("the sandbox platform key"))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn nonce() -> String {
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// An answer signed with the platform key over the API path.
fn signed(path: &str, status: StatusCode, body: Value) -> Response {
    let text = body.to_string();
    let (ts, n) = (now_ms().to_string(), nonce());
    let key = platform_key();
    let sign = key.header(&api::string_to_sign("POST", path, &ts, &n, &text));
    (
        status,
        [
            (header::CONTENT_TYPE.as_str(), "application/json".to_string()),
            ("x-paykka-timestamp", ts),
            ("x-paykka-nonce", n),
            ("x-paykka-sign-alg", api::SIGN_ALG.to_string()),
            ("x-paykka-sign", sign),
        ],
        text,
    )
        .into_response()
}

/// Signs `body` for `path` as the sandbox's platform would, at `timestamp_ms` with `nonce`:
/// the webhook headers, for tests that forge or replay one.
pub fn platform_headers(path: &str, body: &str, timestamp_ms: u64, nonce: &str) -> Vec<(&'static str, String)> {
    let ts = timestamp_ms.to_string();
    let key = platform_key();
    let sign = key.header(&api::string_to_sign("POST", path, &ts, nonce, body));
    vec![
        ("x-paykka-timestamp", ts),
        ("x-paykka-nonce", nonce.to_string()),
        ("x-paykka-sign-alg", api::SIGN_ALG.to_string()),
        ("x-paykka-sign", sign),
    ]
}

fn fail(path: &str, code: &str, msg: &str) -> Response {
    let status = if matches!(code, "206002" | "206003" | "206004") { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    signed(path, status, json!({"ret_code": code, "ret_msg": msg}))
}

fn ok(path: &str, data: Value) -> Response {
    signed(path, StatusCode::OK, json!({"ret_code": "000000", "ret_msg": "Success", "data": data}))
}

/// Checks headers, signature, timestamp and merchant as PayKKa does; returns the body.
fn authenticate(path: &str, headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (ts, n, sign) = (get("x-paykka-timestamp"), get("x-paykka-nonce"), get("x-paykka-sign"));
    if sign.is_empty() || n.len() < 10 || ts.is_empty() {
        return Err(fail(path, "206002", "signature missing"));
    }
    let Ok(text) = std::str::from_utf8(body) else { return Err(fail(path, "010000", "invalid request")) };
    let message = api::string_to_sign("POST", path, ts, n, text);
    if !api::verify(DEMO_MERCHANT_PUBLIC_KEY, &message, sign) {
        return Err(fail(path, "206003", "signature error"));
    }
    let sent: u64 = ts.parse().unwrap_or(0);
    if now_ms().abs_diff(sent) > 5 * 60 * 1000 {
        return Err(fail(path, "206004", "signature expired"));
    }
    let body: Value = serde_json::from_str(text).map_err(|_| fail(path, "010000", "invalid request"))?;
    if body["merchant_id"] != DEMO_MERCHANT_ID || get("x-paykka-appid") != DEMO_APP_ID {
        return Err(fail(path, "206005", "merchant does not exist"));
    }
    Ok(body)
}

fn order_data(o: &PaykkaOrder) -> Value {
    json!({
        "merchant_id": o.merchant_id, "trans_id": o.trans_id, "order_id": o.order_id, "session_id": o.session_id,
        "status": o.status, "capture_method": o.capture_method, "amount": o.amount, "currency": o.currency,
        "shopper_reference": o.shopper_reference, "balances": o.balances,
    })
}

fn balances(authed: i64, captured: i64, capturable: i64, voidable: i64, refunded: i64, refundable: i64) -> Value {
    json!({"authed_amount": authed, "captured_amount": captured, "able_to_capture_amount": capturable,
           "voided_amount": 0, "able_to_void_amount": voidable, "refunded_amount": refunded,
           "able_to_refund_amount": refundable})
}

async fn session(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::SESSION_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let trans_id = b["trans_id"].as_str().unwrap_or("").to_string();
    let amount = b["amount"].as_i64().unwrap_or(0);
    let currency = b["currency"].as_str().unwrap_or("").to_string();
    if trans_id.is_empty() || amount <= 0 || currency.len() != 3 {
        return fail(path, "010000", "trans_id, amount and currency are required");
    }
    let session_id = format!("SS{}", nonce()[..20].to_uppercase());
    let order = PaykkaOrder {
        trans_id: trans_id.clone(),
        order_id: String::new(),
        session_id,
        merchant_id: DEMO_MERCHANT_ID.into(),
        amount,
        currency,
        status: "PROCESSING".into(),
        capture_method: b["capture_method"].as_str().unwrap_or("AUTOMATIC").into(),
        notify_url: b["notify_url"].as_str().unwrap_or("").into(),
        shopper_reference: b["payment"]["shopper_reference"].as_str().unwrap_or("").into(),
        store_payment_method: b["payment"]["store_payment_method"].as_bool().unwrap_or(false),
        balances: balances(0, 0, 0, 0, 0, 0),
        refunds: Vec::new(),
    };
    // One session per trans_id: a retry gets the same one; another sale may not reuse it.
    let stored = shared.insert_doc(ORDER, &trans_id, order.clone());
    if stored.amount != order.amount || stored.currency != order.currency {
        return fail(path, "010000", "trans_id has already been used for another payment");
    }
    shared.insert_doc(SESSION, &stored.session_id, json!({"trans_id": trans_id}));
    ok(
        path,
        json!({"session_id": stored.session_id, "session_url": format!("{}/paykka/checkout/{}", shared.link_base(), stored.session_id),
               "trans_id": stored.trans_id, "amount": stored.amount, "currency": stored.currency}),
    )
}

pub(crate) fn order(shared: &Shared, trans_id: &str) -> Option<PaykkaOrder> {
    shared.doc(ORDER, trans_id)
}

/// An order by trans_id, order_id or session_id.
fn find(shared: &Shared, b: &Value) -> Option<PaykkaOrder> {
    let s = |k: &str| b[k].as_str().filter(|v| !v.is_empty()).map(String::from);
    if let Some(t) = s("trans_id") {
        return shared.doc(ORDER, &t);
    }
    if let Some(session) = s("session_id").or_else(|| s("id")) {
        let trans: Value = shared.doc(SESSION, &session)?;
        return shared.doc(ORDER, trans["trans_id"].as_str()?);
    }
    let order_id = s("order_id").or_else(|| s("ori_order_id"))?;
    shared.docs::<PaykkaOrder>(ORDER).into_iter().find(|o| o.order_id == order_id)
}

async fn query(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::QUERY_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match find(&shared, &b) {
        Some(o) => ok(path, order_data(&o)),
        None => fail(path, "206024", "order does not exist"),
    }
}

async fn capture(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::CAPTURE_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(o) = find(&shared, &b) else { return fail(path, "206024", "order does not exist") };
    let amount = b["amount"].as_i64().unwrap_or(0);
    let finalize = b["capture_final"].as_bool().unwrap_or(false);
    let done = shared.update_doc(ORDER, &o.trans_id, |o: &mut PaykkaOrder| {
        let capturable = o.balances["able_to_capture_amount"].as_i64().unwrap_or(0);
        if o.status != "AUTHORIZED" && !(o.status == "SUCCESS" && capturable > 0) {
            return Err("order status does not allow capture");
        }
        if b["currency"] != o.currency.as_str() {
            return Err("currency differs from the payment's");
        }
        if amount <= 0 || amount > capturable {
            return Err("amount exceeds the capturable amount");
        }
        let captured = o.balances["captured_amount"].as_i64().unwrap_or(0) + amount;
        let left = if finalize { 0 } else { capturable - amount };
        let refunded = o.balances["refunded_amount"].as_i64().unwrap_or(0);
        o.balances = balances(o.amount, captured, left, left, refunded, captured - refunded);
        o.status = "SUCCESS".into();
        Ok(o.clone())
    });
    match done {
        Some(Ok(o)) => ok(path, order_data(&o)),
        Some(Err(m)) => fail(path, "010000", m),
        None => fail(path, "206024", "order does not exist"),
    }
}

async fn void(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::VOID_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(o) = find(&shared, &b) else { return fail(path, "206024", "order does not exist") };
    let done = shared.update_doc(ORDER, &o.trans_id, |o: &mut PaykkaOrder| {
        let voidable = o.balances["able_to_void_amount"].as_i64().unwrap_or(0);
        if voidable <= 0 || !matches!(o.status.as_str(), "AUTHORIZED" | "SUCCESS") {
            return Err("nothing on this order is authorised and uncaptured");
        }
        let captured = o.balances["captured_amount"].as_i64().unwrap_or(0);
        let refunded = o.balances["refunded_amount"].as_i64().unwrap_or(0);
        // Nothing captured: the order is cancelled; else the rest of the authorisation is
        // released and the order stands at what was captured.
        o.status = if captured == 0 { "CANCELED" } else { "SUCCESS" }.into();
        o.balances = balances(o.amount, captured, 0, 0, refunded, captured - refunded);
        o.balances["voided_amount"] = json!(voidable);
        Ok(o.clone())
    });
    match done {
        Some(Ok(o)) => ok(path, order_data(&o)),
        Some(Err(m)) => fail(path, "010000", m),
        None => fail(path, "206024", "order does not exist"),
    }
}

async fn refund(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::REFUND_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(o) = find(&shared, &b) else { return fail(path, "206024", "order does not exist") };
    let refund_trans_id = b["refund_trans_id"].as_str().unwrap_or("").to_string();
    let amount = b["refund_amount"].as_i64().unwrap_or(0);
    let done = shared.update_doc(ORDER, &o.trans_id, |o: &mut PaykkaOrder| {
        if let Some((_, no, a)) = o.refunds.iter().find(|(t, _, _)| *t == refund_trans_id) {
            // The same refund sent again answers the same.
            return if *a == amount { Ok(no.clone()) } else { Err("refund_trans_id has already been used") };
        }
        let refundable = o.balances["able_to_refund_amount"].as_i64().unwrap_or(0);
        if refund_trans_id.is_empty() || amount <= 0 || amount > refundable || b["currency"] != o.currency.as_str() {
            return Err("refund_amount exceeds the refundable amount");
        }
        let no = format!("RF{}", &nonce()[..16]);
        o.refunds.push((refund_trans_id.clone(), no.clone(), amount));
        let refunded = o.balances["refunded_amount"].as_i64().unwrap_or(0) + amount;
        o.balances["refunded_amount"] = json!(refunded);
        o.balances["able_to_refund_amount"] = json!(refundable - amount);
        o.status = if refundable - amount == 0 { "REFUNDED" } else { "PARTIALLY_REFUNDED" }.into();
        Ok(no)
    });
    match done {
        Some(Ok(no)) => {
            ok(path, json!({"refund_trans_id": refund_trans_id, "refund_order_id": no, "status": "SUCCESS"}))
        }
        Some(Err(m)) => fail(path, "010000", m),
        None => fail(path, "206024", "order does not exist"),
    }
}

async fn token_query(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::TOKEN_QUERY_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(shopper) = b["shopper_reference"].as_str().filter(|s| !s.is_empty()) else {
        return fail(path, "210002", "shopper_reference empty");
    };
    let tokens: Tokens = shared.doc(TOKENS, shopper).unwrap_or_default();
    ok(path, Value::Array(tokens.tokens))
}

async fn token_remove(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::TOKEN_REMOVE_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let shopper = b["shopper_reference"].as_str().unwrap_or("");
    let token = b["token"].as_str().unwrap_or("");
    let removed = shared.update_doc(TOKENS, shopper, |t: &mut Tokens| {
        let before = t.tokens.len();
        t.tokens.retain(|x| x["token"] != token);
        before != t.tokens.len()
    });
    match removed {
        Some(true) => ok(path, Value::Null),
        _ => fail(path, "010000", "token does not exist for this shopper"),
    }
}

async fn recurring_cancel(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::RECURRING_CANCEL_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let shopper = b["shopper_reference"].as_str().unwrap_or("");
    let agreement = b["recurring_agreement_id"].as_str().unwrap_or("");
    if shopper.is_empty() || agreement.is_empty() {
        return fail(path, "010000", "shopper_reference and recurring_agreement_id are required");
    }
    let _ = shared.doc::<Tokens>(TOKENS, shopper);
    ok(path, json!({"recurring_agreement_id": agreement, "status": "CANCELED"}))
}

async fn apple_pay(State(_shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let path = api::APPLE_PAY_PATH;
    let b = match authenticate(path, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let domain = b["domain_name"].as_str().unwrap_or("");
    if domain.is_empty() || domain.contains("://") || domain.contains(':') || domain.contains('/') {
        return fail(path, "010000", "domain_name must be a bare domain (no scheme, no port)");
    }
    ok(path, json!({"session_data": format!("sandbox-apple-pay-session-for-{domain}")}))
}

/// Pays (or declines) a session as a shopper would; the order then exists, with its id.
pub(crate) fn settle(shared: &Arc<Shared>, id: &str, pay: bool, save_card: bool) -> Option<PaykkaOrder> {
    let trans_id = match shared.doc::<PaykkaOrder>(ORDER, id) {
        Some(o) => o.trans_id,
        None => shared.doc::<Value>(SESSION, id)?["trans_id"].as_str()?.to_string(),
    };
    let (order, changed) = shared.update_doc(ORDER, &trans_id, |o: &mut PaykkaOrder| {
        if o.status != "PROCESSING" {
            return (o.clone(), false);
        }
        o.order_id = format!("GW{}", &nonce()[..18].to_uppercase());
        if !pay {
            o.status = "FAILURE".into();
        } else if o.capture_method == "MANUAL" {
            o.status = "AUTHORIZED".into();
            o.balances = balances(o.amount, 0, o.amount, o.amount, 0, 0);
        } else {
            o.status = "SUCCESS".into();
            o.balances = balances(o.amount, o.amount, 0, 0, 0, o.amount);
        }
        (o.clone(), true)
    })?;
    if changed && pay && (save_card || order.store_payment_method) && !order.shopper_reference.is_empty() {
        // The documents' token list names no card; their payment answers carry `card_info`
        // (bin, last4, card_brand). Assumed here: a list may carry it too, with the expiry.
        let token = json!({"token": format!("TK{}", &nonce()[..16]), "token_usage": "CARD_ON_FILE",
                           "payment_method": "BANKCARD", "status": "ACTIVATE",
                           "card_info": {"bin": "424242", "last4": "4242", "card_brand": "VISA",
                                         "expiry_month": "03", "expiry_year": "2030"}});
        shared.insert_doc(TOKENS, &order.shopper_reference, Tokens::default());
        shared.update_doc(TOKENS, &order.shopper_reference, |t: &mut Tokens| t.tokens.push(token));
    }
    if changed && !order.notify_url.is_empty() {
        send_webhook(shared.clone(), order.clone());
    }
    Some(order)
}

/// A signed webhook to the order's notify_url (signed over that URL's path), retried
/// until answered 200.
fn send_webhook(shared: Arc<Shared>, order: PaykkaOrder) {
    if !crate::state::may_notify(&order.notify_url) {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    handle.spawn(async move {
        let notify_type = match order.status.as_str() {
            "SUCCESS" => "PAYMENT.SUCCESS",
            "AUTHORIZED" => "PAYMENT.AUTHORIZATION",
            _ => "PAYMENT.FAILURE",
        };
        let mut body = order_data(&order);
        body["notify_type"] = json!(notify_type);
        let text = body.to_string();
        let path = url::Url::parse(&order.notify_url).map(|u| u.path().to_string()).unwrap_or_default();
        let mut delays = shared.config.ipn_retry_delays.clone().into_iter();
        loop {
            let (ts, n) = (now_ms().to_string(), nonce());
            let key = platform_key();
            let sign = key.header(&api::string_to_sign("POST", &path, &ts, &n, &text));
            let answer = shared
                .http
                .post(&order.notify_url)
                .header("content-type", "application/json")
                .header("x-paykka-timestamp", ts)
                .header("x-paykka-nonce", n)
                .header("x-paykka-sign-alg", api::SIGN_ALG)
                .header("x-paykka-sign", sign)
                .body(text.clone())
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            match delays.next() {
                Some(d) => tokio::time::sleep(d).await,
                None => return,
            }
        }
    });
}

#[derive(Deserialize)]
struct Outcome {
    outcome: String,
    #[serde(default)]
    save_card: bool,
}

/// `POST /paykka/sandbox/settle/{trans_id or session_id}` with `{"outcome":"pay"|"decline"}`.
async fn settle_hook(State(shared): State<Arc<Shared>>, Path(id): Path<String>, Json(o): Json<Outcome>) -> Response {
    let pay = match o.outcome.as_str() {
        "pay" => true,
        "decline" => false,
        _ => return (StatusCode::BAD_REQUEST, "outcome must be pay or decline").into_response(),
    };
    match settle(&shared, &id, pay, o.save_card) {
        Some(order) => Json(order_data(&order)).into_response(),
        None => (StatusCode::NOT_FOUND, "no such session or order").into_response(),
    }
}
