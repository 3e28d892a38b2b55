//! Pockyt's currency and vendor rules, in one table so a relaxed rule is a one-line change.

use crate::{Currency, Money, ValidationError};

/// Currencies Pockyt accepts for a transaction.
pub const CURRENCIES: &[&str] = &["USD", "CNY", "PHP", "IDR", "KRW", "HKD", "THB", "MYR", "GBP", "BDT", "PKR"];

/// vendor -> [(currency, minimum amount in minor units)]. From the official PHP SDK and
/// the alipay minimums of the docs.
const VENDOR_RULES: &[(&str, &[(&str, i64)])] = &[
    (
        "alipay",
        &[
            ("USD", 1),
            ("CNY", 1),
            ("GBP", 1),
            ("PHP", 100),
            ("THB", 100),
            ("MYR", 100),
            ("IDR", 30_000),
            ("KRW", 50),
            ("HKD", 10),
            ("BDT", 1),
            ("PKR", 10_000),
        ],
    ),
    ("wechatpay", &[("USD", 1), ("CNY", 1)]),
    ("unionpay", &[("USD", 1), ("CNY", 1)]),
    ("creditcard", &[("USD", 1)]),
    ("paypal", &[("USD", 1)]),
    ("venmo", &[("USD", 1)]),
    ("cashapppay", &[("USD", 1)]),
    ("truemoney", &[("THB", 1)]),
    ("alipay_hk", &[("HKD", 1)]),
    ("tng", &[("MYR", 1)]),
    ("gcash", &[("PHP", 1)]),
    ("dana", &[("IDR", 1)]),
    ("kakaopay", &[("KRW", 1)]),
    ("bkash", &[("BDT", 1)]),
    ("easypaisa", &[("PKR", 1)]),
];

pub const TERMINALS: &[&str] = &["ONLINE", "WAP", "APP", "YIP", "MWEB"];

/// Wallets that take a merchant-presented counter QR (create-trans-qrcode).
pub const COUNTER_QR_VENDORS: &[&str] = &["alipay", "wechatpay", "cashapppay"];

pub fn check_counter_vendor(vendor: &str, amount: Money) -> Result<(), ValidationError> {
    if !COUNTER_QR_VENDORS.contains(&vendor) {
        return Err(ValidationError::new(
            "vendor",
            format!(
                "the counter QR takes {} only (got '{vendor}'); use a payment link for other wallets",
                COUNTER_QR_VENDORS.join(", ")
            ),
        ));
    }
    check_vendor(vendor, amount)
}

pub fn vendors() -> impl Iterator<Item = &'static str> {
    VENDOR_RULES.iter().map(|(v, _)| *v)
}

/// Human name of a wallet, shown under the QR.
pub fn vendor_label(vendor: &str) -> &'static str {
    match vendor {
        "alipay" => "Alipay",
        "wechatpay" => "WeChat Pay",
        "unionpay" => "UnionPay",
        "creditcard" => "Credit card",
        "paypal" => "PayPal",
        "venmo" => "Venmo",
        "cashapppay" => "Cash App Pay",
        "truemoney" => "TrueMoney",
        "alipay_hk" => "AlipayHK",
        "tng" => "Touch 'n Go",
        "gcash" => "GCash",
        "dana" => "DANA",
        "kakaopay" => "KakaoPay",
        "bkash" => "bKash",
        "easypaisa" => "Easypaisa",
        _ => "Wallet",
    }
}

pub fn check_currency(currency: Currency) -> Result<(), ValidationError> {
    if CURRENCIES.contains(&currency.code()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            "currency",
            format!("Pockyt does not accept {currency}; use one of {}", CURRENCIES.join(", ")),
        ))
    }
}

/// Settlement is GBP for GBP, USD for everything else.
pub fn settle_currency(currency: Currency) -> &'static str {
    if currency.code() == "GBP" {
        "GBP"
    } else {
        "USD"
    }
}

/// Checks the vendor exists, takes this currency, and the amount meets its minimum.
pub fn check_vendor(vendor: &str, amount: Money) -> Result<(), ValidationError> {
    check_currency(amount.currency)?;
    let Some((_, allowed)) = VENDOR_RULES.iter().find(|(v, _)| *v == vendor) else {
        let known: Vec<_> = vendors().collect();
        return Err(ValidationError::new(
            "vendor",
            format!("'{vendor}' is not a Pockyt vendor; use one of {}", known.join(", ")),
        ));
    };
    let Some((_, min)) = allowed.iter().find(|(c, _)| *c == amount.currency.code()) else {
        let currencies: Vec<_> = allowed.iter().map(|(c, _)| *c).collect();
        return Err(ValidationError::new(
            "currency",
            format!("{vendor} does not take {}; it takes {}", amount.currency, currencies.join(", ")),
        ));
    };
    if amount.minor < *min {
        return Err(ValidationError::new(
            "amount",
            format!("{vendor} needs at least {} in {}", Money::new(*min, amount.currency), amount.currency),
        ));
    }
    Ok(())
}

pub fn check_terminal(terminal: &str) -> Result<(), ValidationError> {
    if TERMINALS.contains(&terminal) {
        Ok(())
    } else {
        Err(ValidationError::new("terminal", format!("must be one of {} (got '{terminal}')", TERMINALS.join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str, cur: &str) -> Money {
        let c = Currency::from_code(cur).unwrap();
        Money::parse(text, c).unwrap()
    }

    #[test]
    fn vendor_currency_rules() {
        assert!(check_vendor("alipay", money("13.00", "USD")).is_ok());
        assert!(check_vendor("wechatpay", money("1", "CNY")).is_ok());
        let e = check_vendor("wechatpay", money("1", "GBP")).unwrap_err();
        assert_eq!(e.field, "currency");
        assert!(e.rule.contains("wechatpay does not take GBP"), "{}", e.rule);
        let e = check_vendor("alipay", money("299", "IDR")).unwrap_err();
        assert_eq!(e.field, "amount");
        assert!(e.rule.contains("300.00 IDR"), "{}", e.rule);
        assert_eq!(check_vendor("bitcoin", money("1", "USD")).unwrap_err().field, "vendor");
        assert_eq!(check_vendor("alipay", money("1", "EUR")).unwrap_err().field, "currency");
    }

    #[test]
    fn settlement_currency() {
        assert_eq!(settle_currency(Currency::from_code("GBP").unwrap()), "GBP");
        assert_eq!(settle_currency(Currency::from_code("CNY").unwrap()), "USD");
    }
}
