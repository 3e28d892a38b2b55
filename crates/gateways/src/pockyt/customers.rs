//! Pockyt customers (`/v1/customers/*`): the shop's regular customers, for SecurePay's
//! `customerNo`. Every request carries a UTC `timestamp` (`yyyy-MM-ddTHH:mm:ssZ`).

pub use crate::customers::*;
use crate::GatewayError;
use serde_json::Value;

/// The `timestamp` customers calls carry: UTC, `yyyy-MM-ddTHH:mm:ssZ`.
pub fn customer_timestamp(now: jiff::Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The customer object comes under `result` in some doc versions, `customer` in others.
pub fn parse_customer(body: &Value) -> Result<Customer, GatewayError> {
    let mut body = body.clone();
    if body.get("result").is_none_or(Value::is_null) {
        if let Some(c) = body.get("customer").cloned() {
            body["result"] = c;
        }
    }
    let mut customer: Customer = super::transformers::parse_envelope(&body)?;
    // Numbers sometimes arrive as numbers; the struct only keeps strings.
    customer.customer_no = customer.customer_no.trim().to_string();
    Ok(customer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_format() {
        let t: jiff::Timestamp = "2026-11-21T23:05:09Z".parse().unwrap();
        assert_eq!(customer_timestamp(t), "2026-11-21T23:05:09Z");
    }

    #[test]
    fn customer_under_result_or_customer() {
        let a = serde_json::json!({"ret_code": "000100", "result": {"customerNo": "1001", "firstName": "Ada"}});
        let b = serde_json::json!({"ret_code": "000100", "customer": {"customerNo": "1001", "firstName": "Ada"}});
        assert_eq!(parse_customer(&a).unwrap(), parse_customer(&b).unwrap());
        assert_eq!(parse_customer(&b).unwrap().fields.first_name.as_deref(), Some("Ada"));
    }
}
