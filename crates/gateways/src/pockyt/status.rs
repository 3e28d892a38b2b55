//! Pockyt's statuses and return codes, mapped into the one state machine (`From`): an
//! unknown status is kept raw and maps to unknown, never guessed.

use crate::PaymentStatus;

/// A Pockyt transaction status as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PockytStatus<'a>(pub &'a str);

impl From<PockytStatus<'_>> for PaymentStatus {
    fn from(s: PockytStatus<'_>) -> Self {
        match s.0 {
            "init" | "dealing" | "pending" => PaymentStatus::Pending,
            "success" => PaymentStatus::Paid,
            "failed" | "fail" => PaymentStatus::Failed,
            "closed" => PaymentStatus::Expired,
            "reversed" => PaymentStatus::Cancelled,
            "refunded" | "refund" => PaymentStatus::Refunded,
            "partial_refund" | "partially_refunded" => PaymentStatus::PartiallyRefunded,
            // Never guess: the raw value is kept beside this.
            _ => PaymentStatus::Unknown,
        }
    }
}

/// Pockyt's `ret_code`, typed. `000100` and nothing else is success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetCode {
    Success,
    SystemError,
    ApiVersionError,
    ParameterNull,
    NoRelatedInformation,
    ParametersMismatch,
    ParameterValueError,
    AccessDenied,
    TransactionStatusError,
    WalletSystemError,
    Other(String),
}

impl From<&str> for RetCode {
    fn from(code: &str) -> Self {
        match code {
            "000100" => Self::Success,
            "000000" => Self::SystemError,
            "000010" => Self::ApiVersionError,
            "000020" => Self::ParameterNull,
            "000021" => Self::NoRelatedInformation,
            "000022" => Self::ParametersMismatch,
            "000023" => Self::ParameterValueError,
            "000030" => Self::AccessDenied,
            "000040" => Self::TransactionStatusError,
            "000080" => Self::WalletSystemError,
            other => Self::Other(other.to_string()),
        }
    }
}

impl RetCode {
    /// The documented meaning, for when ret_msg is empty.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::SystemError => "system error",
            Self::ApiVersionError => "API version error",
            Self::ParameterNull => "parameter is null",
            Self::NoRelatedInformation => "parameter has no related information",
            Self::ParametersMismatch => "parameters do not match",
            Self::ParameterValueError => "parameter value error",
            Self::AccessDenied => "access denied",
            Self::TransactionStatusError => "transaction status error",
            Self::WalletSystemError => "wallet system error",
            Self::Other(_) => "unknown error",
        }
    }

    /// A failure on Pockyt's or the wallet's side: the request may be sent again as is.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::SystemError | Self::WalletSystemError)
    }
}
