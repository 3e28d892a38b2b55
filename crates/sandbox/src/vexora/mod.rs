//! Vexora's Taiwan checkout as the sandbox plays it, under the path prefix `/vexora` (a
//! profile's base URL is `http://ADDR/vexora`). It checks the `merchantNo` header and the
//! MD5 `sign` as Vexora does, enforces the checkout's field rules and the per-IP limits
//! (10 attempts and 3 successful payments per IP address a day), shows a payer page per
//! channel (Pay, Pay part, Decline), and sends signed notifications on Vexora's retry
//! schedule (compressed a hundredfold) until it reads `OK`.

pub mod spec;

use self::spec::{CHECKOUT_PATH, QUERY_PATH};
use crate::page::{escape, layout};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The demo merchant of the Vexora sandbox and its app secret (a public test value).
pub const DEMO_MERCHANT_NO: &str = "VX0001";
pub const DEMO_APP_SECRET: &str = "vx_test_secret_7f3a";

/// What the emulator answers for a trade it does not know: Vexora documents no code for
/// it, so this one is the emulator's own (the client must not depend on it).
const UNKNOWN_TRADE: &str = "4004";

const TRADE: &str = "vexora-trade";
const BY_PLATFORM_NO: &str = "vexora-platform-no";
const PER_IP: &str = "vexora-ip";

/// Per payer IP address and day.
pub const MAX_ATTEMPTS_PER_IP: u32 = 10;
pub const MAX_SUCCESSES_PER_IP: u32 = 3;

/// Vexora's notification retries (2 s, 5 s, 10 s, 30 s, 1 h, 3 h, 3 h, 3 h), a hundred
/// times faster here.
pub fn retry_schedule() -> Vec<Duration> {
    [2u64, 5, 10, 30, 3600, 10800, 10800, 10800].iter().map(|s| Duration::from_millis(s * 10)).collect()
}

/// A trade as the emulated Vexora keeps it; amounts in whole New Taiwan dollars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexoraTrade {
    pub trade_no: String,
    pub plat_form_trade_no: String,
    pub amount: i64,
    /// What arrived (all of it, part of it, or nothing yet).
    pub paid: i64,
    pub status: String,
    pub channel: String,
    pub way_code: String,
    pub ip_address: String,
    pub notify_url: String,
    pub remark: String,
    pub success_time: String,
    /// Whether a notification was answered `OK`.
    pub notified: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct IpDay {
    attempts: u32,
    successes: u32,
}

