//! The one error type that crosses to the UI and the CLI: a stable `kind` and a human message.

use paydesk_gateways::{GatewayError, ValidationError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    /// Bad input, refused before any network call; `field` names what to fix.
    #[error("{message}")]
    InvalidInput { field: String, message: String },
    #[error("{message}")]
    ProfileNotFound { profile: String, message: String },
    #[error("{message}")]
    PaymentNotFound { reference: String, message: String },
    /// The profile's API token is not in the keyring.
    #[error("{message}")]
    SecretMissing { profile: String, message: String },
    /// No usable OS keyring (no Secret Service, or it is locked).
    #[error("{message}")]
    KeyringUnavailable { message: String },
    /// The provider answered and refused.
    #[error("{message}")]
    ProviderRejected { code: String, message: String },
    /// The provider could not be reached (or failed on its side); the payment is kept
    /// and `reference` can be retried as it is.
    #[error("{message}")]
    ProviderUnreachable {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// An answer we could not read or will not apply; `reference` names the payment it
    /// concerned, which is kept.
    #[error("{message}")]
    ProviderProtocol {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The action is not allowed in the payment's current state.
    #[error("{message}")]
    NotAllowed { message: String },
    /// The ledger could not be read or written. `reference` names a payment that exists
    /// (at the provider too) when the failure came after it was sent.
    #[error("{message}")]
    Storage {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The person stopped a long job (an export, a bulk refresh) before its end.
    #[error("{message}")]
    Cancelled { message: String },
    #[error("{message}")]
    Internal { message: String },
}

impl AppError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::Cancelled { .. } => "cancelled",
            Self::ProfileNotFound { .. } => "profile_not_found",
            Self::PaymentNotFound { .. } => "payment_not_found",
            Self::SecretMissing { .. } => "secret_missing",
            Self::KeyringUnavailable { .. } => "keyring_unavailable",
            Self::ProviderRejected { .. } => "provider_rejected",
            Self::ProviderUnreachable { .. } => "provider_unreachable",
            Self::ProviderProtocol { .. } => "provider_protocol",
            Self::NotAllowed { .. } => "not_allowed",
            Self::Storage { .. } => "storage",
            Self::Internal { .. } => "internal",
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidInput { field: field.into(), message: message.into() }
    }

    /// Names the payment an error concerns, when it exists in the ledger already, so the
    /// person (or script) can look it up, retry or cancel it rather than sell again.
    pub fn with_reference(self, payment: &str) -> Self {
        let named = Some(payment.to_string());
        match self {
            Self::ProviderUnreachable { message, reference: None } => {
                Self::ProviderUnreachable { message, reference: named }
            }
            Self::ProviderProtocol { message, reference: None } => Self::ProviderProtocol { message, reference: named },
            Self::Storage { message, reference: None } => Self::Storage {
                message: format!(
                    "{message}. Payment {payment} was recorded before the failure; check it with `tx status`."
                ),
                reference: named,
            },
            other => other,
        }
    }

    pub fn payment_not_found(reference: &str) -> Self {
        Self::PaymentNotFound {
            reference: reference.into(),
            message: format!("No payment with reference {reference} in the ledger"),
        }
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        Self::InvalidInput { field: e.field.into(), message: e.to_string() }
    }
}

impl From<GatewayError> for AppError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Invalid(v) => v.into(),
            GatewayError::Rejected { provider, code, message, transient: true } => Self::ProviderUnreachable {
                message: format!("{provider} failed on its side ({code}): {message}. The payment is kept; try again."),
                reference: None,
            },
            GatewayError::Rejected { provider, code, message, transient: false } => {
                Self::ProviderRejected { message: format!("{provider} refused ({code}): {message}"), code }
            }
            GatewayError::Unreachable { .. } => {
                Self::ProviderUnreachable { message: format!("{e}. The payment is kept; try again."), reference: None }
            }
            GatewayError::Unsupported { .. } => Self::NotAllowed { message: format!("{e}.") },
            GatewayError::Protocol { .. } => Self::ProviderProtocol {
                message: format!("{e}. The payment is kept; check its status or try again."),
                reference: None,
            },
        }
    }
}

impl From<paydesk_ledger::LedgerError> for AppError {
    fn from(e: paydesk_ledger::LedgerError) -> Self {
        if let paydesk_ledger::LedgerError::Cancelled = e {
            return Self::Cancelled { message: "Stopped before the end; nothing half-written was kept.".into() };
        }
        let message = match &e {
            paydesk_ledger::LedgerError::Busy | paydesk_ledger::LedgerError::Conflict(_) => e.to_string(),
            other => format!("The ledger could not be read or written ({other})"),
        };
        Self::Storage { message, reference: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_pinned() {
        let e = AppError::invalid("amount", "amount: must be greater than zero (got 0)");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"invalid_input","field":"amount","message":"amount: must be greater than zero (got 0)"}"#
        );
        let e = AppError::KeyringUnavailable { message: "x".into() };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"kind":"keyring_unavailable","message":"x"}"#);
        assert_eq!(e.kind(), "keyring_unavailable");
    }
}
