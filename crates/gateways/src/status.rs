use serde::{Deserialize, Serialize};

/// The one canonical payment status every provider's status maps into.
/// A provider value we do not know becomes `Unknown`; the raw string is kept beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Recorded in the ledger; the provider has not confirmed it yet.
    Created,
    /// The provider knows it; the customer has not paid yet.
    Pending,
    Authorized,
    Paid,
    PartiallyRefunded,
    Refunded,
    Failed,
    Expired,
    Cancelled,
    Unknown,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Authorized => "authorized",
            Self::Paid => "paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created" => Self::Created,
            "pending" => Self::Pending,
            "authorized" => Self::Authorized,
            "paid" => Self::Paid,
            "partially_refunded" => Self::PartiallyRefunded,
            "refunded" => Self::Refunded,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "cancelled" => Self::Cancelled,
            "unknown" => Self::Unknown,
            _ => return None,
        })
    }

    /// True when no further change is expected without a new action (refund, capture).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Paid | Self::PartiallyRefunded | Self::Refunded | Self::Failed | Self::Expired | Self::Cancelled
        )
    }
}
