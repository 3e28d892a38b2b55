//! Pockyt `verifySign`: sort every non-empty parameter except `verifySign` by key,
//! join `k=v` with `&`, append `&` + md5hex(token), and take md5hex of the whole.

use crate::ApiSecret;
use md5::{Digest, Md5};
use std::collections::BTreeMap;

pub const SIGN_FIELD: &str = "verifySign";

fn md5_hex(data: &[u8]) -> String {
    let digest = Md5::digest(data);
    hex::encode(digest)
}

/// The string that is hashed, without the token part; kept separate so tests can show it.
pub fn canonical_string(params: &BTreeMap<String, String>) -> String {
    // BTreeMap<String, _> iterates in byte order of the keys, as Pockyt sorts.
    params
        .iter()
        .filter(|(k, v)| k.as_str() != SIGN_FIELD && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn sign(params: &BTreeMap<String, String>, token: &ApiSecret) -> String {
    let text = format!("{}&{}", canonical_string(params), md5_hex(token.expose().as_bytes()));
    md5_hex(text.as_bytes())
}

/// Verifies `verifySign` over every field present (never a fixed list).
pub fn verify(params: &BTreeMap<String, String>, token: &ApiSecret) -> bool {
    let Some(given) = params.get(SIGN_FIELD) else { return false };
    let expected = sign(params, token);
    // Constant-time comparison: the signature is a MAC over the token.
    subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vector from shared/reference/test-vectors/README.md.
    fn vector_params() -> BTreeMap<String, String> {
        [
            ("amount", "1.00"),
            ("callbackUrl", "https://wx.yuansfer.yunkeguan.com/wx"),
            ("currency", "USD"),
            ("goodsInfo", r#"[{"goods_name":"Yuansfer","quantity":"1"}]"#),
            ("ipnUrl", "https://wx.yuansfer.yunkeguan.com/wx"),
            ("merchantNo", "200043"),
            ("reference", "seq_1525922323"),
            ("storeNo", "300014"),
            ("terminal", "ONLINE"),
            ("timeout", "120"),
            ("vendor", "alipay"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn reproduces_known_answer_vector() {
        let token = ApiSecret::new("5cbfb079f15b150122261c8537086d77a");
        assert_eq!(md5_hex(token.expose().as_bytes()), "186abea4b8610d7ff03768255588597a");
        assert_eq!(sign(&vector_params(), &token), "b6bfd66531ae7c9499115c7480a2c8aa");
    }

    #[test]
    fn empty_values_and_the_signature_itself_are_not_signed() {
        let token = ApiSecret::new("5cbfb079f15b150122261c8537086d77a");
        let mut p = vector_params();
        p.insert("note".into(), String::new());
        p.insert(SIGN_FIELD.into(), "whatever".into());
        assert_eq!(sign(&p, &token), "b6bfd66531ae7c9499115c7480a2c8aa");
    }

    #[test]
    fn verify_accepts_good_and_rejects_tampered() {
        let token = ApiSecret::new("5cbfb079f15b150122261c8537086d77a");
        let mut p = vector_params();
        p.insert(SIGN_FIELD.into(), sign(&p, &token));
        assert!(verify(&p, &token));
        p.insert("amount".into(), "100.00".into());
        assert!(!verify(&p, &token));
        assert!(!verify(&vector_params(), &token), "missing signature must fail");
    }
}
