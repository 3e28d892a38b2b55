//! The hosted checkout page a session's link opens, as the sandbox shows it to a shopper.

use super::*;

/// Test cards of the hosted page: the first pays, the second is declined.
const CARD_PAYS: &str = "4242424242424242";
const CARD_DECLINED: &str = "4000000000000002";

fn hosted_order(shared: &Shared, session: &str) -> Option<PaykkaOrder> {
    let trans = shared.doc::<Value>(SESSION, session)?;
    shared.doc::<PaykkaOrder>(ORDER, trans["trans_id"].as_str()?)
}

/// The hosted page a session link opens: a card form taking the test cards, with "save
/// card" when the merchant named a shopper; once settled, the result.
pub(super) async fn page(State(shared): State<Arc<Shared>>, Path(session): Path<String>) -> Response {
    match hosted_order(&shared, &session) {
        Some(o) => hosted_body(&session, &o, None).into_response(),
        None => (StatusCode::NOT_FOUND, crate::page::layout("Not found", "<h1>No such session</h1>")).into_response(),
    }
}

fn hosted_body(session: &str, o: &PaykkaOrder, problem: Option<&str>) -> Html<String> {
    use crate::page::escape;
    let amount = format!("{} {}", crate::spec::money::format(o.amount, &o.currency), o.currency);
    let summary = format!(
        r#"<p class="muted">PayKKa merchant {m}</p><div class="amount" id="amount">{amount}</div><p class="muted">Order {id}</p>"#,
        m = escape(&o.merchant_id),
        id = escape(&o.trans_id),
    );
    let body = if o.status == "PROCESSING" {
        let save = if o.shopper_reference.is_empty() {
            String::new()
        } else {
            let checked = if o.store_payment_method { " checked" } else { "" };
            r#"<p><label><input type="checkbox" name="save_card" id="save-card" value="on"CHECKED> Save this card for next time</label></p>"#
                .replace("CHECKED", checked)
        };
        let problem =
            problem.map(|p| format!(r#"<p class="banner" id="problem">{}</p>"#, escape(p))).unwrap_or_default();
        format!(
            r#"<h1>Pay by card</h1>{summary}{problem}
<form method="post" action="/paykka/checkout/{session}">
<p><label>Card number<br><input name="card_number" id="card-number" inputmode="numeric" autocomplete="off" size="24"></label></p>
<p><label>Expiry<br><input name="expiry" id="expiry" placeholder="MM/YY" size="6"></label>
<label>CVC<br><input name="cvc" id="cvc" size="4"></label></p>{save}
<p><button class="pay" id="pay">Pay {amount}</button></p></form>
<p class="muted">Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.</p>"#,
            session = escape(session),
            amount = escape(&amount),
        )
    } else {
        let headline = match o.status.as_str() {
            "SUCCESS" => "Paid",
            "AUTHORIZED" => "Authorised",
            "FAILURE" => "Declined",
            "CANCELLED" | "CLOSED" => "Closed",
            other => other,
        };
        format!(r#"<h1 id="result">{}</h1>{summary}"#, escape(headline))
    };
    crate::page::layout("PayKKa sandbox checkout", &body)
}

#[derive(Deserialize)]
pub(super) struct CardForm {
    #[serde(default)]
    card_number: String,
    #[serde(default)]
    save_card: Option<String>,
}

/// The shopper submits the card form: a test card settles the session, anything else is
/// asked again.
pub(super) async fn pay(
    State(shared): State<Arc<Shared>>,
    Path(session): Path<String>,
    axum::Form(card): axum::Form<CardForm>,
) -> Response {
    let Some(order) = hosted_order(&shared, &session) else {
        return (StatusCode::NOT_FOUND, crate::page::layout("Not found", "<h1>No such session</h1>")).into_response();
    };
    let digits: String = card.card_number.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let pay = match digits.as_str() {
        CARD_PAYS => true,
        CARD_DECLINED => false,
        _ => {
            let problem = "Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.";
            return (StatusCode::UNPROCESSABLE_ENTITY, hosted_body(&session, &order, Some(problem))).into_response();
        }
    };
    let save_card = card.save_card.is_some_and(|v| v == "on");
    match settle(&shared, &session, pay, save_card) {
        Some(o) => hosted_body(&session, &o, None).into_response(),
        None => (StatusCode::NOT_FOUND, crate::page::layout("Not found", "<h1>No such session</h1>")).into_response(),
    }
}
