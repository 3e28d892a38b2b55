use crate::Money;
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
    /// Part of what was authorised is captured; more may be captured, or the rest voided.
    PartiallyCaptured,
    /// The customer paid less than asked (a bank transfer short of the amount): money
    /// arrived, but the sale is not paid.
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
    /// The customer's bank disputes a paid payment (chargeback).
    Disputed,
    Failed,
    Expired,
    Cancelled,
    Unknown,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 13] = [
        Self::Created,
        Self::Pending,
        Self::Authorized,
        Self::PartiallyCaptured,
        Self::PartiallyPaid,
        Self::Paid,
        Self::PartiallyRefunded,
        Self::Refunded,
        Self::Disputed,
        Self::Failed,
        Self::Expired,
        Self::Cancelled,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Authorized => "authorized",
            Self::PartiallyCaptured => "partially_captured",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Disputed => "disputed",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Unknown => "unknown",
        }
    }

    /// The status in people's words (English; the app translates it), the same words the
    /// window's status pills use.
    pub fn label(self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::Pending => "Waiting",
            Self::Authorized => "Authorized",
            Self::PartiallyCaptured => "Partly captured",
            Self::PartiallyPaid => "Partly paid",
            Self::Paid => "Paid",
            Self::PartiallyRefunded => "Partly refunded",
            Self::Refunded => "Refunded",
            Self::Disputed => "Disputed",
            Self::Failed => "Declined",
            Self::Expired => "Expired",
            Self::Cancelled => "Cancelled",
            Self::Unknown => "Unknown",
        }
    }

    /// A stored name read back: a name this build does not know reads unknown (never
    /// guessed), as every row's status does.
    pub fn from_stored(s: &str) -> Self {
        Self::parse(s).unwrap_or(Self::Unknown)
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True when no further change is expected without a new action (refund, capture).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Paid
                | Self::PartiallyPaid
                | Self::PartiallyRefunded
                | Self::Refunded
                | Self::Disputed
                | Self::Failed
                | Self::Expired
                | Self::Cancelled
        )
    }

    /// True while nobody has said how it ends: not sent yet, not paid yet, or not known.
    pub fn is_waiting(self) -> bool {
        matches!(self, Self::Created | Self::Pending | Self::Unknown)
    }

    /// True while the provider's word may still change it without a new action of ours:
    /// what a refresh asks about (a partial capture waits for us, not for the provider).
    pub fn awaits_the_provider(self) -> bool {
        matches!(self, Self::Created | Self::Pending | Self::Authorized | Self::Unknown)
    }

    /// True once money has moved to the merchant (whatever happened to it later).
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded | Self::Disputed)
    }

    /// True when money was taken, in full or in part: what gross totals count (the amount
    /// taken is the payment's `paid_minor` where it is less than the amount).
    pub fn took_money(self) -> bool {
        self.is_paid() || matches!(self, Self::PartiallyCaptured | Self::PartiallyPaid)
    }

    /// The statuses that took money, by name (for SQL and the windows).
    pub fn taken_names() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().filter(|s| s.took_money()).map(Self::as_str)
    }

    /// True when money taken may be refunded (captured or paid, not only authorised).
    pub fn is_refundable(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::PartiallyCaptured | Self::PartiallyPaid)
    }

    /// The one state machine of every payment, whatever the provider: a payment only moves
    /// forward. Not yet paid may become anything later; paid may only become refunded (in
    /// part or whole) or disputed; failed, expired and cancelled are final. Staying put is
    /// always allowed (a repeated answer).
    pub fn can_move_to(self, next: Self) -> bool {
        use PaymentStatus::*;
        if self == next {
            return true;
        }
        match self {
            Created => true,
            // An unknown status is recorded, never applied (see `moves_payment`); a payment
            // left unknown by an older Paydesk may still become anything known.
            Pending => !matches!(next, Created | Unknown),
            Unknown => next != Created,
            Authorized => {
                matches!(next, PartiallyCaptured | Paid | PartiallyRefunded | Refunded | Disputed | Cancelled | Expired)
            }
            // Captured money stays captured: more is captured (or the rest voided: paid),
            // or what was captured is refunded.
            PartiallyCaptured => matches!(next, Paid | PartiallyRefunded | Refunded | Disputed),
            // The rest may still arrive; what arrived never goes away.
            PartiallyPaid => next == Paid,
            Paid => matches!(next, PartiallyRefunded | Refunded | Disputed),
            PartiallyRefunded => matches!(next, Refunded | Disputed),
            Refunded => next == Disputed,
            // A dispute is won (paid again) or lost (refunded to the card holder).
            Disputed => matches!(next, Paid | PartiallyRefunded | Refunded),
            Failed | Expired | Cancelled => false,
        }
    }
}

