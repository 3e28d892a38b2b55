//! Pockyt customers as the sandbox answers them, with Pockyt's validation.

use super::{authenticate, fail, ok, require, Reply};
use crate::state::Shared;
use axum::extract::State;
use axum::Json;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Request fields that are not the customer's own data.
const ENVELOPE: &[&str] = &["merchantNo", "storeNo", "verifySign", "timestamp"];

fn check_timestamp(params: &BTreeMap<String, String>) -> Result<(), Reply> {
    let t = require(params, "timestamp")?;
    jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M:%SZ", t)
        .ok()
        .filter(|_| t.len() == "yyyy-MM-ddTHH:mm:ssZ".len())
        .map(|_| ())
        .ok_or(())
        .map_err(|_| fail("000023", "timestamp must be yyyy-MM-ddTHH:mm:ssZ (UTC)"))
}

fn check_contact(params: &BTreeMap<String, String>) -> Result<(), Reply> {
    if let Some(cc) = params.get("countryCode") {
        if cc.len() != 2 || !cc.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(fail("000023", "countryCode must be 2 letters"));
        }
    }
    if let Some(email) = params.get("email") {
        if !email.contains('@') {
            return Err(fail("000023", "email is invalid"));
        }
    }
    Ok(())
}

fn customer_data(params: &BTreeMap<String, String>) -> Map<String, Value> {
    params.iter().filter(|(k, _)| !ENVELOPE.contains(&k.as_str())).map(|(k, v)| (k.clone(), json!(v))).collect()
}

fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

pub async fn create(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let result = (|| {
        check_timestamp(&params)?;
        for f in ["countryCode", "email", "firstName", "lastName"] {
            require(&params, f)?;
        }
        check_contact(&params)?;
        if params["countryCode"].eq_ignore_ascii_case("US") {
            require(&params, "state")?;
        }
        let merchant = params["merchantNo"].clone();
        shared.customers(|all| {
            if let Some(code) = params.get("customerCode") {
                let taken = all
                    .values()
                    .any(|(m, c)| *m == merchant && c.get("customerCode").and_then(Value::as_str) == Some(code));
                if taken {
                    return Err(fail("000023", "customerCode is already registered"));
                }
            }
            let customer_no = format!("{}", rand::thread_rng().gen_range(100_000_000u64..999_999_999));
            let mut data = customer_data(&params);
            data.insert("customerNo".into(), json!(customer_no));
            data.entry("profileType").or_insert(json!("INDIVIDUAL"));
            data.insert("createdTime".into(), json!(now_text()));
            all.insert(customer_no, (merchant.clone(), data.clone()));
            Ok(Value::Object(data))
        })
    })();
    match result {
        Ok(customer) => ok(customer, "create customer success"),
        Err(reply) => reply,
    }
}

/// Retrieve answers under `customer`, as some versions of the docs show.
pub async fn retrieve(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    if let Err(reply) = check_timestamp(&params) {
        return reply;
    }
    let merchant = params["merchantNo"].clone();
    let by_no = params.get("customerNo").filter(|v| !v.is_empty()).cloned();
    let by_code = params.get("customerCode").filter(|v| !v.is_empty()).cloned();
    if by_no.is_none() && by_code.is_none() {
        return fail("000020", "customerNo or customerCode is null");
    }
    let found = shared.read_customers(|all| {
        all.values()
            .find(|(m, c)| {
                *m == merchant
                    && (by_no.as_deref().is_some_and(|n| c.get("customerNo").and_then(Value::as_str) == Some(n))
                        || by_code.as_deref().is_some_and(|n| c.get("customerCode").and_then(Value::as_str) == Some(n)))
            })
            .map(|(_, c)| c.clone())
    });
    match found {
        Some(c) => Json(json!({"ret_code": super::spec::SUCCESS, "ret_msg": "success", "customer": c})),
        None => fail("000021", "customer has no related information"),
    }
}

pub async fn update(State(shared): State<Arc<Shared>>, Json(body): Json<Map<String, Value>>) -> Reply {
    let params = match authenticate(&shared, body) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let result = (|| {
        check_timestamp(&params)?;
        let customer_no = require(&params, "customerNo")?.to_string();
        check_contact(&params)?;
        let merchant = params["merchantNo"].clone();
        shared.customers(|all| match all.get_mut(&customer_no) {
            Some((m, data)) if *m == merchant => {
                let changes = customer_data(&params);
                let country =
                    changes.get("countryCode").or(data.get("countryCode")).and_then(Value::as_str).unwrap_or("");
                let state = changes.get("state").or(data.get("state")).and_then(Value::as_str).unwrap_or("");
                if country.eq_ignore_ascii_case("US") && state.is_empty() {
                    return Err(fail("000020", "state is null"));
                }
                for (k, v) in changes {
                    data.insert(k, v);
                }
                data.insert("updatedTime".into(), json!(now_text()));
                Ok(Value::Object(data.clone()))
            }
            _ => Err(fail("000021", "customer has no related information")),
        })
    })();
    match result {
        Ok(customer) => ok(customer, "update customer success"),
        Err(reply) => reply,
    }
}
