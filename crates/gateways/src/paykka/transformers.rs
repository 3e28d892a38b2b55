//! PayKKa's wire form of money: an integer in the currency's minor unit (USD cents, JPY yen).

use crate::Money;

pub fn wire_amount(amount: Money) -> i64 {
    amount.minor
}

pub fn from_wire(value: i64, currency: crate::Currency) -> Money {
    Money::new(value, currency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn cents_round_trip() {
        let usd = Currency::from_code("USD").unwrap();
        let m = Money::parse("13.05", usd).unwrap();
        assert_eq!(wire_amount(m), 1305);
        assert_eq!(from_wire(1305, usd), m);
        assert_eq!(wire_amount(Money::parse("500", Currency::from_code("JPY").unwrap()).unwrap()), 500);
    }
}
