//! Property tests of everything that reads what the outside world sends: provider answers,
//! notifications, amounts, links, text and signatures. No input may panic a parser, and no
//! mutation of a signed message may verify.
//!
//! CI runs the default number of cases; a long run (documented in the README):
//! `PROPTEST_CASES=200000 cargo test --release -p paydesk-gateways --test properties`.

use paydesk_gateways::pockyt::{self, signing, CancelResult, RefundResult, SecurePayResult, TransactionInfo};
use paydesk_gateways::{links, paykka, text, vexora, ApiSecret, Currency, Money};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

const CODES: &[&str] = &["USD", "CNY", "KRW", "JPY", "TWD", "IDR", "GBP"];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        prop_oneof![Just("000100"), Just("000021"), Just("000000"), Just("999999")].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("ret_code".to_string()),
                    Just("ret_msg".to_string()),
                    Just("result".to_string()),
                    Just("transactionNo".to_string()),
                    Just("amount".to_string()),
                    Just("status".to_string()),
                    "[a-zA-Z]{1,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn params() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-zA-Z]{1,12}", "[ -~]{0,24}", 1..8)
}

proptest! {
    #[test]
    fn money_parser_never_panics_and_round_trips(text in ".{0,40}", code in prop::sample::select(CODES)) {
        let currency = Currency::from_code(code).unwrap();
        if let Ok(m) = Money::parse(&text, currency) {
            prop_assert!(m.minor > 0);
            prop_assert_eq!(Money::parse(&m.to_decimal_string(), currency).unwrap(), m);
        }
    }

    #[test]
    fn every_amount_survives_its_wire_form(minor in 1i64..=999_999_999_999, code in prop::sample::select(CODES)) {
        let currency = Currency::from_code(code).unwrap();
        let m = Money::new(minor, currency);
        prop_assert_eq!(Money::parse(&m.to_decimal_string(), currency).unwrap(), m);
        prop_assert_eq!(paykka::transformers::from_wire(paykka::transformers::wire_amount(m), currency), m);
    }

    #[test]
    fn pockyt_answers_never_panic_the_parsers(body in any_json()) {
        let _ = pockyt::parse_envelope::<TransactionInfo>(&body);
        let _ = pockyt::parse_envelope::<SecurePayResult>(&body);
        let _ = pockyt::parse_envelope::<RefundResult>(&body);
        let _ = pockyt::parse_envelope::<CancelResult>(&body);
        if let Ok(info) = pockyt::parse_envelope::<TransactionInfo>(&body) {
            let _ = info.report();
        }
    }

    #[test]
    fn raw_bytes_never_panic_the_parsers(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            let _ = pockyt::parse_envelope::<TransactionInfo>(&v);
        }
    }

    #[test]
    fn notifications_never_panic_the_parser(fields in params()) {
        let report = pockyt::notification_report(&fields);
        prop_assert!(report.amount.is_none_or(|m| m.minor > 0));
    }

    #[test]
    fn a_signed_pockyt_message_verifies_and_no_mutation_does(
        fields in params(),
        token in "[a-f0-9]{8,40}",
        which in any::<prop::sample::Index>(),
        extra in "[a-z]{1,8}",
    ) {
        let token = ApiSecret::new(token);
        let mut signed: BTreeMap<String, String> = fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        prop_assume!(!signed.is_empty());
        let sign = signing::sign(&signed, &token);
        signed.insert(signing::SIGN_FIELD.into(), sign);
        prop_assert!(signing::verify(&signed, &token));

        let key = signed.keys().filter(|k| *k != signing::SIGN_FIELD).nth(which.index(signed.len() - 1)).unwrap().clone();
        let mut changed = signed.clone();
        changed.get_mut(&key).unwrap().push('0');
        prop_assert!(!signing::verify(&changed, &token), "a changed value verifies");

        let mut added = signed.clone();
        added.insert(format!("{extra}X"), "1".into());
        prop_assert!(!signing::verify(&added, &token), "an added field verifies");

        let mut removed = signed.clone();
        removed.remove(&key);
        prop_assert!(!signing::verify(&removed, &token), "a removed field verifies");

        let mut forged = signed.clone();
        forged.insert(signing::SIGN_FIELD.into(), signing::sign(&changed, &ApiSecret::new("another-token")));
        prop_assert!(!signing::verify(&forged, &token), "another token's signature verifies");
    }

    #[test]
    fn vexora_signs_differ_when_anything_changes(fields in params(), which in any::<prop::sample::Index>()) {
        let secret = ApiSecret::new("vx_test_secret_7f3a");
        let key = fields.keys().nth(which.index(fields.len())).unwrap().clone();
        let mut changed = fields.clone();
        changed.get_mut(&key).unwrap().push('0');
        prop_assert_ne!(vexora::signing::sign(&fields, &secret), vexora::signing::sign(&changed, &secret));
    }

    #[test]
    fn links_and_text_checks_never_panic(link in ".{0,300}", base in ".{0,40}") {
        let _ = links::check_payment_link(&link, &base, &["weixin"], false);
        let _ = links::check_base_url("base_url", &base, false);
        let _ = text::check_line("field", &link, 64);
        let escaped = text::escape_for_terminal(&link);
        let raw_escape = escaped.contains(char::from(0x1b));
        prop_assert!(!raw_escape);
    }

    #[test]
    fn only_https_wallet_or_same_origin_links_pass(link in "[a-z]{1,10}:[ -~]{0,60}") {
        if links::check_payment_link(&link, "http://127.0.0.1:8787", &["weixin"], false).is_ok() {
            let scheme = link.split(':').next().unwrap();
            prop_assert!(matches!(scheme, "https" | "weixin" | "http"), "{}", link);
            if scheme == "http" {
                prop_assert!(link.starts_with("http://127.0.0.1:8787"), "{}", link);
            }
        }
    }
}

const PUBLIC: &str = include_str!("../test-vectors/paykka-test-merchant-public.pem");
const PRIVATE: &str = include_str!("../test-vectors/paykka-test-merchant-private.pem");

proptest! {
    // RSA signing is slow in a debug build: fewer cases, same property.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_paykka_signature_verifies_and_no_mutation_does(body in "[ -~]{0,200}", flip in any::<prop::sample::Index>()) {
        let key = paykka::signing::MerchantKey::from_pkcs8_pem(PRIVATE).unwrap();
        let message = paykka::signing::string_to_sign("POST", "/v3/payment/acq/query", "1757387467986", "42", &body);
        let header = key.sign_header(&message);
        prop_assert!(paykka::signing::verify_header(PUBLIC, &message, &header).unwrap());
        let mut bytes = message.clone().into_bytes();
        let i = flip.index(bytes.len());
        bytes[i] ^= 0x01;
        let mutated = String::from_utf8_lossy(&bytes).to_string();
        prop_assert!(!paykka::signing::verify_header(PUBLIC, &mutated, &header).unwrap());
    }
}

proptest! {
    #[test]
    fn a_random_paykka_header_never_panics_or_verifies(header in ".{0,400}") {
        prop_assert!(!paykka::signing::verify_header(PUBLIC, "message", &header).unwrap_or(false));
    }
}
