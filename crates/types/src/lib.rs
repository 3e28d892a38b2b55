//! The words every Paydesk crate shares, and nothing else: money in minor units with its
//! currency, payment and refund statuses with their one state machine, a payment's
//! balances, the field error a form shows, and the scrubbing of signatures from what is
//! kept. It knows no provider, no ledger and no network.

pub mod money;
pub mod scrub;
pub mod status;

pub use money::{Currency, Money};
pub use status::{Balances, MovementKind, MovementStatus, PaymentReport, PaymentStatus, RefundState, RefundStatus};

use std::fmt;

/// Input refused before any network call: names the field and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub rule: String,
}

impl ValidationError {
    pub fn new(field: &'static str, rule: impl Into<String>) -> Self {
        Self { field, rule: rule.into() }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for ValidationError {}
