//! Amounts on the wire, read and written by the emulator itself: a decimal string with at
//! most the currency's ISO 4217 minor digits ("13.00", "0.5", "300"), kept as an integer
//! count of minor units. Never floats.

/// ISO 4217 minor digits of the currencies the three providers name; None for the rest.
pub fn minor_digits(currency: &str) -> Option<u32> {
    match currency {
        "KRW" | "JPY" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => Some(0),
        "BHD" | "JOD" | "KWD" | "OMR" | "TND" => Some(3),
        c if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => Some(2),
        _ => None,
    }
}

/// "13.5" in USD is 1350. Refuses signs, exponents, spaces, more digits than the currency
/// has, and more than 15 integer digits.
pub fn parse(text: &str, currency: &str) -> Result<i64, String> {
    let digits = minor_digits(currency).ok_or_else(|| format!("{currency} is not a currency"))?;
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 15
        || !plain(whole)
        || !plain(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(format!("amount '{text}' is not a decimal number"));
    }
    if fraction.len() > digits as usize {
        return Err(format!("amount '{text}' has more than {digits} decimals for {currency}"));
    }
    let scale = 10i64.pow(digits);
    let whole: i64 = whole.parse().map_err(|_| format!("amount '{text}' is too large"))?;
    let fraction: i64 = format!("{fraction:0<width$}", width = digits as usize).parse().unwrap_or(0);
    Ok(whole * scale + fraction)
}

/// 1350 in USD is "13.50".
pub fn format(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency).unwrap_or(2);
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(digits);
    format!("{}.{:0width$}", minor / scale, minor % scale, width = digits as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_are_minor_units() {
        assert_eq!(parse("13.00", "USD"), Ok(1300));
        assert_eq!(parse("0.5", "USD"), Ok(50));
        assert_eq!(parse("300", "TWD"), Ok(30000));
        assert_eq!(parse("50", "KRW"), Ok(50));
        assert!(parse("50.1", "KRW").is_err());
        assert!(parse("1.001", "USD").is_err());
        for bad in ["", "-1", "1e3", " 1", "1.", ".5", "1,00", "+1"] {
            assert!(parse(bad, "USD").is_err(), "{bad:?}");
        }
        assert_eq!(format(1350, "USD"), "13.50");
        assert_eq!(format(5, "USD"), "0.05");
        assert_eq!(format(50, "KRW"), "50");
    }
}
