//! What never goes into the books: a request's or notification's signature. A signature
//! over known fields lets anyone holding it test guesses of the merchant's secret offline
//! (an MD5 `sign` especially), so the ledger stores none, and no export can carry one.
//! (No hash of it is kept either: a hash anyone can recompute is the same test.)

use serde_json::Value;

/// Field and header names that carry a signature, in any provider's spelling; besides
/// these, any header named `x-<provider>-sign`.
pub const SIGNATURE_FIELDS: &[&str] =
    &["sign", "verifysign", "signature", "string_to_sign", "signed_string", "sign_string"];

/// What a removed signature is replaced with.
pub const REMOVED: &str = "(removed)";

pub fn is_signature_field(name: &str) -> bool {
    SIGNATURE_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
        || (name.len() > "x--sign".len()
            && name.get(..2).is_some_and(|x| x.eq_ignore_ascii_case("x-"))
            && name.get(name.len() - 5..).is_some_and(|sign| sign.eq_ignore_ascii_case("-sign")))
}

/// `value` with every signature field (at any depth) replaced by `REMOVED`.
pub fn without_signatures(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_signature_field(k) && !v.is_null() {
                        Value::from(REMOVED)
                    } else {
                        without_signatures(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_signatures).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signatures_are_removed_at_any_depth_in_any_spelling() {
        let event = json!({
            "method": "POST",
            "headers": {"x-paykka-sign": "abc%2F", "X-PayKKa-Sign-Alg": "SHA256withRSA"},
            "body": {"amount": "13.00", "verifySign": "0f3c", "nested": [{"sign": "77aa", "note": "sign here"}]},
            "fields": {"Sign": "x", "signature": null}
        });
        let clean = without_signatures(&event);
        assert_eq!(clean["headers"]["x-paykka-sign"], REMOVED);
        assert_eq!(clean["headers"]["X-PayKKa-Sign-Alg"], "SHA256withRSA", "the algorithm's name is no secret");
        assert_eq!(clean["body"]["verifySign"], REMOVED);
        assert_eq!(clean["body"]["nested"][0]["sign"], REMOVED);
        assert_eq!(clean["body"]["nested"][0]["note"], "sign here", "values are never searched, only names");
        assert_eq!(clean["fields"]["Sign"], REMOVED);
        assert!(clean["fields"]["signature"].is_null());
        assert_eq!(clean["body"]["amount"], "13.00");
        assert!(!clean.to_string().contains("0f3c") && !clean.to_string().contains("77aa"));
    }
}
