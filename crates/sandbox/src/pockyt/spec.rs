//! Pockyt (Yuansfer) as `pockyt-securepay-params.txt`, `pockyt-checkout-integration-guide.txt`,
//! `pockyt-hosted-checkout.txt` and the signing page describe it.

use std::collections::BTreeMap;

pub const SECURE_PAY_PATH: &str = "/online/v3/secure-pay";
pub const TRAN_QUERY_PATH: &str = "/app-data-search/v3/tran-query";
pub const COUNTER_QR_PATH: &str = "/app-instore/v3/create-trans-qrcode";
pub const REFUND_PATH: &str = "/app-data-search/v3/refund";
pub const CANCEL_PATH: &str = "/app-data-search/v3/cancel";
pub const CUSTOMER_CREATE_PATH: &str = "/v1/customers/create";
pub const CUSTOMER_RETRIEVE_PATH: &str = "/v1/customers/retrieve";
pub const CUSTOMER_UPDATE_PATH: &str = "/v1/customers/update";

/// `ret_code` of an accepted request.
pub const SUCCESS: &str = "000100";
pub const SIGN_FIELD: &str = "verifySign";

/// The example merchant of Pockyt's documents (its signing page signs with this token).
pub const EXAMPLE_MERCHANT_NO: &str = "200043";
pub const EXAMPLE_STORE_NO: &str = "300014";
pub const EXAMPLE_TOKEN: &str = "5cbfb079f15b150122261c8537086d77a";

/// "The supported transaction currencies are ..." (secure-pay, `currency`).
pub const CURRENCIES: &[&str] = &["USD", "CNY", "PHP", "IDR", "KRW", "HKD", "THB", "MYR", "GBP", "BDT", "PKR"];

/// "When the currency is GBP, the settlement currency is GBP. All other currencies settle with USD."
pub fn settle_currency(currency: &str) -> &'static str {
    if currency == "GBP" {
        "GBP"
    } else {
        "USD"
    }
}

/// `terminal`: ONLINE, WAP, YIP in the parameter page; APP where `osType` is described;
/// MWEB in the reference notes (assumed accepted).
pub const TERMINALS: &[&str] = &["ONLINE", "WAP", "APP", "YIP", "MWEB"];
/// `osType` "when terminal is WAP or APP".
pub const OS_TYPES: &[&str] = &["IOS", "ANDROID"];

/// A wallet's code, its name, and each currency it takes with the least amount in it.
pub type Wallet = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

/// Each wallet, the currencies it takes and (alipay's, from the docs) the least amount, as
/// a decimal string in that currency. Wallets and pairs from the reference notes (the
/// official SDK's table).
pub const WALLETS: &[Wallet] = &[
    (
        "alipay",
        "Alipay",
        &[
            ("USD", "0.01"),
            ("CNY", "0.01"),
            ("GBP", "0.01"),
            ("PHP", "1"),
            ("THB", "1"),
            ("MYR", "1"),
            ("IDR", "300"),
            ("KRW", "50"),
            ("HKD", "0.1"),
            ("BDT", "0.01"),
            ("PKR", "100"),
        ],
    ),
    ("wechatpay", "WeChat Pay", &[("USD", "0.01"), ("CNY", "0.01")]),
    ("unionpay", "UnionPay", &[("USD", "0.01"), ("CNY", "0.01")]),
    ("creditcard", "Credit card", &[("USD", "0.01")]),
    ("paypal", "PayPal", &[("USD", "0.01")]),
    ("venmo", "Venmo", &[("USD", "0.01")]),
    ("cashapppay", "Cash App Pay", &[("USD", "0.01")]),
    ("truemoney", "TrueMoney", &[("THB", "0.01")]),
    ("alipay_hk", "AlipayHK", &[("HKD", "0.01")]),
    ("tng", "Touch 'n Go", &[("MYR", "0.01")]),
    ("gcash", "GCash", &[("PHP", "0.01")]),
    ("dana", "DANA", &[("IDR", "0.01")]),
    ("kakaopay", "KakaoPay", &[("KRW", "1")]),
    ("bkash", "bKash", &[("BDT", "0.01")]),
    ("easypaisa", "Easypaisa", &[("PKR", "0.01")]),
];

/// Wallets a counter (merchant-presented) QR is made for: the in-store QR page names
/// Alipay, WeChat Pay and Cash App Pay.
pub const COUNTER_QR_WALLETS: &[&str] = &["alipay", "wechatpay", "cashapppay"];

/// The wallet's name as its cashier page shows it.
pub fn wallet_name(vendor: &str) -> &'static str {
    WALLETS.iter().find(|(v, _, _)| *v == vendor).map(|(_, name, _)| *name).unwrap_or("Wallet")
}

/// Refuses a wallet that does not take this currency or an amount under its least.
pub fn check_wallet(vendor: &str, currency: &str, amount_minor: i64) -> Result<(), String> {
    let (_, _, takes) =
        WALLETS.iter().find(|(v, _, _)| *v == vendor).ok_or_else(|| format!("vendor {vendor} is not supported"))?;
    let (_, least) = takes
        .iter()
        .find(|(c, _)| *c == currency)
        .ok_or_else(|| format!("vendor {vendor} does not take {currency}"))?;
    let least_minor = crate::spec::money::parse(least, currency)?;
    if amount_minor < least_minor {
        return Err(format!("amount is under the least {least} {currency} for {vendor}"));
    }
    Ok(())
}

/// `verifySign`: every parameter but `verifySign` with a value, sorted by name, joined as
/// `k=v` with `&`, then `&` and the MD5 of the API token; the MD5 of all that.
pub fn sign(params: &BTreeMap<String, String>, token: &str) -> String {
    let mut text = String::new();
    for (k, v) in params.iter().filter(|(k, v)| k.as_str() != SIGN_FIELD && !v.is_empty()) {
        text.push_str(k);
        text.push('=');
        text.push_str(v);
        text.push('&');
    }
    text.push_str(&crate::spec::md5_hex(token.as_bytes()));
    crate::spec::md5_hex(text.as_bytes())
}

/// Whether `verifySign` holds over every parameter received.
pub fn verify(params: &BTreeMap<String, String>, token: &str) -> bool {
    params.get(SIGN_FIELD).is_some_and(|given| crate::spec::same(given, &sign(params, token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known answer of `shared/reference/test-vectors/README.md` (Pockyt's own example).
    #[test]
    fn reproduces_the_documented_verify_sign() {
        let params: BTreeMap<String, String> = [
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
        .collect();
        assert_eq!(crate::spec::md5_hex(EXAMPLE_TOKEN.as_bytes()), "186abea4b8610d7ff03768255588597a");
        assert_eq!(sign(&params, EXAMPLE_TOKEN), "b6bfd66531ae7c9499115c7480a2c8aa");
        let mut signed = params.clone();
        signed.insert(SIGN_FIELD.into(), "b6bfd66531ae7c9499115c7480a2c8aa".into());
        assert!(verify(&signed, EXAMPLE_TOKEN));
        signed.insert("amount".into(), "1.01".into());
        assert!(!verify(&signed, EXAMPLE_TOKEN));
    }

    #[test]
    fn wallets_take_their_currencies_from_their_least() {
        assert!(check_wallet("alipay", "USD", 1).is_ok());
        assert!(check_wallet("alipay", "IDR", 29_999).is_err());
        assert!(check_wallet("wechatpay", "GBP", 500).is_err());
        assert!(check_wallet("bitcoin", "USD", 500).is_err());
        assert_eq!(settle_currency("GBP"), "GBP");
        assert_eq!(settle_currency("CNY"), "USD");
    }
}
