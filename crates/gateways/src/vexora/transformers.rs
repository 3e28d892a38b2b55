//! Vexora's wire form of money: whole units only ("300" for NT$300).

use crate::{Money, ValidationError};

pub fn wire_amount(amount: Money) -> Result<String, ValidationError> {
    let scale = 10i64.pow(amount.currency.exponent() as u32);
    if amount.minor % scale != 0 {
        return Err(ValidationError::new(
            "amount",
            format!("Vexora takes whole {} only (got {amount})", amount.currency),
        ));
    }
    Ok((amount.minor / scale).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn whole_units_only() {
        let twd = Currency::from_code("TWD").unwrap();
        assert_eq!(wire_amount(Money::parse("300", twd).unwrap()).unwrap(), "300");
        assert_eq!(wire_amount(Money::parse("300.50", twd).unwrap()).unwrap_err().field, "amount");
    }
}
