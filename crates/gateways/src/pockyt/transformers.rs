//! Typed Pockyt requests and responses, and the wire form of amounts ("13.00").

use super::rules;
pub use super::status::*;
use crate::RuleId;
use crate::{GatewayError, Money, PaymentReport, PaymentStatus, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `/online/v3/secure-pay`: a hosted payment link.
#[derive(Debug, Clone)]
pub struct SecurePayRequest {
    pub amount: Money,
    pub vendor: String,
    pub reference: String,
    pub terminal: String,
    pub ipn_url: String,
    pub callback_url: String,
    pub description: Option<String>,
    pub note: Option<String>,
    pub timeout_minutes: Option<u32>,
    pub customer_no: Option<String>,
    pub os_type: Option<String>,
    /// `hosted`: the hosted card checkout of a registered customer (creditcard only).
    pub credit_type: Option<String>,
}

/// The amount in Pockyt's wire form, with its currency and settlement currency. `amount_key`
/// is "amount" for payments, "refundAmount" for refunds.
fn insert_money(p: &mut BTreeMap<String, String>, amount_key: &str, amount: Money) {
    p.insert(amount_key.into(), amount.to_decimal_string());
    p.insert("currency".into(), amount.currency.code().into());
    p.insert("settleCurrency".into(), rules::settle_currency(amount.currency).into());
}

pub fn check_reference(reference: &str) -> Result<(), ValidationError> {
    if reference.is_empty() || reference.len() > 64 {
        return Err(ValidationError::new("reference", "must be 1 to 64 characters").because(RuleId::Characters));
    }
    if !reference.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ValidationError::new("reference", "may contain only letters, digits, '-' and '_'"));
    }
    Ok(())
}

pub fn check_url(field: &'static str, url: &str) -> Result<(), ValidationError> {
    crate::links::check_required_url(field, url, "Pockyt")
}

impl SecurePayRequest {
    /// Every rule we know of, checked before anything leaves the machine.
    pub fn validate(&self) -> Result<(), ValidationError> {
        rules::check_vendor(&self.vendor, self.amount)?;
        rules::check_terminal(&self.terminal)?;
        check_reference(&self.reference)?;
        check_url("ipn_url", &self.ipn_url)?;
        check_url("callback_url", &self.callback_url)?;
        // "When terminal is WAP or APP, the possible values are IOS and ANDROID."
        if matches!(self.terminal.as_str(), "WAP" | "APP")
            && !self.os_type.as_deref().is_some_and(|os| matches!(os, "IOS" | "ANDROID"))
        {
            return Err(ValidationError::new(
                "os_type",
                format!("is required when terminal is {}: IOS or ANDROID", self.terminal),
            )
            .because(RuleId::Required)
            .option("--os-type"));
        }
        if self.credit_type.is_some() && self.vendor != "creditcard" {
            return Err(ValidationError::new("vendor", "the hosted card checkout is for creditcard only"));
        }
        if let Some(t) = self.timeout_minutes {
            if t == 0 || t > 10_080 {
                return Err(ValidationError::new("timeout", "must be 1 to 10080 minutes"));
            }
        }
        Ok(())
    }

    /// The body parameters, without merchantNo/storeNo/verifySign (the client adds those).
    pub fn to_params(&self) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        insert_money(&mut p, "amount", self.amount);
        p.insert("vendor".into(), self.vendor.clone());
        p.insert("reference".into(), self.reference.clone());
        p.insert("terminal".into(), self.terminal.clone());
        p.insert("ipnUrl".into(), self.ipn_url.clone());
        p.insert("callbackUrl".into(), self.callback_url.clone());
        let optional = [
            ("description", self.description.clone()),
            ("note", self.note.clone()),
            ("timeout", self.timeout_minutes.map(|t| t.to_string())),
            ("customerNo", self.customer_no.clone()),
            ("osType", self.os_type.clone()),
            ("creditType", self.credit_type.clone()),
        ];
        for (k, v) in optional {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                p.insert(k.into(), v);
            }
        }
        p
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecurePayResult {
    pub transaction_no: String,
    pub reference: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub settle_currency: String,
    pub cashier_url: String,
}

/// `/app-instore/v3/create-trans-qrcode`: a merchant-presented QR for the counter.
#[derive(Debug, Clone)]
pub struct CounterQrRequest {
    pub amount: Money,
    pub vendor: String,
    pub reference: String,
    pub ipn_url: String,
    /// Whether Pockyt should also host a QR image; we render `deepLink` ourselves.
    pub need_qrcode: bool,
    pub timeout_minutes: Option<u32>,
    pub description: Option<String>,
}

