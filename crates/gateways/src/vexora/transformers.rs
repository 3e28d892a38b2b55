//! Vexora's wire forms: money in whole units ("300" for NT$300), the answer envelope, its
//! payment statuses, and the checkout fields with their rules.

use crate::gateway::{Checkout, Payer};
use crate::RuleId;
use crate::{Currency, GatewayError, Money, PaymentReport, PaymentStatus, ValidationError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Vexora's currency: New Taiwan dollars, whole units on the wire.
pub const CURRENCY: &str = "TWD";

pub fn wire_amount(amount: Money) -> Result<String, ValidationError> {
    let scale = 10i64.pow(amount.currency.exponent() as u32);
    if amount.minor % scale != 0 {
        return Err(ValidationError::new(
            "amount",
            format!("Vexora takes whole {} only, no fraction (got {amount})", amount.currency),
        ));
    }
    Ok((amount.minor / scale).to_string())
}

/// A wire amount ("300", or 300) back into money; None unless whole, positive digits.
pub fn from_wire(value: &serde_json::Value) -> Option<Money> {
    let text = match value {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let currency = Currency::from_code(CURRENCY).ok()?;
    let whole: i64 = text.parse().ok()?;
    (whole > 0).then(|| Money::new(whole * 10i64.pow(currency.exponent() as u32), currency))
}

/// The envelope's `code`: `0000` means the request was taken (not that anyone paid).
pub const CODE_TAKEN: &str = "0000";

/// `5000` (system exception) and `8000` (request failed): Vexora's side; nothing is
/// decided, the same request may be sent again.
fn is_transient(code: &str) -> bool {
    matches!(code, "5000" | "8000")
}

/// The code with which Vexora says it has no such trade (the reference names none; the
/// sandbox answers this one).
pub const CODE_UNKNOWN_TRADE: &str = "4004";

/// Reads `{msg, code, timestamp, success, data}` into its data or a typed refusal.
pub fn parse_envelope<T: for<'de> Deserialize<'de>>(body: &serde_json::Value) -> Result<T, GatewayError> {
    let protocol = |message: String| GatewayError::Protocol { provider: "Vexora", message };
    let code = match body.get("code") {
        Some(serde_json::Value::String(c)) => c.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(_) => return Err(protocol("code is neither a string nor a number".into())),
        None => return Err(protocol("the answer has no code".into())),
    };
    let message = crate::text::provider_message(body, "msg");
    if code != CODE_TAKEN {
        if code.is_empty() || code.len() > 8 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(protocol(format!("undocumented code: {message}")));
        }
        return Err(GatewayError::Rejected { provider: "Vexora", transient: is_transient(&code), code, message });
    }
    let data = body.get("data").cloned().unwrap_or(serde_json::Value::Null);
    serde_json::from_value(data).map_err(|e| protocol(format!("data: {e}")))
}

/// A Vexora `data.status` as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VexoraStatus<'a>(pub &'a str);

impl From<VexoraStatus<'_>> for PaymentStatus {
    fn from(s: VexoraStatus<'_>) -> Self {
        match s.0 {
            "0000" => PaymentStatus::Paid,
            "0001" => PaymentStatus::PartiallyPaid,
            "0015" => PaymentStatus::Pending,
            "00029" => PaymentStatus::Failed,
            // A system error on Vexora's side says nothing about the payment: still open.
            "8000" => PaymentStatus::Pending,
            _ => PaymentStatus::Unknown,
        }
    }
}

/// Any string field Vexora may send as a string or a number.
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// `data` of a checkout answer. The link is `paymentLink` (the sample calls it `paymentUrl`).
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutData {
    #[serde(default, rename = "tradeNo")]
    pub trade_no: serde_json::Value,
    #[serde(default, rename = "platFormTradeNo")]
    pub plat_form_trade_no: serde_json::Value,
    #[serde(default)]
    pub status: serde_json::Value,
    #[serde(default, rename = "paymentLink")]
    pub payment_link: Option<String>,
    #[serde(default, rename = "paymentUrl")]
    pub payment_url: Option<String>,
}

impl CheckoutData {
    pub fn link(&self) -> Option<&str> {
        self.payment_link.as_deref().filter(|l| !l.is_empty()).or(self.payment_url.as_deref())
    }

    /// The new payment: Vexora names no amount in this answer, so it stands as sent.
    pub fn report(&self, sent: Money) -> PaymentReport {
        let raw = text(&self.status);
        PaymentReport {
            reference: text(&self.trade_no),
            transaction_no: text(&self.plat_form_trade_no),
            amount: Some(sent),
            currency: sent.currency.code().to_string(),
            // The order exists; a status we do not know leaves it waiting, a failure ends it.
            status: match PaymentStatus::from(VexoraStatus(&raw)) {
                PaymentStatus::Unknown => PaymentStatus::Pending,
                s => s,
            },
            raw_status: raw,
            balances: None,
            paid_amount: None,
        }
    }
}