/// A refund's own life: recorded before it is sent (created: maybe sent, no answer yet),
/// accepted by the provider but not finished (pending), then succeeded or failed, for good.
/// A status shows as its stored name ("paid"), as messages and the books write it, and
/// compares with one: `row.status == "paid"`.
macro_rules! stored_name {
    ($($status:ty),*) => {$(
        impl std::fmt::Display for $status {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $status {
            fn eq(&self, name: &&str) -> bool {
                self.as_str() == *name
            }
        }

        impl PartialEq<str> for $status {
            fn eq(&self, name: &str) -> bool {
                self.as_str() == name
            }
        }
    )*};
}

stored_name!(PaymentStatus, RefundStatus, MovementStatus);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Created,
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    /// A stored name read back: one this build does not know reads created, so the refund
    /// stays open (asked about, never sent again as new, never counted as paid out).
    pub fn from_stored(s: &str) -> Self {
        Self::parse(s).unwrap_or(Self::Created)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Created, Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|st| st.as_str() == s)
    }

    /// Not yet ended: it counts against the refundable remainder and is settled later.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Created | Self::Pending)
    }

    pub fn can_move_to(self, next: Self) -> bool {
        self == next || (self.is_open() && next != Self::Created)
    }
}

/// What a provider confirmed of a refund it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// Paid out: an explicit success with the provider's refund id.
    Succeeded,
    /// Accepted, not finished (a processing status, an unknown status or no refund id).
    Pending,
}

/// A capture's or void's own life, like a refund's: recorded before it is sent (created),
/// sent (the request may have left), then succeeded or failed for good; unknown when no
/// answer came or the answer did not say (settled by asking the provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementStatus {
    Created,
    Sent,
    Unknown,
    Succeeded,
    Failed,
}

impl MovementStatus {
    pub const ALL: [MovementStatus; 5] = [Self::Created, Self::Sent, Self::Unknown, Self::Succeeded, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Sent => "sent",
            Self::Unknown => "unknown",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Not ended: nothing else may move the payment's money until it is settled.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Created | Self::Sent | Self::Unknown)
    }

    /// Ended movements never change; an open one may be sent again (same reference) or end.
    pub fn can_move_to(self, next: Self) -> bool {
        self == next || (self.is_open() && next != Self::Created)
    }
}

/// Money moved on an authorised payment: a capture or a void.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Capture,
    Void,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Capture => "capture",
            Self::Void => "void",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Capture, Self::Void].into_iter().find(|k| k.as_str() == s)
    }
}

/// What a provider said about one payment (a query answer, a create answer or a
/// notification), in the app's terms. The core applies it only when every identifying
/// field agrees with the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReport {
    pub reference: String,
    pub transaction_no: String,
    /// None when the answer carried no amount, or one that does not parse in its currency.
    pub amount: Option<Money>,
    /// The currency code exactly as received (kept for the evidence on a mismatch).
    pub currency: String,
    /// The provider's status, kept raw.
    pub raw_status: String,
    pub status: PaymentStatus,
    /// What was authorised, captured and refunded, where the provider says.
    pub balances: Option<Balances>,
    /// What the customer actually paid, when it is less than the amount (a partial
    /// payment); then `amount` is None, the provider having named only what arrived.
    pub paid_amount: Option<Money>,
}