/// The demo profile `demo-vexora`: the sandbox's own merchant, selling from a documentation
/// address as the counter's public IP (the checkout asks for the payer's).
pub(crate) fn demo_merchant() -> paydesk_gateways::demo::DemoMerchant {
    paydesk_gateways::demo::DemoMerchant {
        profile: "demo-vexora".into(),
        provider: "vexora".into(),
        path: "/vexora".into(),
        notify_sink: "/vexora/sandbox/ipn-sink".into(),
        settings: crate::demo::settings(&[("merchant_no", DEMO_MERCHANT_NO), ("public_ip", "203.0.113.10")]),
        secret: paydesk_gateways::ApiSecret::new(DEMO_APP_SECRET),
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(CHECKOUT_PATH, post(checkout))
        .route(QUERY_PATH, post(query))
        .route("/pay/{id}", get(payer_page))
        .route("/pay/{id}/{outcome}", post(payer_choice))
        .route("/sandbox/settle/{id}", post(settle_hook))
        // Takes notifications when no merchant listener runs (the headless demo profile).
        .route("/sandbox/ipn-sink", post(|| async { "OK" }))
        .with_state(shared)
}

fn envelope(code: &str, msg: &str, data: Value) -> Response {
    let body = json!({"msg": msg, "code": code, "timestamp": now_ms(), "success": code == spec::TAKEN, "data": data});
    Json(body).into_response()
}

fn refuse(code: &str, msg: impl Into<String>) -> Response {
    envelope(code, &msg.into(), Value::Null)
}

fn now_ms() -> u64 {
    crate::state::now_ms()
}

fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

/// Checks the header and the sign as Vexora does; returns the fields as strings.
fn authenticate(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, Response> {
    let merchant = headers.get("merchantNo").and_then(|v| v.to_str().ok()).unwrap_or("");
    if merchant != DEMO_MERCHANT_NO {
        return Err(refuse("1002", "merchant not found"));
    }
    let Some(fields) = spec::fields_of(body) else {
        return Err(refuse("1001", "body must be a JSON object of strings"));
    };
    if !spec::verify(&fields, DEMO_APP_SECRET) {
        return Err(refuse("1003", "sign error"));
    }
    Ok(fields)
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The checkout's field rules; the first broken one, in Vexora's words.
fn check_fields(f: &BTreeMap<String, String>) -> Result<(), String> {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    for k in [
        "tradeNo",
        "amount",
        "mobile",
        "firstname",
        "lastname",
        "email",
        "channelCode",
        "wayCode",
        "ipAddress",
        "notifyUrl",
        "returnUrl",
        "timestamp",
    ] {
        if get(k).is_empty() {
            return Err(format!("{k} is required"));
        }
    }
    if !digits(get("amount")) || get("amount").starts_with('0') {
        return Err("amount must be a whole number of yuan".into());
    }
    let mobile = get("mobile");
    if !(mobile.len() == 10 && mobile.starts_with("09") && digits(mobile)) {
        return Err("mobile must be 09 followed by 8 digits".into());
    }
    if get("ipAddress").parse::<std::net::IpAddr>().is_err() {
        return Err("ipAddress must be the payer's IP address".into());
    }
    match get("channelCode") {
        "NET_BANKING" if get("bankNumber").is_empty() => Err("bankNumber is required for NET_BANKING".into()),
        "STORE" if get("postcode").is_empty() || get("address").is_empty() => {
            Err("postcode and address are required for STORE".into())
        }
        "NET_BANKING" | "STORE" | "EWALLET" => Ok(()),
        _ => Err("channelCode must be NET_BANKING, STORE or EWALLET".into()),
    }
}

fn platform_no() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

fn trade_data(shared: &Shared, t: &VexoraTrade) -> Value {
    json!({"tradeNo": t.trade_no, "platFormTradeNo": t.plat_form_trade_no, "status": t.status,
           "desc": describe(&t.status), "remark": t.remark,
           "paymentLink": format!("{}/vexora/pay/{}", shared.link_base(), t.plat_form_trade_no)})
}

fn describe(status: &str) -> &'static str {
    match status {
        spec::PAID => "Success",
        spec::PARTLY_PAID => "Partial payment",
        spec::PAYING => "Paying",
        spec::FAILED => "Failed",
        _ => "System error",
    }
}

async fn checkout(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let fields = match authenticate(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ip = fields.get("ipAddress").cloned().unwrap_or_default();
    // Every attempt counts against the payer's address, refused or not.
    let day_key = format!("{}|{ip}", today());
    shared.insert_doc(PER_IP, &day_key, IpDay::default());
    let limits = shared
        .update_doc(PER_IP, &day_key, |d: &mut IpDay| {
            d.attempts += 1;
            d.clone()
        })
        .unwrap_or_default();
    if limits.attempts > MAX_ATTEMPTS_PER_IP {
        return refuse("1005", format!("ipAddress {ip} has made {MAX_ATTEMPTS_PER_IP} attempts today"));
    }
    if limits.successes >= MAX_SUCCESSES_PER_IP {
        return refuse("1005", format!("ipAddress {ip} has paid {MAX_SUCCESSES_PER_IP} times today"));
    }
    if let Err(rule) = check_fields(&fields) {
        return refuse("1001", rule);
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let amount: i64 = get("amount").parse().unwrap_or(0);
    let candidate = VexoraTrade {
        trade_no: get("tradeNo"),
        plat_form_trade_no: platform_no(),
        amount,
        paid: 0,
        status: spec::PAYING.into(),
        channel: get("channelCode"),
        way_code: get("wayCode"),
        ip_address: ip,
        notify_url: get("notifyUrl"),
        remark: get("remark"),
        success_time: String::new(),
        notified: false,
    };
    let trade = shared.insert_doc(TRADE, &candidate.trade_no, candidate.clone());
    if trade.amount != amount {
        return refuse("1006", "tradeNo already used for another amount");
    }
    shared.insert_doc(BY_PLATFORM_NO, &trade.plat_form_trade_no, json!(trade.trade_no));
    envelope(spec::TAKEN, "success", trade_data(&shared, &trade))
}

async fn query(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let fields = match authenticate(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(t) = fields.get("tradeNo").and_then(|n| shared.doc::<VexoraTrade>(TRADE, n)) else {
        return refuse(UNKNOWN_TRADE, "trade not found");
    };
    let amount = if t.paid > 0 { t.paid } else { t.amount };
    envelope(
        spec::TAKEN,
        "success",
        json!({"tradeNo": t.trade_no, "platFormTradeNo": t.plat_form_trade_no, "status": t.status,
               "amount": amount.to_string(), "message": describe(&t.status), "successTime": t.success_time,
               "remark": t.remark}),
    )
}

fn find(shared: &Shared, id: &str) -> Option<VexoraTrade> {
    shared.doc::<VexoraTrade>(TRADE, id).or_else(|| {
        let trade_no: String = shared.doc::<Value>(BY_PLATFORM_NO, id)?.as_str()?.to_string();
        shared.doc(TRADE, &trade_no)
    })
}

/// The payer pays all, part (half, in whole dollars) or declines; notifies the merchant.
pub(crate) fn settle(shared: &Arc<Shared>, id: &str, outcome: &str) -> Option<VexoraTrade> {
    let trade_no = find(shared, id)?.trade_no;
    let (trade, changed) = shared.update_doc(TRADE, &trade_no, |t: &mut VexoraTrade| {
        if t.status != spec::PAYING {
            return (t.clone(), false);
        }
        match outcome {
            "pay" => {
                t.status = spec::PAID.into();
                t.paid = t.amount;
            }
            "partial" => {
                t.status = spec::PARTLY_PAID.into();
                t.paid = (t.amount / 2).max(1);
            }
            _ => t.status = spec::FAILED.into(),
        }
        t.success_time = jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S").to_string();
        (t.clone(), true)
    })?;
    if changed && trade.status == spec::PAID {
        let day_key = format!("{}|{}", today(), trade.ip_address);
        shared.insert_doc(PER_IP, &day_key, IpDay::default());
        shared.update_doc(PER_IP, &day_key, |d: &mut IpDay| d.successes += 1);
    }
    if changed && !trade.notify_url.is_empty() {
        notify(shared.clone(), trade.clone());
    }
    Some(trade)
}

/// The notification's fields, signed with the merchant's app secret.
pub fn notification(trade: &VexoraTrade) -> BTreeMap<String, String> {
    let mut fields: BTreeMap<String, String> = [
        ("platFormTradeNo", trade.plat_form_trade_no.clone()),
        ("tradeNo", trade.trade_no.clone()),
        ("amount", trade.paid.max(0).to_string()),
        ("status", trade.status.clone()),
        ("message", describe(&trade.status).to_string()),
        ("successTime", trade.success_time.clone()),
        ("timestamp", now_ms().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if trade.status == spec::FAILED {
        fields.insert("amount".into(), "0".into());
    }
    let sign = spec::sign(&fields, DEMO_APP_SECRET);
    fields.insert(spec::SIGN_FIELD.into(), sign);
    fields
}

/// Posts the signed notification until the merchant answers exactly `OK`.
fn notify(shared: Arc<Shared>, trade: VexoraTrade) {
    if !crate::state::may_notify(&trade.notify_url) {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    handle.spawn(async move {
        let mut delays = retry_schedule().into_iter();
        loop {
            let answer = shared.http.post(&trade.notify_url).json(&notification(&trade)).send().await;
            let ok = match answer {
                Ok(r) => r.text().await.is_ok_and(|t| t.trim() == "OK"),
                Err(_) => false,
            };
            if ok {
                shared.update_doc(TRADE, &trade.trade_no, |t: &mut VexoraTrade| t.notified = true);
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
}

/// `POST /vexora/sandbox/settle/{tradeNo}` with `{"outcome":"pay"|"partial"|"decline"}`.
async fn settle_hook(State(shared): State<Arc<Shared>>, Path(id): Path<String>, Json(o): Json<Outcome>) -> Response {
    if !matches!(o.outcome.as_str(), "pay" | "partial" | "decline") {
        return (StatusCode::BAD_REQUEST, "outcome must be pay, partial or decline").into_response();
    }
    match settle(&shared, &id, &o.outcome) {
        Some(t) => Json(t).into_response(),
        None => (StatusCode::NOT_FOUND, "no such trade").into_response(),
    }
}

/// What the payer sees: how to pay by the trade's channel, and the test buttons.
async fn payer_page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match find(&shared, &id) {
        Some(t) => payer_body(&t).into_response(),
        None => (StatusCode::NOT_FOUND, layout("Not found", "<h1>No such payment</h1>")).into_response(),
    }
}

fn payer_body(t: &VexoraTrade) -> axum::response::Html<String> {
    let how = match t.channel.as_str() {
        "NET_BANKING" => {
            "Transfer the amount from the account you named to Vexora's collection account 808-0000000000001."
                .to_string()
        }
        "STORE" => format!(
            "Pay at the counter of any {} store with this code: VX{}.",
            escape(&t.way_code),
            escape(&t.plat_form_trade_no).to_uppercase()
        ),
        _ => "Open your e-wallet and confirm the payment.".to_string(),
    };
    let summary = format!(
        r#"<p class="muted">Vexora · {channel}</p><div class="amount" id="amount">NT${amount}</div><p class="muted">Trade {no}</p>"#,
        channel = escape(&t.channel),
        amount = t.amount,
        no = escape(&t.trade_no)
    );
    let body = if t.status == spec::PAYING {
        let button = |outcome: &str, class: &str, label: &str| {
            format!(
                r#"<form method="post" action="/vexora/pay/{id}/{outcome}" style="display:inline"><button class="{class}" id="{outcome}">{label}</button></form>"#,
                id = escape(&t.plat_form_trade_no)
            )
        };
        format!(
            "<h1>Pay NT${}</h1>{summary}<p>{how}</p>{}{}{}",
            t.amount,
            button("pay", "pay", "Pay"),
            button("partial", "decline", "Pay part"),
            button("decline", "decline", "Decline")
        )
    } else {
        let headline = match t.status.as_str() {
            spec::PAID => "Paid".to_string(),
            spec::PARTLY_PAID => format!("Partly paid: NT${} of NT${}", t.paid, t.amount),
            _ => "Declined".to_string(),
        };
        format!(r#"<h1 id="result">{}</h1>{summary}"#, escape(&headline))
    };
    layout("Vexora sandbox", &body)
}

async fn payer_choice(State(shared): State<Arc<Shared>>, Path((id, outcome)): Path<(String, String)>) -> Response {
    if !matches!(outcome.as_str(), "pay" | "partial" | "decline") {
        return (StatusCode::NOT_FOUND, layout("Not found", "<h1>No such choice</h1>")).into_response();
    }
    match settle(&shared, &id, &outcome) {
        Some(t) => payer_body(&t).into_response(),
        None => (StatusCode::NOT_FOUND, layout("Not found", "<h1>No such payment</h1>")).into_response(),
    }
}