/// `data` of a query answer, and the body of a notification (their fields are alike).
#[derive(Debug, Clone, Deserialize)]
pub struct TradeData {
    #[serde(default, rename = "tradeNo")]
    pub trade_no: serde_json::Value,
    #[serde(default, rename = "platFormTradeNo")]
    pub plat_form_trade_no: serde_json::Value,
    #[serde(default)]
    pub status: serde_json::Value,
    /// What was actually paid (may be less than asked: a partial payment).
    #[serde(default)]
    pub amount: serde_json::Value,
}

impl TradeData {
    pub fn report(&self) -> PaymentReport {
        let raw = text(&self.status);
        let status = PaymentStatus::from(VexoraStatus(&raw));
        let amount = from_wire(&self.amount);
        let partial = status == PaymentStatus::PartiallyPaid;
        PaymentReport {
            reference: text(&self.trade_no),
            transaction_no: text(&self.plat_form_trade_no),
            // Vexora's amount is what arrived: for a partial payment that is not the
            // payment's amount, which the core then checks against the ledger by itself.
            amount: if partial { None } else { amount },
            paid_amount: if partial { amount } else { None },
            currency: CURRENCY.into(),
            status,
            raw_status: raw,
            balances: None,
        }
    }
}

/// The channels and what each requires.
pub const CHANNELS: &[&str] = &["NET_BANKING", "STORE", "EWALLET"];

/// The wayCode a channel takes when the counter names none: only the document's own
/// examples (BANK_TRANSFER for NET_BANKING, 711 for STORE). The document lists no e-wallet
/// wayCode, so EWALLET has none: the counter must name the one the contract gives.
pub fn default_way_code(channel: &str) -> Option<&'static str> {
    match channel {
        "NET_BANKING" => Some("BANK_TRANSFER"),
        "STORE" => Some("711"),
        _ => None,
    }
}

/// `value`, or that `field` is required (`why`), given with `option`.
fn required<'a>(
    field: &'static str,
    value: &'a Option<String>,
    why: &str,
    option: &'static str,
) -> Result<&'a str, ValidationError> {
    value.as_deref().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        ValidationError::new(field, format!("is required {why}")).because(RuleId::Required).option(option)
    })
}

fn checked<'a>(field: &'static str, value: &'a str, max: usize) -> Result<&'a str, ValidationError> {
    crate::text::check_line(field, value, max)?;
    Ok(value)
}

/// Every rule of Vexora's checkout, before anything leaves: whole TWD, the payer's mobile,
/// names, email and IP address (the payer's, else the counter's public one from the
/// profile), and what the channel requires. The first problem; [`checkout_problems`] has all.
pub fn checkout_fields(
    c: &Checkout,
    merchant_no: &str,
    public_ip: Option<&str>,
) -> Result<BTreeMap<String, String>, ValidationError> {
    checkout_fields_all(c, merchant_no, public_ip).map_err(|mut all| all.remove(0))
}

/// Every problem of a checkout at once: the sale's first one, else each of the payer's
/// fields checked on its own (a form shows them all under their fields).
pub fn checkout_problems(c: &Checkout, merchant_no: &str, public_ip: Option<&str>) -> Vec<ValidationError> {
    checkout_fields_all(c, merchant_no, public_ip).err().unwrap_or_default()
}

/// A check's value, or its problem kept with the others.
fn keep<T>(problems: &mut Vec<ValidationError>, checked: Result<T, ValidationError>) -> Option<T> {
    checked.map_err(|e| problems.push(e)).ok()
}