/// A payment's money by stage, in minor units of its currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    pub authorized: i64,
    pub captured: i64,
    pub capturable: i64,
    pub voidable: i64,
    pub refunded: i64,
    pub refundable: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentStatus::*;

    #[test]
    fn names_round_trip() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(PaymentStatus::parse("PAID"), None);
    }

    #[test]
    fn paid_never_goes_back() {
        for next in [Created, Pending, Unknown, Failed, Expired, Cancelled, Authorized] {
            assert!(!Paid.can_move_to(next), "paid -> {next:?}");
            assert!(!PartiallyRefunded.can_move_to(next), "partially refunded -> {next:?}");
            assert!(!Refunded.can_move_to(next), "refunded -> {next:?}");
        }
        assert!(Paid.can_move_to(PartiallyRefunded));
        assert!(Paid.can_move_to(Refunded));
        assert!(Paid.can_move_to(Disputed));
        assert!(!PartiallyRefunded.can_move_to(Paid), "a refund cannot be undone by an answer");
    }

    #[test]
    fn final_unpaid_states_are_final() {
        for from in [Failed, Expired, Cancelled] {
            for next in PaymentStatus::ALL {
                assert_eq!(from.can_move_to(next), from == next, "{from:?} -> {next:?}");
            }
        }
    }

    #[test]
    fn partly_captured_money_stays_captured() {
        assert!(Authorized.can_move_to(PartiallyCaptured));
        assert!(PartiallyCaptured.can_move_to(Paid), "the rest captured, or voided");
        assert!(PartiallyCaptured.can_move_to(PartiallyRefunded));
        for next in [Created, Pending, Unknown, Authorized, Failed, Expired, Cancelled, PartiallyPaid] {
            assert!(!PartiallyCaptured.can_move_to(next), "partially captured -> {next:?}");
        }
        assert!(!Paid.can_move_to(PartiallyCaptured), "captured money never decreases");
        assert!(PartiallyCaptured.took_money() && PartiallyPaid.took_money() && !Authorized.took_money());
    }

    #[test]
    fn an_unknown_status_never_moves_a_pending_payment() {
        assert!(!Pending.can_move_to(Unknown));
        assert!(!Authorized.can_move_to(Unknown));
    }

    #[test]
    fn movements_end_once() {
        use MovementStatus as M;
        assert!(M::Created.can_move_to(M::Sent));
        assert!(M::Sent.can_move_to(M::Unknown));
        assert!(M::Unknown.can_move_to(M::Sent), "sent again with its own reference");
        assert!(M::Unknown.can_move_to(M::Succeeded));
        for ended in [M::Succeeded, M::Failed] {
            for next in M::ALL {
                assert_eq!(ended.can_move_to(next), ended == next, "{ended:?} -> {next:?}");
            }
        }
    }

    #[test]
    fn unpaid_moves_forward_only() {
        for next in PaymentStatus::ALL {
            assert_eq!(Pending.can_move_to(next), !matches!(next, Created | Unknown));
            assert!(Created.can_move_to(next));
        }
        assert!(!Authorized.can_move_to(Pending));
        assert!(Authorized.can_move_to(Paid));
        assert!(Authorized.can_move_to(Cancelled), "void");
        assert!(Pending.can_move_to(PartiallyPaid));
        assert!(PartiallyPaid.can_move_to(Paid), "the rest arrived");
        for next in [Created, Pending, Unknown, Failed, Expired, Cancelled] {
            assert!(!PartiallyPaid.can_move_to(next), "partially paid -> {next:?}");
        }
    }

    #[test]
    fn refunds_end_once() {
        use RefundStatus as R;
        assert!(R::Created.can_move_to(R::Succeeded));
        assert!(R::Created.can_move_to(R::Failed));
        assert!(R::Created.can_move_to(R::Pending));
        assert!(R::Pending.can_move_to(R::Succeeded));
        assert!(!R::Pending.can_move_to(R::Created));
        assert!(!R::Succeeded.can_move_to(R::Failed));
        assert!(!R::Failed.can_move_to(R::Succeeded));
        assert!(!R::Succeeded.can_move_to(R::Created));
    }
}
