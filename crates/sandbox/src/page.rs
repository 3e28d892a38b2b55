//! The pages a shopper sees in the sandbox: one layout for every emulated provider.

use crate::state::Shared;
use axum::extract::State;
use axum::response::Html;
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

pub async fn index(State(shared): State<Arc<Shared>>) -> Html<String> {
    layout(
        "Paydesk sandbox",
        &format!(
            "<h1>Paydesk sandbox</h1><p>Emulates the payment providers Paydesk speaks to, at <code>{}</code>. Test money only.</p>",
            escape(&shared.link_base())
        ),
    )
}

pub async fn returned() -> Html<String> {
    layout("Payment finished", "<h1>Thank you</h1><p>You can close this page.</p>")
}