impl CounterQrRequest {
    pub fn validate(&self) -> Result<(), ValidationError> {
        rules::check_counter_vendor(&self.vendor, self.amount)?;
        check_reference(&self.reference)?;
        check_url("ipn_url", &self.ipn_url)?;
        Ok(())
    }

    pub fn to_params(&self) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        insert_money(&mut p, "amount", self.amount);
        p.insert("vendor".into(), self.vendor.clone());
        p.insert("reference".into(), self.reference.clone());
        p.insert("ipnUrl".into(), self.ipn_url.clone());
        // Sent explicitly, as the docs ask.
        p.insert("needQrcode".into(), self.need_qrcode.to_string());
        if let Some(t) = self.timeout_minutes {
            p.insert("timeout".into(), t.to_string());
        }
        if let Some(d) = self.description.clone().filter(|d| !d.is_empty()) {
            p.insert("description".into(), d);
        }
        p
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CounterQrResult {
    pub transaction_no: String,
    pub reference: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub settle_currency: String,
    /// What the QR encodes.
    pub deep_link: String,
    #[serde(default)]
    pub qrcode_url: Option<String>,
}

/// `/app-data-search/v3/refund`.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub transaction: TranQueryRequest,
    pub refund_amount: Money,
    /// Unique per refund; a retry reuses it.
    pub refund_reference: String,
    pub ipn_url: Option<String>,
}

