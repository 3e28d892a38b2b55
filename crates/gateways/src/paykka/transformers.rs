//! PayKKa's wire form of money: an integer in the currency's minor unit (USD cents, JPY yen).

use crate::Money;

pub fn wire_amount(amount: Money) -> i64 {
    amount.minor
}

pub fn from_wire(value: i64, currency: crate::Currency) -> Money {
    Money::new(value, currency)
}
/// PayKKa's answer envelope: `000000` means the request was accepted, not that anyone paid.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub ret_code: String,
    #[serde(default)]
    pub ret_msg: String,
    pub data: Option<T>,
}

pub const RET_ACCEPTED: &str = "000000";

/// Codes where the request may be sent again as it is (PayKKa's side failed).
fn is_transient(code: &str) -> bool {
    matches!(code, "999999")
}

/// Reads the envelope into its data or a typed refusal.
pub fn parse_envelope<T: for<'de> serde::Deserialize<'de>>(body: &serde_json::Value) -> Result<T, crate::GatewayError> {
    let protocol = |message: String| crate::GatewayError::Protocol { provider: "PayKKa", message };
    let code = match body.get("ret_code") {
        Some(serde_json::Value::String(c)) => c.clone(),
        Some(_) => return Err(protocol("ret_code is not a string".into())),
        None => return Err(protocol("the answer has no ret_code".into())),
    };
    let message = crate::text::provider_message(body, "ret_msg");
    if code != RET_ACCEPTED {
        if !code.chars().all(|c| c.is_ascii_digit()) || code.len() != 6 {
            return Err(protocol(format!("undocumented ret_code: {message}")));
        }
        return Err(crate::GatewayError::Rejected {
            provider: "PayKKa",
            transient: is_transient(&code),
            code,
            message,
        });
    }
    let data = body.get("data").cloned().unwrap_or(serde_json::Value::Null);
    serde_json::from_value(data).map_err(|e| protocol(format!("data: {e}")))
}

/// A PayKKa order status as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaykkaStatus<'a>(pub &'a str);

impl From<PaykkaStatus<'_>> for crate::PaymentStatus {
    fn from(s: PaykkaStatus<'_>) -> Self {
        use crate::PaymentStatus::*;
        match s.0 {
            "PROCESSING" => Pending,
            "AUTHORIZED" => Authorized,
            "SUCCESS" => Paid,
            "FAILURE" => Failed,
            "REFUNDED" => Refunded,
            "PARTIALLY_REFUNDED" => PartiallyRefunded,
            "CANCELED" => Cancelled,
            // Documented: part of the authorisation was reversed (released) and the rest
            // taken. `OrderData::report` reads the balances for what was taken.
            "PARTIALLY_REVERSED" => PartiallyCaptured,
            // Anything new: kept raw, never guessed.
            _ => Unknown,
        }
    }
}

/// `balances` of an order, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Balances {
    #[serde(default)]
    pub authed_amount: i64,
    #[serde(default)]
    pub captured_amount: i64,
    #[serde(default)]
    pub able_to_capture_amount: i64,
    #[serde(default)]
    pub voided_amount: i64,
    #[serde(default)]
    pub able_to_void_amount: i64,
    #[serde(default)]
    pub refunded_amount: i64,
    #[serde(default)]
    pub able_to_refund_amount: i64,
}

/// `data` of a session answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SessionData {
    pub session_id: String,
    pub session_url: String,
    #[serde(default)]
    pub trans_id: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: String,
}

/// `data` of a query (and of capture, void, refund answers about the order).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OrderData {
    #[serde(default)]
    pub trans_id: String,
    #[serde(default)]
    pub order_id: String,
    #[serde(default)]
    pub session_id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub balances: Option<Balances>,
}

impl OrderData {
    pub fn report(&self) -> crate::PaymentReport {
        let amount = crate::Currency::from_code(&self.currency)
            .ok()
            .filter(|c| c.code() == self.currency)
            .zip(self.amount.filter(|a| *a > 0))
            .map(|(c, a)| from_wire(a, c));
        crate::PaymentReport {
            reference: self.trans_id.clone(),
            transaction_no: self.order_id.clone(),
            amount,
            currency: self.currency.clone(),
            raw_status: self.status.clone(),
            status: match (self.status.as_str(), &self.balances) {
                // Partly reversed with nothing captured yet: still an authorisation.
                ("PARTIALLY_REVERSED", Some(b)) if b.captured_amount == 0 && b.able_to_capture_amount > 0 => {
                    crate::PaymentStatus::Authorized
                }
                (status, _) => crate::PaymentStatus::from(PaykkaStatus(status)),
            },
            balances: self.balances.as_ref().map(|b| crate::Balances {
                authorized: b.authed_amount,
                captured: b.captured_amount,
                capturable: b.able_to_capture_amount,
                voidable: b.able_to_void_amount,
                refunded: b.refunded_amount,
                refundable: b.able_to_refund_amount,
            }),
            paid_amount: None,
        }
    }
}

/// `data` of a refund answer.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RefundData {
    #[serde(default)]
    pub refund_trans_id: String,
    #[serde(default)]
    pub refund_order_id: String,
    #[serde(default)]
    pub status: String,
}

#[cfg(test)]
mod envelope_tests {
    use super::*;
    use crate::{GatewayError, PaymentStatus};

    #[test]
    fn envelope_and_status() {
        let ok = serde_json::json!({"ret_code": "000000", "ret_msg": "Success", "data": {"trans_id": "T1", "order_id": "GW1", "status": "AUTHORIZED", "amount": 1300, "currency": "USD", "balances": {"authed_amount": 1300, "able_to_capture_amount": 1300}}});
        let order: OrderData = parse_envelope(&ok).unwrap();
        let report = order.report();
        assert_eq!(report.status, PaymentStatus::Authorized);
        assert_eq!(report.amount.unwrap().minor, 1300);
        assert_eq!(order.balances.unwrap().able_to_capture_amount, 1300);
        let refused = serde_json::json!({"ret_code": "206003", "ret_msg": "signature error"});
        assert!(
            matches!(parse_envelope::<OrderData>(&refused), Err(GatewayError::Rejected { code, .. }) if code == "206003")
        );
        let odd = serde_json::json!({"ret_code": 0});
        assert!(matches!(parse_envelope::<OrderData>(&odd), Err(GatewayError::Protocol { .. })));
        assert_eq!(PaymentStatus::from(PaykkaStatus("PARTIALLY_REVERSED")), PaymentStatus::PartiallyCaptured);
        assert_eq!(PaymentStatus::from(PaykkaStatus("SOMETHING_NEW")), PaymentStatus::Unknown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn cents_round_trip() {
        let usd = Currency::from_code("USD").unwrap();
        let m = Money::parse("13.05", usd).unwrap();
        assert_eq!(wire_amount(m), 1305);
        assert_eq!(from_wire(1305, usd), m);
        assert_eq!(wire_amount(Money::parse("500", Currency::from_code("JPY").unwrap()).unwrap()), 500);
    }
}
