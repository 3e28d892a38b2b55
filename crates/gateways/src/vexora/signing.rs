//! Vexora `sign`: "sorting all fields except sign in alphabetical order and concatenating
//! them as key1=value1key2=value2", the app secret appended, MD5, lowercase hex. All
//! fields: an empty one received is signed too (requests simply send none).

use crate::ApiSecret;
use md5::{Digest, Md5};
use std::collections::BTreeMap;

pub const SIGN_FIELD: &str = "sign";

pub fn string_to_hash(fields: &BTreeMap<String, String>, secret: &ApiSecret) -> String {
    let mut s: String =
        fields.iter().filter(|(k, _)| k.as_str() != SIGN_FIELD).map(|(k, v)| format!("{k}={v}")).collect();
    s.push_str(secret.expose());
    s
}

pub fn sign(fields: &BTreeMap<String, String>, secret: &ApiSecret) -> String {
    hex::encode(Md5::digest(string_to_hash(fields, secret).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_known_answer_vector() {
        let fields: BTreeMap<String, String> = [
            ("amount", "300"),
            ("bankNumber", "808-0368988888888"),
            ("channelCode", "NET_BANKING"),
            ("email", "123@gmail.com"),
            ("firstname", "abc"),
            ("ipAddress", "192.168.0.1"),
            ("lastname", "efg"),
            ("mobile", "0912345678"),
            ("notifyUrl", "https://google.com"),
            ("remark", "000000"),
            ("returnUrl", "http://abc.com/callback_page"),
            ("timestamp", "1724142041682"),
            ("tradeNo", "00000007"),
            ("wayCode", "BANK_TRANSFER"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let secret = ApiSecret::new("vx_test_secret_7f3a");
        assert_eq!(
            string_to_hash(&fields, &secret),
            "amount=300bankNumber=808-0368988888888channelCode=NET_BANKINGemail=123@gmail.comfirstname=abcipAddress=192.168.0.1lastname=efgmobile=0912345678notifyUrl=https://google.comremark=000000returnUrl=http://abc.com/callback_pagetimestamp=1724142041682tradeNo=00000007wayCode=BANK_TRANSFERvx_test_secret_7f3a"
        );
        assert_eq!(sign(&fields, &secret), "7dfab14e67cebd5786e82196e23fd0f6");
        // An empty field received is a field: it is part of what was signed.
        let mut with_empty = fields.clone();
        with_empty.insert("postcode".into(), String::new());
        assert!(string_to_hash(&with_empty, &secret).contains("postcode=remark"));
        assert_ne!(sign(&with_empty, &secret), "7dfab14e67cebd5786e82196e23fd0f6");
    }
}
