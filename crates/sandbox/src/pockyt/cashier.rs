//! The customer's side of the counter and link payments: the cashier page a QR leads to, and
//! the test hooks.

use crate::page::{escape, layout};
use crate::state::{SandboxPayment, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, layout("Not found", "<h1>No such payment</h1>")).into_response()
}

fn callback_link(p: &SandboxPayment) -> String {
    p.callback_url
        .replace("{transactionNo}", &p.transaction_no)
        .replace("{reference}", &p.reference)
        .replace("{amount}", &p.amount)
        .replace("{status}", &p.status)
}

fn summary(p: &SandboxPayment) -> String {
    format!(
        r#"<p class="muted">Merchant {m} · {vendor}</p><div class="amount" id="amount">{amount} {currency}</div>
<p class="muted">Reference {reference}<br>{description}</p>"#,
        m = escape(&p.merchant_no),
        vendor = escape(super::spec::wallet_name(&p.vendor)),
        amount = escape(&p.amount),
        currency = escape(&p.currency),
        reference = escape(&p.reference),
        description = escape(&p.description),
    )
}

pub async fn page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(p) = shared.find(&id) else { return not_found() };
    let body = if p.status == "init" {
        format!(
            r#"<h1>Pay with {vendor}</h1>{summary}
<form method="post" action="/cashier/{no}/pay" style="display:inline"><button class="pay" id="pay">Pay</button></form>
<form method="post" action="/cashier/{no}/decline" style="display:inline"><button class="decline" id="decline">Decline</button></form>"#,
            vendor = escape(super::spec::wallet_name(&p.vendor)),
            summary = summary(&p),
            no = escape(&p.transaction_no)
        )
    } else {
        result_body(&p)
    };
    layout("Sandbox cashier", &body).into_response()
}

fn result_body(p: &SandboxPayment) -> String {
    let headline = match p.status.as_str() {
        "success" => "Paid",
        "failed" => "Declined",
        "closed" if p.cancelled => "Cancelled",
        "closed" => "Expired",
        other => other,
    };
    format!(
        r#"<h1 id="result">{headline}</h1>{summary}<p><a href="{back}">Return to the merchant</a></p>"#,
        summary = summary(p),
        back = escape(&callback_link(p))
    )
}

async fn settle_page(shared: Arc<Shared>, id: String, pay: bool) -> Response {
    match super::ipn::settle(&shared, &id, pay) {
        Some(p) => layout("Sandbox cashier", &result_body(&p)).into_response(),
        None => not_found(),
    }
}

pub async fn pay(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    settle_page(shared, id, true).await
}

pub async fn decline(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    settle_page(shared, id, false).await
}

#[derive(Debug, Deserialize, Default)]
pub struct SettleHook {
    /// "pay" (default) or "decline".
    #[serde(default)]
    pub outcome: Option<String>,
}

/// Test hook: settle without a browser. Body `{"outcome":"pay"|"decline"}` (optional).
pub async fn settle_hook(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Option<Json<SettleHook>>,
) -> Response {
    let outcome = body.and_then(|Json(b)| b.outcome).unwrap_or_else(|| "pay".into());
    let pay = match outcome.as_str() {
        "pay" => true,
        "decline" => false,
        other => {
            return (StatusCode::BAD_REQUEST, format!("outcome must be pay or decline, got {other}")).into_response()
        }
    };
    match super::ipn::settle(&shared, &id, pay) {
        Some(p) => Json(p).into_response(),
        None => (StatusCode::NOT_FOUND, "no such payment").into_response(),
    }
}

pub async fn inspect(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.find(&id) {
        Some(p) => Json(p).into_response(),
        None => (StatusCode::NOT_FOUND, "no such payment").into_response(),
    }
}
