//! Pockyt's API as the sandbox answers it: same envelope, same ret_codes, same signature.

mod cashier;
mod customers;
pub(crate) mod ipn;
pub mod spec;

use crate::spec::money;
use crate::state::{now_ms, SandboxPayment, SandboxRefund, Shared};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use paydesk_gateways::demo::DemoMerchant;
use paydesk_gateways::ApiSecret;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The API at the sandbox's root (a profile's base URL is the sandbox's own), the cashier
/// pages its QR codes and links open, and the test hooks that settle without a browser.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(spec::SECURE_PAY_PATH, post(secure_pay))
        .route(spec::TRAN_QUERY_PATH, post(tran_query))
        .route(spec::COUNTER_QR_PATH, post(counter_qr))
        .route(spec::REFUND_PATH, post(refund))
        .route(spec::CANCEL_PATH, post(cancel))
        .route(spec::CUSTOMER_CREATE_PATH, post(customers::create))
        .route(spec::CUSTOMER_RETRIEVE_PATH, post(customers::retrieve))
        .route(spec::CUSTOMER_UPDATE_PATH, post(customers::update))
        .route("/cashier/{id}", get(cashier::page))
        .route("/cashier/{id}/pay", post(cashier::pay))
        .route("/cashier/{id}/decline", post(cashier::decline))
        .route("/sandbox/settle/{id}", post(cashier::settle_hook))
        .route("/sandbox/payments/{id}", get(cashier::inspect))
        .with_state(shared)
}

/// The demo profile `demo`: the documented example merchant (public test values).
pub(crate) fn demo_merchant() -> DemoMerchant {
    DemoMerchant {
        profile: "demo".into(),
        provider: "pockyt".into(),
        path: String::new(),
        notify_sink: "/sandbox/ipn-sink".into(),
        settings: crate::demo::settings(&[
            ("merchant_no", spec::EXAMPLE_MERCHANT_NO),
            ("store_no", spec::EXAMPLE_STORE_NO),
        ]),
        secret: ApiSecret::new(spec::EXAMPLE_TOKEN),
    }
}

pub(crate) type Reply = Json<Value>;

pub(crate) fn fail(code: &str, msg: impl Into<String>) -> Reply {
    Json(json!({"ret_code": code, "ret_msg": msg.into()}))
}

pub(crate) fn ok(result: Value, msg: &str) -> Reply {
    Json(json!({"ret_code": spec::SUCCESS, "ret_msg": msg, "result": result}))
}

/// Checks the body is all strings, the merchant is known and `verifySign` holds.
pub(crate) fn authenticate(shared: &Shared, body: Map<String, Value>) -> Result<BTreeMap<String, String>, Reply> {
    let mut params = BTreeMap::new();
    for (k, v) in body {
        match v {
            Value::String(s) => {
                params.insert(k, s);
            }
            Value::Null => {}
            other => return Err(fail("000023", format!("{k} must be a string, got {other}"))),
        }
    }
    for field in ["merchantNo", "storeNo", spec::SIGN_FIELD] {
        if params.get(field).is_none_or(|v| v.is_empty()) {
            return Err(fail("000020", format!("{field} is null")));
        }
    }
    let merchant = shared
        .merchant(&params["merchantNo"], &params["storeNo"])
        .ok_or_else(|| fail("000021", "merchantNo/storeNo has no related information"))?;
    if !spec::verify(&params, merchant.token.expose()) {
        return Err(fail("000022", "verifySign does not match"));
    }
    Ok(params)
}

pub(crate) fn require<'a>(params: &'a BTreeMap<String, String>, field: &str) -> Result<&'a str, Reply> {
    params
        .get(field)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| fail("000020", format!("{field} is null")))
}

fn new_transaction_no() -> String {
    let mut rng = rand::thread_rng();
    format!("3{:017}", rng.gen_range(0..100_000_000_000_000_000u64))
}

/// The fields every answer about a payment carries.
fn payment_result(p: &SandboxPayment) -> Value {
    json!({
        "transactionNo": p.transaction_no,
        "reference": p.reference,
        "amount": p.amount,
        "currency": p.currency,
        "settleCurrency": p.settle_currency,
    })
}