fn checkout_fields_all(
    c: &Checkout,
    merchant_no: &str,
    public_ip: Option<&str>,
) -> Result<BTreeMap<String, String>, Vec<ValidationError>> {
    let _ = merchant_no;
    // The sale itself: its first problem ends the check.
    if c.amount.currency.code() != CURRENCY {
        return Err(vec![ValidationError::new(
            "currency",
            format!("Vexora takes TWD only (got {})", c.amount.currency),
        )]);
    }
    let amount = wire_amount(c.amount).map_err(|e| vec![e])?;
    if c.reference.is_empty() || c.reference.len() > 64 {
        return Err(vec![ValidationError::new("reference", "must be 1 to 64 characters").because(RuleId::Characters)]);
    }
    crate::links::check_required_url("ipn_url", &c.notify_url, "Vexora").map_err(|e| vec![e])?;
    crate::links::check_required_url("callback_url", &c.return_url, "Vexora").map_err(|e| vec![e])?;
    let mut fields = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        fields.insert(k.to_string(), v.trim().to_string());
    };
    put("tradeNo", &c.reference);
    put("amount", &amount);
    put("notifyUrl", &c.notify_url);
    put("returnUrl", &c.return_url);
    // The payer: every field on its own.
    let mut problems = Vec::new();
    let empty = Payer::default();
    let p = c.payer.as_ref().unwrap_or(&empty);
    let channel = keep(
        &mut problems,
        required("channel", &p.channel, "by Vexora: NET_BANKING, STORE or EWALLET", "--channel").and_then(|channel| {
            let channel = channel.trim().to_ascii_uppercase();
            if CHANNELS.contains(&channel.as_str()) {
                Ok(channel)
            } else {
                Err(ValidationError::new(
                    "channel",
                    format!(
                        "must be NET_BANKING, STORE or EWALLET (got '{}')",
                        channel.chars().take(32).collect::<String>()
                    ),
                ))
            }
        }),
    );
    let mobile =
        required("mobile", &p.mobile, "by Vexora: the payer's mobile, 09 and 8 digits", "--mobile").and_then(|m| {
            if m.len() == 10 && m.starts_with("09") && m.bytes().all(|b| b.is_ascii_digit()) {
                Ok(m)
            } else {
                Err(ValidationError::new(
                    "mobile",
                    format!(
                        "must be 09 followed by 8 digits, e.g. 0912345678 (got '{}')",
                        m.chars().take(20).collect::<String>()
                    ),
                ))
            }
        });
    if let Some(m) = keep(&mut problems, mobile) {
        put("mobile", m);
    }
    let first = required("first_name", &p.first_name, "by Vexora: the payer's first name", "--first-name")
        .and_then(|v| checked("first_name", v, 50));
    if let Some(v) = keep(&mut problems, first) {
        put("firstname", v);
    }
    let last = required("last_name", &p.last_name, "by Vexora: the payer's last name", "--last-name")
        .and_then(|v| checked("last_name", v, 50));
    if let Some(v) = keep(&mut problems, last) {
        put("lastname", v);
    }
    let email = required("email", &p.email, "by Vexora: the payer's email", "--email")
        .and_then(|v| checked("email", v, 100))
        .and_then(|email| {
            let at = email.find('@');
            if matches!(at, Some(i) if i > 0 && email[i + 1..].contains('.') && !email.contains(char::is_whitespace)) {
                Ok(email)
            } else {
                Err(ValidationError::new(
                    "email",
                    format!("is not an email address (got '{}')", email.chars().take(60).collect::<String>()),
                )
                .because(RuleId::Email))
            }
        });
    if let Some(v) = keep(&mut problems, email) {
        put("email", v);
    }
    // The payer's own address where it was given, else the counter's public one: a cashier
    // cannot know the customer's.
    let ip = p
        .ip_address
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .or(public_ip.map(str::trim).filter(|v| !v.is_empty()))
        .ok_or_else(|| {
            ValidationError::new(
                "payer_ip",
                "is required by Vexora: set the counter's public IP address on the profile, or give the payer's",
            )
            .because(RuleId::Required)
            .option("--public-ip or --payer-ip")
        })
        .and_then(|ip| match ip.parse::<std::net::IpAddr>() {
            Ok(_) => Ok(ip),
            Err(_) => Err(ValidationError::new(
                "payer_ip",
                format!(
                    "must be an IP address such as 203.0.113.7 (got '{}')",
                    ip.chars().take(45).collect::<String>()
                ),
            )),
        });
    if let Some(v) = keep(&mut problems, ip) {
        put("ipAddress", v);
    }
    if let Some(channel) = &channel {
        put("channelCode", channel);
        let way = match &p.way_code {
            Some(w) if !w.trim().is_empty() => checked("way_code", w, 32),
            _ => default_way_code(channel).ok_or_else(|| {
                ValidationError::new(
                    "way_code",
                    "is required for EWALLET: the e-wallet's wayCode as your Vexora contract names it",
                )
                .because(RuleId::Required)
                .option("--way-code")
            }),
        }
        .and_then(|way| {
            if way.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                Ok(way)
            } else {
                Err(ValidationError::new("way_code", "letters, digits and '_' only (e.g. 711)"))
            }
        });
        if let Some(v) = keep(&mut problems, way) {
            put("wayCode", v);
        }
        match channel.as_str() {
            "NET_BANKING" => {
                let banks = required(
                    "bank_number",
                    &p.bank_number,
                    "for NET_BANKING: the payer's account, e.g. 808-0368988888888",
                    "--bank-number",
                )
                .and_then(|b| checked("bank_number", b, 200))
                .and_then(|banks| {
                    for one in banks.split(',') {
                        let ok = one.trim().split_once('-').is_some_and(|(bank, account)| {
                            bank.len() == 3
                                && bank.bytes().all(|b| b.is_ascii_digit())
                                && (6..=20).contains(&account.len())
                                && account.bytes().all(|b| b.is_ascii_digit())
                        });
                        if !ok {
                            return Err(ValidationError::new(
                                "bank_number",
                                format!("each account is bank code-account number, e.g. 808-0368988888888; several separated by ',' (got '{}')", one.trim().chars().take(40).collect::<String>()),
                            ));
                        }
                    }
                    Ok(banks)
                });
                if let Some(v) = keep(&mut problems, banks) {
                    put("bankNumber", v);
                }
            }
            "STORE" => {
                let postcode = required("postcode", &p.postcode, "for STORE: the payer's postcode", "--postcode")
                    .and_then(|v| checked("postcode", v, 10))
                    .and_then(|v| {
                        if v.bytes().all(|b| b.is_ascii_digit()) {
                            Ok(v)
                        } else {
                            Err(ValidationError::new("postcode", "digits only").because(RuleId::DigitsOnly))
                        }
                    });
                if let Some(v) = keep(&mut problems, postcode) {
                    put("postcode", v);
                }
                let address = required("address", &p.address, "for STORE: the payer's address", "--address")
                    .and_then(|v| checked("address", v, 200));
                if let Some(v) = keep(&mut problems, address) {
                    put("address", v);
                }
            }
            _ => {}
        }
    }
    if let Some(r) = &p.remark {
        if let Some(v) = keep(&mut problems, checked("remark", r, 100)) {
            put("remark", v);
        }
    }
    if problems.is_empty() {
        Ok(fields)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_units_only() {
        let twd = Currency::from_code("TWD").unwrap();
        assert_eq!(wire_amount(Money::parse("300", twd).unwrap()).unwrap(), "300");
        assert_eq!(wire_amount(Money::parse("300.50", twd).unwrap()).unwrap_err().field, "amount");
        assert_eq!(from_wire(&serde_json::json!("300")), Some(Money::parse("300", twd).unwrap()));
        assert_eq!(from_wire(&serde_json::json!(120)), Some(Money::parse("120", twd).unwrap()));
        for bad in [serde_json::json!("3.5"), serde_json::json!("-1"), serde_json::json!("0"), serde_json::json!(null)]
        {
            assert_eq!(from_wire(&bad), None, "{bad}");
        }
    }

    #[test]
    fn statuses_map_without_guessing() {
        assert_eq!(PaymentStatus::from(VexoraStatus("0000")), PaymentStatus::Paid);
        assert_eq!(PaymentStatus::from(VexoraStatus("0001")), PaymentStatus::PartiallyPaid);
        assert_eq!(PaymentStatus::from(VexoraStatus("0015")), PaymentStatus::Pending);
        assert_eq!(PaymentStatus::from(VexoraStatus("00029")), PaymentStatus::Failed);
        assert_eq!(PaymentStatus::from(VexoraStatus("8000")), PaymentStatus::Pending, "never failed");
        assert_eq!(PaymentStatus::from(VexoraStatus("0029")), PaymentStatus::Unknown);
    }

    #[test]
    fn a_vexora_checkout_answered_00029_is_failed_not_pending() {
        let twd = crate::Currency::from_code("TWD").unwrap();
        let answer = |status: &str| CheckoutData {
            trade_no: "PD1".into(),
            plat_form_trade_no: "c167o1itir0fypid".into(),
            status: status.into(),
            payment_link: Some("https://pay.example/x".into()),
            payment_url: None,
        };
        assert_eq!(answer("00029").report(Money::new(500, twd)).status, PaymentStatus::Failed);
        assert_eq!(answer("0015").report(Money::new(500, twd)).status, PaymentStatus::Pending);
        // A status nobody knows: the order exists and waits, its raw status kept.
        let odd = answer("7777").report(Money::new(500, twd));
        assert_eq!((odd.status, odd.raw_status.as_str()), (PaymentStatus::Pending, "7777"));
    }

    #[test]
    fn envelope_codes() {
        let taken: serde_json::Value = serde_json::json!({"code": "0000", "msg": "success", "data": {"tradeNo": "T1"}});
        assert!(parse_envelope::<serde_json::Value>(&taken).is_ok());
        for (code, transient) in [("5000", true), ("8000", true), ("1001", false)] {
            let body = serde_json::json!({"code": code, "msg": "x"});
            match parse_envelope::<serde_json::Value>(&body) {
                Err(GatewayError::Rejected { transient: t, .. }) => assert_eq!(t, transient, "{code}"),
                other => panic!("{code}: {other:?}"),
            }
        }
    }
}
