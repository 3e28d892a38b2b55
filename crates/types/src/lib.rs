//! The words every Paydesk crate shares, and nothing else: money in minor units with its
//! currency, payment and refund statuses with their one state machine, a payment's
//! balances, the field error a form shows, and the scrubbing of signatures from what is
//! kept. It knows no provider, no ledger and no network.

pub mod money;
pub mod rule;
pub mod scrub;
pub mod status;

pub use money::{Currency, Money};
pub use rule::RuleId;
pub use status::{Balances, MovementKind, MovementStatus, PaymentReport, PaymentStatus, RefundState, RefundStatus};

use std::fmt;

/// Input refused before any network call: names the field and the rule it broke, in
/// English words and as a message id; `option` is the command-line option that gives the
/// field where it is not `--<field>` (the CLI shows it, the window does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub rule: String,
    pub id: RuleId,
    pub option: Option<&'static str>,
}

impl ValidationError {
    pub fn new(field: &'static str, rule: impl Into<String>) -> Self {
        Self { field, rule: rule.into(), id: RuleId::Other, option: None }
    }

    /// The rule's message id, for other languages.
    pub fn because(mut self, id: RuleId) -> Self {
        self.id = id;
        self
    }

    /// The command-line option that sets this field ("--os-type", "--method link").
    pub fn option(mut self, option: &'static str) -> Self {
        self.option = Some(option);
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)?;
        match self.option {
            Some(option) => write!(f, " ({option})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ValidationError {}
