//! Money inside the app: integer minor units plus an ISO 4217 currency.
//! Conversions to a provider's wire form live at the edge, in each provider's transformers.

use crate::{RuleId, ValidationError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency the app knows, with its number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// Known currencies and their ISO 4217 exponents.
const CURRENCIES: &[(&str, u8)] = &[
    ("USD", 2),
    ("CNY", 2),
    ("PHP", 2),
    ("IDR", 2),
    ("KRW", 0),
    ("HKD", 2),
    ("THB", 2),
    ("MYR", 2),
    ("GBP", 2),
    ("BDT", 2),
    ("PKR", 2),
    ("EUR", 2),
    ("JPY", 0),
    ("TWD", 2),
    ("SGD", 2),
    ("AUD", 2),
    ("CAD", 2),
];

impl Currency {
    pub fn from_code(code: &str) -> Result<Self, ValidationError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES.iter().find(|(c, _)| *c == upper).map(|&(code, exponent)| Currency { code, exponent }).ok_or_else(
            || {
                if upper.is_empty() {
                    ValidationError::new("currency", "is required").because(RuleId::Required)
                } else {
                    ValidationError::new("currency", format!("'{code}' is not a known ISO 4217 currency"))
                }
            },
        )
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point in this currency (2 for USD, 0 for KRW).
    pub fn exponent(self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::from_code(&s).map_err(serde::de::Error::custom)
    }
}

/// A positive amount of money in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses what a person typed ("13", "13.5", "13.00") into minor units, exactly.
    /// Refuses signs, exponents, separators, zero, and more decimals than the currency has.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, ValidationError> {
        let t = text.trim();
        let rule = |r: String| Err(ValidationError::new("amount", r));
        if t.is_empty() {
            return Err(ValidationError::new("amount", "is required").because(RuleId::Required));
        }
        if t.starts_with('-') {
            return rule(format!("must be greater than zero (got {t})"));
        }
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(frac) || (whole.is_empty() && frac.is_empty()) || t.ends_with('.') {
            return Err(ValidationError::new(
                "amount",
                format!("must be a plain decimal number such as 13.00 (got '{t}')"),
            )
            .because(RuleId::Amount));
        }
        let exp = currency.exponent as usize;
        if frac.len() > exp {
            let words = if exp == 0 {
                format!("{} has no minor unit: whole amounts only (got {t})", currency.code)
            } else {
                format!("{} allows at most {exp} decimal places (got {t})", currency.code)
            };
            return Err(ValidationError::new("amount", words).because(RuleId::DecimalPlaces));
        }
        let scale = 10i64.pow(exp as u32);
        let whole_value: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| ValidationError::new("amount", "is too large"))?
        };
        let mut frac_padded = frac.to_string();
        while frac_padded.len() < exp {
            frac_padded.push('0');
        }
        let frac_value: i64 = if frac_padded.is_empty() { 0 } else { frac_padded.parse().unwrap_or(0) };
        let minor = whole_value
            .checked_mul(scale)
            .and_then(|v| v.checked_add(frac_value))
            .filter(|v| *v <= 1_000_000_000_000)
            .ok_or_else(|| ValidationError::new("amount", "is too large"))?;
        if minor == 0 {
            return rule(format!("must be greater than zero (got {t})"));
        }
        Ok(Self { minor, currency })
    }

    /// The amount as a decimal string with exactly the currency's digits: 1300 USD -> "13.00".
    pub fn to_decimal_string(&self) -> String {
        let exp = self.currency.exponent as u32;
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(exp);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!("{sign}{}.{:0width$}", abs / scale as u64, abs % scale as u64, width = exp as usize)
    }

    /// Parses a provider's decimal string ("13.00", "0.5", "13") in this currency.
    pub fn parse_wire(text: &str, currency: Currency) -> Option<Self> {
        Self::parse(text, currency).ok()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::from_code("USD").unwrap()
    }

    #[test]
    fn parses_exact_minor_units() {
        assert_eq!(Money::parse("13.00", usd()).unwrap().minor, 1300);
        assert_eq!(Money::parse("13", usd()).unwrap().minor, 1300);
        assert_eq!(Money::parse("0.5", usd()).unwrap().minor, 50);
        assert_eq!(Money::parse(".01", usd()).unwrap().minor, 1);
        assert_eq!(Money::parse("50", Currency::from_code("KRW").unwrap()).unwrap().minor, 50);
    }

    #[test]
    fn refuses_bad_amounts_naming_the_rule() {
        for (input, needle) in [
            ("0", "greater than zero"),
            ("0.00", "greater than zero"),
            ("-1", "greater than zero"),
            ("1.234", "at most 2 decimal places"),
            ("10e3", "plain decimal number"),
            ("", "required"),
            ("1,00", "plain decimal number"),
            ("1.", "plain decimal number"),
            ("99999999999999999999", "too large"),
        ] {
            let err = Money::parse(input, usd()).unwrap_err();
            assert_eq!(err.field, "amount");
            assert!(err.rule.contains(needle), "{input}: {}", err.rule);
        }
        let err = Money::parse("1.5", Currency::from_code("KRW").unwrap()).unwrap_err();
        assert!(err.rule.contains("whole amounts only"));
    }

    #[test]
    fn formats_with_currency_digits() {
        assert_eq!(Money::new(1300, usd()).to_decimal_string(), "13.00");
        assert_eq!(Money::new(5, usd()).to_decimal_string(), "0.05");
        assert_eq!(Money::new(50, Currency::from_code("KRW").unwrap()).to_decimal_string(), "50");
    }

    #[test]
    fn unknown_currency_is_named() {
        let err = Currency::from_code("XYZ").unwrap_err();
        assert_eq!(err.field, "currency");
        assert!(err.rule.contains("XYZ"));
    }
}