pub async fn secure_pay(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    match create(&shared, &params, Kind::Link) {
        Ok(p) => {
            let mut result = payment_result(&p);
            result["cashierUrl"] = json!(format!("{}/cashier/{}", shared.link_base(), p.transaction_no));
            ok(result, "prepay success")
        }
        Err(reply) => reply,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Link,
    CounterQr,
}

fn create(shared: &Shared, params: &BTreeMap<String, String>, kind: Kind) -> Result<SandboxPayment, Reply> {
    let required: &[&str] = match kind {
        Kind::Link => {
            &["amount", "currency", "settleCurrency", "vendor", "ipnUrl", "callbackUrl", "reference", "terminal"]
        }
        Kind::CounterQr => &["amount", "currency", "settleCurrency", "vendor", "ipnUrl", "reference", "needQrcode"],
    };
    let mut fields = BTreeMap::new();
    for f in required {
        fields.insert(*f, require(params, f)?);
    }
    if kind == Kind::CounterQr {
        if !matches!(fields["needQrcode"], "true" | "false") {
            return Err(fail("000023", "needQrcode must be true or false"));
        }
        if !spec::COUNTER_QR_WALLETS.contains(&fields["vendor"]) {
            return Err(fail("000023", format!("vendor {} does not support the counter QR", fields["vendor"])));
        }
    }
    let currency = fields["currency"];
    if !spec::CURRENCIES.contains(&currency) {
        return Err(fail("000023", format!("currency {currency} is not supported")));
    }
    let amount_minor = money::parse(fields["amount"], currency).map_err(|e| fail("000023", e))?;
    if amount_minor <= 0 {
        return Err(fail("000023", "amount must be more than 0"));
    }
    let amount = money::format(amount_minor, currency);
    spec::check_wallet(fields["vendor"], currency, amount_minor).map_err(|e| fail("000023", e))?;
    if kind == Kind::Link {
        if !spec::TERMINALS.contains(&fields["terminal"]) {
            return Err(fail("000023", format!("terminal must be one of {}", spec::TERMINALS.join(", "))));
        }
        // "When terminal is WAP or APP, the possible values are IOS and ANDROID."
        if matches!(fields["terminal"], "WAP" | "APP")
            && !params.get("osType").is_some_and(|os| spec::OS_TYPES.contains(&os.as_str()))
        {
            return Err(fail("000020", "osType is null: IOS or ANDROID when terminal is WAP or APP"));
        }
    }
    // pockyt-hosted-checkout.txt: a registered customer's card checkout is secure-pay with
    // `creditType: hosted` and the customer's `customerNo` (from /v1/customers/create).
    if let Some(credit_type) = params.get("creditType").filter(|v| !v.is_empty()) {
        if fields["vendor"] != "creditcard" {
            return Err(fail("000023", "creditType is for vendor creditcard only"));
        }
        if credit_type == "hosted" {
            let customer = params.get("customerNo").filter(|v| !v.is_empty()).ok_or_else(|| {
                fail("000020", "customerNo is null: the hosted checkout is for a registered customer")
            })?;
            let merchant_no = &params["merchantNo"];
            if !shared.customers(|c| c.get(customer).is_some_and(|(m, _)| m == merchant_no)) {
                return Err(fail("000021", "customerNo has no related information"));
            }
        }
    }
    if fields["settleCurrency"] != spec::settle_currency(currency) {
        return Err(fail("000023", format!("settleCurrency must be {}", spec::settle_currency(currency))));
    }
    let timeout_minutes = match params.get("timeout") {
        Some(t) => t
            .parse::<u64>()
            .ok()
            .filter(|t| (1..=10_080).contains(t))
            .ok_or_else(|| fail("000023", "timeout must be 1 to 10080 minutes"))?,
        None => 120,
    };
    let merchant_no = &params["merchantNo"];
    // A retry with the same reference gets the same transaction; a different sale may not reuse it.
    let same_sale = |existing: SandboxPayment| {
        if existing.amount == amount && existing.currency == currency && existing.vendor == fields["vendor"] {
            Ok(existing)
        } else {
            Err(fail("000023", "reference has already been used for another transaction"))
        }
    };
    if let Some(existing) = shared.find_by_reference(merchant_no, fields["reference"]) {
        return same_sale(existing);
    }
    let p = SandboxPayment {
        transaction_no: new_transaction_no(),
        reference: fields["reference"].into(),
        merchant_no: merchant_no.clone(),
        store_no: params["storeNo"].clone(),
        amount: amount.clone(),
        currency: currency.into(),
        settle_currency: fields["settleCurrency"].into(),
        vendor: fields["vendor"].into(),
        ipn_url: fields["ipnUrl"].into(),
        callback_url: params.get("callbackUrl").cloned().unwrap_or_default(),
        description: params.get("description").cloned().unwrap_or_default(),
        status: "init".into(),
        created_ms: now_ms(),
        timeout_minutes,
        ipn_delivered: false,
        kind: if kind == Kind::Link { "link" } else { "qr" }.into(),
        cancelled: false,
        refunds: Vec::new(),
    };
    let stored = shared.insert(p.clone());
    if stored.transaction_no != p.transaction_no {
        // Another process stored this reference between our look-up and our insert.
        return same_sale(stored);
    }
    Ok(stored)
}

pub async fn tran_query(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    match locate(&shared, &params).map(|no| shared.find(&no)) {
        Ok(Some(p)) => {
            let mut result = payment_result(&p);
            result["status"] = json!(p.status);
            result["transactionType"] = json!("payment");
            result["vendor"] = json!(p.vendor);
            ok(result, "query success")
        }
        Ok(None) => fail("000021", "transaction has no related information"),
        Err(reply) => reply,
    }
}

pub async fn counter_qr(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    match create(&shared, &params, Kind::CounterQr) {
        Ok(p) => {
            let link = format!("{}/cashier/{}", shared.link_base(), p.transaction_no);
            let mut result = payment_result(&p);
            result["timeout"] = json!(p.timeout_minutes.to_string());
            result["deepLink"] = json!(link);
            if params.get("needQrcode").map(String::as_str) == Some("true") {
                result["qrcodeUrl"] = json!(format!("{link}?hosted-qr"));
            }
            ok(result, "create success")
        }
        Err(reply) => reply,
    }
}

/// Exactly one of transactionNo / reference, belonging to this merchant.
fn locate(shared: &Shared, params: &BTreeMap<String, String>) -> Result<String, Reply> {
    let by_no = params.get("transactionNo").filter(|v| !v.is_empty());
    let by_ref = params.get("reference").filter(|v| !v.is_empty());
    let found = match (by_no, by_ref) {
        (Some(_), Some(_)) => return Err(fail("000022", "give transactionNo or reference, not both")),
        (None, None) => return Err(fail("000020", "transactionNo or reference is null")),
        (Some(no), None) => shared.find(no).filter(|p| p.transaction_no == *no),
        (None, Some(r)) => shared.find_by_reference(&params["merchantNo"], r),
    };
    found
        .filter(|p| p.merchant_no == params["merchantNo"])
        .map(|p| p.transaction_no)
        .ok_or_else(|| fail("000021", "transaction has no related information"))
}

pub async fn refund(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let result = (|| {
        for f in ["refundAmount", "currency", "settleCurrency", "refundReference"] {
            require(&params, f)?;
        }
        let no = locate(&shared, &params)?;
        let refund_reference = params["refundReference"].clone();
        shared
            .update(&no, |p| {
                if p.status != "success" {
                    return Err(fail(
                        "000040",
                        format!("transaction status error: a {} transaction cannot be refunded", p.status),
                    ));
                }
                if params["currency"] != p.currency {
                    return Err(fail("000022", format!("currency must be {}", p.currency)));
                }
                let amount = money::parse(&params["refundAmount"], &p.currency).map_err(|e| fail("000023", e))?;
                if amount <= 0 {
                    return Err(fail("000023", "refundAmount must be more than 0"));
                }
                let paid = money::parse(&p.amount, &p.currency).unwrap_or(0);
                if let Some(existing) = p.refunds.iter().find(|r| r.refund_reference == refund_reference) {
                    // The same refund sent again answers the same; another one may not reuse it.
                    if existing.amount_minor == amount {
                        return Ok(refund_result(p, existing));
                    }
                    return Err(fail("000023", "refundReference has already been used"));
                }
                let refunded: i64 = p.refunds.iter().map(|r| r.amount_minor).sum();
                if amount > paid - refunded {
                    return Err(fail(
                        "000023",
                        format!(
                            "refundAmount exceeds the refundable amount {}",
                            money::format(paid - refunded, &p.currency)
                        ),
                    ));
                }
                let r = SandboxRefund {
                    refund_reference: refund_reference.clone(),
                    refund_transaction_no: new_transaction_no(),
                    amount_minor: amount,
                };
                p.refunds.push(r.clone());
                Ok(refund_result(p, &r))
            })
            .unwrap_or_else(|| Err(fail("000021", "transaction has no related information")))
    })();
    match result {
        Ok(v) => ok(v, "refund success"),
        Err(reply) => reply,
    }
}

fn refund_result(p: &SandboxPayment, r: &SandboxRefund) -> Value {
    json!({
        "transactionNo": p.transaction_no,
        "reference": p.reference,
        "refundTransactionNo": r.refund_transaction_no,
        "refundReference": r.refund_reference,
        "refundAmount": money::format(r.amount_minor, &p.currency),
        "currency": p.currency,
        "settleCurrency": p.settle_currency,
        "status": "success",
    })
}

pub async fn cancel(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let no = match locate(&shared, &params) {
        Ok(no) => no,
        Err(reply) => return reply,
    };
    let outcome = shared.update(&no, |p| match p.status.as_str() {
        "init" => {
            p.status = "closed".into();
            p.cancelled = true;
            Ok(json!({"transactionNo": p.transaction_no, "reference": p.reference, "status": p.status}))
        }
        "closed" if p.cancelled => {
            Ok(json!({"transactionNo": p.transaction_no, "reference": p.reference, "status": p.status}))
        }
        "success" => Err(fail("000040", "transaction status error: a paid transaction cannot be cancelled; refund it")),
        other => Err(fail("000040", format!("transaction status error: a {other} transaction cannot be cancelled"))),
    });
    match outcome {
        Some(Ok(v)) => ok(v, "cancel success"),
        Some(Err(reply)) => reply,
        None => fail("000021", "transaction has no related information"),
    }
}