impl RefundRequest {
    pub fn to_params(&self) -> BTreeMap<String, String> {
        let mut p = self.transaction.to_params();
        insert_money(&mut p, "refundAmount", self.refund_amount);
        p.insert("refundReference".into(), self.refund_reference.clone());
        if let Some(u) = self.ipn_url.clone().filter(|u| !u.is_empty()) {
            p.insert("ipnUrl".into(), u);
        }
        p
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RefundResult {
    #[serde(default)]
    pub refund_transaction_no: String,
    #[serde(default)]
    pub refund_reference: String,
    #[serde(default)]
    pub refund_amount: String,
    #[serde(default)]
    pub status: String,
}

/// `/app-data-search/v3/cancel` answers with whatever it knows of the transaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CancelResult {
    #[serde(default)]
    pub transaction_no: String,
    #[serde(default)]
    pub status: String,
}

/// `/app-data-search/v3/tran-query` looks a transaction up by exactly one key.
#[derive(Debug, Clone)]
pub enum TranQueryRequest {
    TransactionNo(String),
    Reference(String),
}

impl TranQueryRequest {
    pub fn to_params(&self) -> BTreeMap<String, String> {
        let (k, v) = match self {
            Self::TransactionNo(v) => ("transactionNo", v),
            Self::Reference(v) => ("reference", v),
        };
        BTreeMap::from([(k.to_string(), v.clone())])
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransactionInfo {
    pub transaction_no: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub settle_currency: String,
    /// Pockyt's own status string, kept raw.
    pub status: String,
    #[serde(default)]
    pub transaction_type: String,
}

/// Reads Pockyt's envelope into the typed result or a typed refusal. Only a documented
/// refusal ends a payment; an answer we cannot read (no `ret_code`, a number where the
/// docs promise a string, an undocumented code) is a protocol fault that keeps it.
pub fn parse_envelope<T: for<'de> Deserialize<'de>>(body: &Value) -> Result<T, GatewayError> {
    let protocol = |message: String| GatewayError::Protocol { provider: "Pockyt", message };
    let code = match body.get("ret_code") {
        Some(Value::String(c)) => c.as_str(),
        Some(other) => return Err(protocol(format!("ret_code is not a string ({})", short(other)))),
        None => return Err(protocol("the answer has no ret_code".into())),
    };
    let message = crate::text::provider_message(body, "ret_msg");
    let ret = RetCode::from(code);
    if let RetCode::Other(code) = &ret {
        return Err(protocol(format!("undocumented ret_code '{}': {message}", short(&Value::String(code.clone())))));
    }
    if ret != RetCode::Success {
        return Err(GatewayError::Rejected {
            provider: "Pockyt",
            code: code.into(),
            message: if message.is_empty() { ret.describe().into() } else { message },
            transient: ret.is_transient(),
        });
    }
    let result = body.get("result").cloned().unwrap_or(Value::Null);
    serde_json::from_value(result).map_err(|e| protocol(format!("result: {e}")))
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    text.chars().filter(|c| !crate::text::is_forbidden(*c)).take(40).collect()
}

/// Pockyt's wire amount ("13.00") and currency as Money, or None when either is missing
/// or does not parse.
pub fn wire_money(amount: &str, currency: &str) -> Option<Money> {
    let currency = crate::Currency::from_code(currency).ok().filter(|c| c.code() == currency)?;
    Money::parse(amount, currency).ok()
}

impl SecurePayResult {
    /// The created payment, in the app's terms (pending: nobody has paid yet).
    pub fn report(&self) -> PaymentReport {
        created_report(&self.reference, &self.transaction_no, &self.amount, &self.currency)
    }
}

impl CounterQrResult {
    pub fn report(&self) -> PaymentReport {
        created_report(&self.reference, &self.transaction_no, &self.amount, &self.currency)
    }
}

fn created_report(reference: &str, transaction_no: &str, amount: &str, currency: &str) -> PaymentReport {
    PaymentReport {
        reference: reference.into(),
        transaction_no: transaction_no.into(),
        amount: wire_money(amount, currency),
        currency: currency.into(),
        raw_status: String::new(),
        status: PaymentStatus::Pending,
        balances: None,
        paid_amount: None,
    }
}

impl TransactionInfo {
    /// What this answer says, in the app's terms.
    pub fn report(&self) -> PaymentReport {
        PaymentReport {
            reference: self.reference.clone(),
            transaction_no: self.transaction_no.clone(),
            amount: wire_money(&self.amount, &self.currency),
            currency: self.currency.clone(),
            raw_status: self.status.clone(),
            status: PaymentStatus::from(PockytStatus(&self.status)),
            balances: None,
            paid_amount: None,
        }
    }
}

/// A notification's fields (already verified), in the app's terms.
pub fn notification_report(fields: &BTreeMap<String, String>) -> PaymentReport {
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let raw = get("status");
    PaymentReport {
        reference: get("reference"),
        transaction_no: get("transactionNo"),
        amount: wire_money(&get("amount"), &get("currency")),
        currency: get("currency"),
        status: PaymentStatus::from(PockytStatus(&raw)),
        balances: None,
        paid_amount: None,
        raw_status: raw,
    }
}

impl RefundResult {
    /// A refund counts as done only when the answer names the refund Pockyt made: its
    /// transaction number, our refund reference and amount (where given), and the status
    /// `success`; any other status that is not a failure leaves it pending.
    pub fn confirm(&self, sent: &RefundRequest) -> Result<crate::RefundState, GatewayError> {
        let protocol = |message: String| GatewayError::Protocol { provider: "Pockyt", message };
        if self.refund_transaction_no.trim().is_empty() {
            return Err(protocol("the refund answer names no refundTransactionNo; its outcome is unknown".into()));
        }
        if !self.refund_reference.is_empty() && self.refund_reference != sent.refund_reference {
            return Err(protocol(format!(
                "the refund answer is about refund {}, not {}",
                short(&Value::String(self.refund_reference.clone())),
                sent.refund_reference
            )));
        }
        if !self.refund_amount.is_empty()
            && Money::parse(&self.refund_amount, sent.refund_amount.currency).ok() != Some(sent.refund_amount)
        {
            return Err(protocol(format!(
                "the refund answer says {}, not the {} sent",
                short(&Value::String(self.refund_amount.clone())),
                sent.refund_amount
            )));
        }
        if matches!(self.status.as_str(), "failed" | "fail" | "closed") {
            return Err(GatewayError::Rejected {
                provider: "Pockyt",
                code: self.status.clone(),
                message: "the refund failed".into(),
                transient: false,
            });
        }
        Ok(if self.status == "success" { crate::RefundState::Succeeded } else { crate::RefundState::Pending })
    }
}

impl CancelResult {
    /// A cancel counts only when the answer names our transaction and a closed status.
    pub fn confirm(&self, transaction_no: Option<&str>) -> Result<(), GatewayError> {
        let protocol = |message: String| GatewayError::Protocol { provider: "Pockyt", message };
        if let Some(ours) = transaction_no {
            if self.transaction_no != ours {
                return Err(protocol("the cancel answer does not name this transaction; it is not confirmed".into()));
            }
        }
        match PaymentStatus::from(PockytStatus(&self.status)) {
            PaymentStatus::Expired | PaymentStatus::Cancelled => Ok(()),
            _ => Err(protocol(format!(
                "the cancel answer says status '{}', not closed; it is not confirmed",
                short(&Value::String(self.status.clone()))
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn request() -> SecurePayRequest {
        SecurePayRequest {
            amount: Money::new(1300, Currency::from_code("USD").unwrap()),
            vendor: "alipay".into(),
            reference: "PD-1".into(),
            terminal: "ONLINE".into(),
            ipn_url: "http://127.0.0.1:1/ipn".into(),
            callback_url: "http://127.0.0.1:1/done".into(),
            description: None,
            note: Some(String::new()),
            timeout_minutes: Some(120),
            customer_no: None,
            os_type: None,
            credit_type: None,
        }
    }

    #[test]
    fn amounts_travel_as_decimal_strings_and_empties_are_omitted() {
        let p = request().to_params();
        assert_eq!(p["amount"], "13.00");
        assert_eq!(p["settleCurrency"], "USD");
        assert_eq!(p["timeout"], "120");
        assert!(!p.contains_key("note"));
    }

    #[test]
    fn validation_names_the_field() {
        let mut r = request();
        r.ipn_url = String::new();
        assert_eq!(r.validate().unwrap_err().field, "ipn_url");
        let mut r = request();
        r.reference = "a b".into();
        assert_eq!(r.validate().unwrap_err().field, "reference");
        let mut r = request();
        r.terminal = "WAP".into();
        assert_eq!(r.validate().unwrap_err().field, "os_type");
    }

    #[test]
    fn status_mapping_keeps_unknown_unknown() {
        assert_eq!(PaymentStatus::from(PockytStatus("success")), PaymentStatus::Paid);
        assert_eq!(PaymentStatus::from(PockytStatus("closed")), PaymentStatus::Expired);
        assert_eq!(PaymentStatus::from(PockytStatus("pending")), PaymentStatus::Pending);
        assert_eq!(PaymentStatus::from(PockytStatus("SUCCESS_MAYBE")), PaymentStatus::Unknown);
    }

    #[test]
    fn ret_codes_are_typed() {
        assert_eq!(RetCode::from("000100"), RetCode::Success);
        assert_eq!(RetCode::from("000022"), RetCode::ParametersMismatch);
        assert!(RetCode::from("000000").is_transient());
        assert!(!RetCode::from("000023").is_transient());
        assert_eq!(RetCode::from("123456"), RetCode::Other("123456".into()));
        for odd in [
            serde_json::json!({"ret_code": 100, "ret_msg": "x"}),
            serde_json::json!({"ret_code": "999999"}),
            serde_json::json!({"result": {}}),
        ] {
            assert!(
                matches!(parse_envelope::<SecurePayResult>(&odd), Err(GatewayError::Protocol { .. })),
                "{odd} keeps the payment"
            );
        }
        let body = serde_json::json!({"ret_code": "000080", "ret_msg": ""});
        match parse_envelope::<SecurePayResult>(&body).unwrap_err() {
            GatewayError::Rejected { message, transient, .. } => {
                assert_eq!(message, "wallet system error");
                assert!(transient);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refund_answer_must_name_the_refund() {
        let sent = RefundRequest {
            transaction: TranQueryRequest::TransactionNo("3001".into()),
            refund_amount: Money::new(400, Currency::from_code("USD").unwrap()),
            refund_reference: "PD-1-R1".into(),
            ipn_url: None,
        };
        let only_reference: RefundResult = serde_json::from_value(serde_json::json!({"reference": "PD-1"})).unwrap();
        assert!(matches!(only_reference.confirm(&sent), Err(GatewayError::Protocol { .. })));
        let good = RefundResult {
            refund_transaction_no: "3009".into(),
            refund_reference: "PD-1-R1".into(),
            refund_amount: "4.00".into(),
            status: "success".into(),
        };
        assert_eq!(good.confirm(&sent).unwrap(), crate::RefundState::Succeeded);
        let unfinished = RefundResult { status: "dealing".into(), ..good.clone() };
        assert_eq!(unfinished.confirm(&sent).unwrap(), crate::RefundState::Pending, "only success is success");
        let wrong_amount = RefundResult { refund_amount: "40.00".into(), ..good.clone() };
        assert!(wrong_amount.confirm(&sent).is_err());
        let wrong_ref = RefundResult { refund_reference: "PD-9-R1".into(), ..good };
        assert!(wrong_ref.confirm(&sent).is_err());
        let cancel: CancelResult = serde_json::from_value(serde_json::json!({"reference": "PD-1"})).unwrap();
        assert!(cancel.confirm(Some("3001")).is_err());
        let cancel = CancelResult { transaction_no: "3001".into(), status: "closed".into() };
        assert!(cancel.confirm(Some("3001")).is_ok());
    }

    #[test]
    fn envelope_errors_are_typed() {
        let body = serde_json::json!({"ret_code": "000022", "ret_msg": "verifySign mismatch "});
        match parse_envelope::<SecurePayResult>(&body).unwrap_err() {
            GatewayError::Rejected { code, message, .. } => {
                assert_eq!(code, "000022");
                assert_eq!(message, "verifySign mismatch");
            }
            other => panic!("{other:?}"),
        }
    }
}
