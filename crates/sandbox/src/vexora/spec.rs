//! Vexora's Taiwan checkout as `vexora-checkout.txt` describes it; the query, the
//! notification and the status table are not in that document and are the reference notes'
//! assumptions (README: "Providers: what is documented and what is assumed").

use std::collections::BTreeMap;

/// Not in the document (its "Request URL" is empty): assumed.
pub const CHECKOUT_PATH: &str = "/v1/vexora/checkout";
pub const QUERY_PATH: &str = "/v1/vexora/queryPayInResult";

pub const SIGN_FIELD: &str = "sign";
/// `code` "0000 indicates successful request".
pub const TAKEN: &str = "0000";

/// `data.status`: only 0015 "Paying" is in the document; the rest assumed.
pub const PAID: &str = "0000";
pub const PARTLY_PAID: &str = "0001";
pub const PAYING: &str = "0015";
pub const FAILED: &str = "00029";

/// `channelCode`: "Bank payment — NET_BANKING; Retail store — STORE; E-wallet — EWALLET".
pub const CHANNELS: &[&str] = &["NET_BANKING", "STORE", "EWALLET"];

/// "sorting all fields except sign in alphabetical order and concatenating them as
/// key1=value1key2=value2. Use app secret as salt for MD5": every field but `sign`, empty
/// ones too, the secret appended, MD5 in lowercase hex.
pub fn sign(fields: &BTreeMap<String, String>, app_secret: &str) -> String {
    let mut text = String::new();
    for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != SIGN_FIELD) {
        text.push_str(k);
        text.push('=');
        text.push_str(v);
    }
    text.push_str(app_secret);
    crate::spec::md5_hex(text.as_bytes())
}

pub fn verify(fields: &BTreeMap<String, String>, app_secret: &str) -> bool {
    fields.get(SIGN_FIELD).is_some_and(|given| !given.is_empty() && crate::spec::same(given, &sign(fields, app_secret)))
}

/// A JSON body as Vexora reads it: a flat object whose values are strings (numbers and
/// booleans as written, null as empty). None for anything else or over 64 fields.
pub fn fields_of(body: &[u8]) -> Option<BTreeMap<String, String>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object().filter(|o| o.len() <= 64)?;
    object
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => String::new(),
                _ => return None,
            };
            (k.len() <= 64 && text.len() <= 2048).then(|| (k.clone(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known answer of `shared/reference/test-vectors/README.md`: the document's
    /// NET_BANKING example without its `sign`.
    #[test]
    fn reproduces_the_documented_sign() {
        let example = br#"{
            "timestamp": "1724142041682", "tradeNo": "00000007", "amount": "300",
            "mobile": "0912345678", "firstname": "abc", "lastname": "efg", "email": "123@gmail.com",
            "channelCode": "NET_BANKING", "wayCode": "BANK_TRANSFER", "ipAddress": "192.168.0.1",
            "bankNumber": "808-0368988888888", "notifyUrl": "https://google.com",
            "returnUrl": "http://abc.com/callback_page", "remark": "000000"}"#;
        let fields = fields_of(example).unwrap();
        assert_eq!(sign(&fields, "vx_test_secret_7f3a"), "7dfab14e67cebd5786e82196e23fd0f6");
        let mut signed = fields.clone();
        signed.insert(SIGN_FIELD.into(), "7dfab14e67cebd5786e82196e23fd0f6".into());
        assert!(verify(&signed, "vx_test_secret_7f3a"));
        // An empty field is a field: it is signed too (the document says "all fields").
        signed.insert("postcode".into(), String::new());
        assert!(!verify(&signed, "vx_test_secret_7f3a"));
    }
}
