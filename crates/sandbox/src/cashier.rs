//! The customer's side: the cashier page a QR leads to, and the test hooks.

use crate::state::{SandboxPayment, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub(crate) fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}}
.amount{{font-size:2.5rem;font-variant-numeric:tabular-nums;margin:.5rem 0}} .muted{{color:#5b6470}}
button{{font-size:1.2rem;padding:.8rem 1.6rem;border-radius:.5rem;border:0;margin-right:.5rem;cursor:pointer}}
.pay{{background:#1a7f37;color:#fff}} .decline{{background:#d0d7de}} .banner{{background:#fff8c5;padding:.5rem;border-radius:.4rem}}
</style></head><body><p class="banner">Paydesk sandbox — no real money moves here.</p>{body}</body></html>"#,
        title = escape(title)
    ))
}

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
        vendor = escape(crate::spec::pockyt::wallet_name(&p.vendor)),
        amount = escape(&p.amount),
        currency = escape(&p.currency),
        reference = escape(&p.reference),
        description = escape(&p.description),
    )
}

pub async fn index(State(shared): State<Arc<Shared>>) -> Html<String> {
    layout(
        "Paydesk sandbox",
        &format!(
            "<h1>Paydesk sandbox</h1><p>Emulates Pockyt at <code>{}</code>. Payments open at <code>/cashier/&lt;transactionNo&gt;</code>.</p>",
            escape(&shared.link_base())
        ),
    )
}

pub async fn page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(p) = shared.find(&id) else { return not_found() };
    let body = if p.status == "init" {
        format!(
            r#"<h1>Pay with {vendor}</h1>{summary}
<form method="post" action="/cashier/{no}/pay" style="display:inline"><button class="pay" id="pay">Pay</button></form>
<form method="post" action="/cashier/{no}/decline" style="display:inline"><button class="decline" id="decline">Decline</button></form>"#,
            vendor = escape(crate::spec::pockyt::wallet_name(&p.vendor)),
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
    match crate::ipn::settle(&shared, &id, pay) {
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

pub async fn returned() -> Html<String> {
    layout("Payment finished", "<h1>Thank you</h1><p>You can close this page.</p>")
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
    match crate::ipn::settle(&shared, &id, pay) {
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
