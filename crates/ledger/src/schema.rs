//! What the ledger seals, described once for both engines: the migrations that began the
//! chain, the sealed tables with the state each row is sealed as, and the hash function's
//! name. The SQLite triggers (`chain`), the PostgreSQL ones (`postgres`) and `verify` are
//! all made from it. A leaf: it imports nothing of the crate.

/// The migration whose SQL is the hash chain's (its number, counting from 1).
pub(crate) const CHAIN_MIGRATION: usize = 13;
/// The migration that made captures and voids rows of their own.
pub(crate) const MOVEMENTS_MIGRATION: usize = 16;
/// The migration that sealed more of each row, and the profiles.
pub(crate) const RESEAL_MIGRATION: usize = 18;

/// The migration that named the wallet column `wallet` (it was `vendor`).
pub(crate) const WALLET_MIGRATION: usize = 22;

/// A sealed column renamed by migration `since`. The state keeps the key it was sealed
/// under, so every hash stays as it was; SQL made for an earlier version names the
/// column as it was then.
pub(crate) struct Renamed {
    pub since: usize,
    pub table: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

pub(crate) const RENAMED: &[Renamed] =
    &[Renamed { since: WALLET_MIGRATION, table: "payments", from: "vendor", to: "wallet" }];

/// The SQL function the triggers call: registered on every connection the app opens.
pub(crate) const HASH_FUNCTION: &str = "paydesk_chain_hash";

/// What each subject's state holds, as SQL builds it (the same text for the trigger and
/// for `verify`, so they compare exactly). `{r}` is NEW, OLD or a table alias.
const PAYMENT_STATE: &str =
    "json_object('reference', {r}.reference, 'profile', {r}.profile, 'provider', {r}.provider, \
    'method', {r}.method, 'vendor', {r}.wallet, 'amount_minor', {r}.amount_minor, 'currency', {r}.currency, \
    'status', {r}.status, 'raw_status', {r}.raw_status, 'transaction_no', {r}.transaction_no, 'link', {r}.link, \
    'paid_minor', {r}.paid_minor, 'customer_no', {r}.customer_no, \
    'created_at', {r}.created_at, 'updated_at', {r}.updated_at)";
// (The wallet is sealed under its first name, `vendor`: renaming the key would change
// every payment's state. Not the checkout options: they may name the payer, whose data
// can be erased on request; a copy in the chain never could be.)
const REFUND_STATE: &str = "json_object('payment_id', {r}.payment_id, 'refund_reference', {r}.refund_reference, \
    'amount_minor', {r}.amount_minor, 'currency', {r}.currency, 'status', {r}.status, \
    'refund_transaction_no', {r}.refund_transaction_no, 'created_at', {r}.created_at, 'updated_at', {r}.updated_at)";
const EVENT_STATE: &str =
    "json_object('payment_id', {r}.payment_id, 'at', {r}.at, 'kind', {r}.kind, 'detail', {r}.detail)";
const MOVEMENT_STATE: &str = "json_object('payment_id', {r}.payment_id, 'kind', {r}.kind, 'reference', {r}.reference, \
    'amount_minor', {r}.amount_minor, 'currency', {r}.currency, 'is_final', {r}.is_final, 'captured_before', {r}.captured_before, 'status', {r}.status, \
    'provider_id', {r}.provider_id, 'sent_by', {r}.sent_by, 'created_at', {r}.created_at, 'updated_at', {r}.updated_at)";
/// Where a profile sends its sales and how: changed only by the profile's owner.
const PROFILE_STATE: &str = "json_object('name', {r}.name, 'provider', {r}.provider, 'environment', {r}.environment, \
    'base_url', {r}.base_url, 'merchant_no', {r}.merchant_no, 'store_no', {r}.store_no, 'settings', {r}.settings, \
    'ipn_url', {r}.ipn_url, 'callback_url', {r}.callback_url, 'ipn_listen', {r}.ipn_listen, \
    'private_network', {r}.private_network, 'created_at', {r}.created_at, 'updated_at', {r}.updated_at)";

/// Who a customer is at the provider and when that changed; not their contact details,
/// which can be erased on request (a copy in the chain never could).
const CUSTOMER_STATE: &str = "json_object('profile', {r}.profile, 'customer_no', {r}.customer_no, \
    'customer_code', {r}.customer_code, 'created_at', {r}.created_at, 'updated_at', {r}.updated_at)";

/// The states as sealed before migration 18 sealed more of each row (method, wallet, link,
/// raw status and times): a row still as it was sealed then is sealed again in full.
pub(crate) const SEALED_BEFORE_18: &[(&str, &str, &str)] = &[
    (
        "payments",
        "payment",
        "json_object('reference', {r}.reference, 'profile', {r}.profile, 'provider', {r}.provider, \
    'amount_minor', {r}.amount_minor, 'currency', {r}.currency, 'status', {r}.status, 'transaction_no', {r}.transaction_no, \
    'paid_minor', {r}.paid_minor, 'customer_no', {r}.customer_no, 'created_at', {r}.created_at)",
    ),
    (
        "refunds",
        "refund",
        "json_object('payment_id', {r}.payment_id, 'refund_reference', {r}.refund_reference, \
    'amount_minor', {r}.amount_minor, 'currency', {r}.currency, 'status', {r}.status, \
    'refund_transaction_no', {r}.refund_transaction_no)",
    ),
    (
        "movements",
        "movement",
        "json_object('payment_id', {r}.payment_id, 'kind', {r}.kind, 'reference', {r}.reference, \
    'amount_minor', {r}.amount_minor, 'currency', {r}.currency, 'is_final', {r}.is_final, 'captured_before', {r}.captured_before, 'status', {r}.status, \
    'provider_id', {r}.provider_id)",
    ),
];

/// A sealed table: its subject kind, the key naming a row (`{r}` as for states), its
/// state, the schema version that began sealing it (its triggers are made then), and the
/// columns it leaves out of the seal on purpose. Every other column is sealed: a test
/// holds each new column to a choice between the two.
pub(crate) struct Subject {
    pub table: &'static str,
    pub kind: &'static str,
    pub key: &'static str,
    pub template: &'static str,
    pub since: usize,
    // Read by the test that holds each column to the choice, not by the app.
    #[cfg_attr(not(test), allow(dead_code))]
    pub unsealed: &'static [&'static str],
}

impl Subject {
    /// The SQL of the subject's name for row `r`: `'payment:' || r.id`.
    pub(crate) fn subject_sql(&self, r: &str) -> String {
        format!("'{}:' || {}", self.kind, state(self.key, r))
    }

    /// The state as SQL for schema `version` names it: a column renamed later by its name
    /// then (the chain's migrations make triggers and seal rows before the rename).
    pub(crate) fn template_at(&self, version: usize) -> std::borrow::Cow<'static, str> {
        let mut template = std::borrow::Cow::Borrowed(self.template);
        for r in RENAMED.iter().filter(|r| r.table == self.table && version < r.since) {
            template = template.replace(&format!("{{r}}.{}", r.to), &format!("{{r}}.{}", r.from)).into();
        }
        template
    }

    /// Whether the seal covers `column` (in the state, or the key naming the row).
    #[cfg(test)]
    pub(crate) fn seals(&self, column: &str) -> bool {
        let named = format!("{{r}}.{column}");
        let whole = |text: &str| {
            text.match_indices(&named)
                .any(|(at, m)| !text[at + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        };
        whole(self.template) || whole(self.key)
    }
}

pub(crate) const SUBJECTS: &[Subject] = &[
    Subject {
        table: "payments",
        kind: "payment",
        key: "{r}.id",
        template: PAYMENT_STATE,
        since: CHAIN_MIGRATION,
        // When it was last asked about, and what a query can learn again (the hosted
        // session, the balances); the checkout options may name the payer (erasable).
        unsealed: &["checked_at", "session_id", "balances", "checkout_options"],
    },
    Subject {
        table: "refunds",
        kind: "refund",
        key: "{r}.id",
        template: REFUND_STATE,
        since: CHAIN_MIGRATION,
        unsealed: &[],
    },
    Subject {
        table: "events",
        kind: "event",
        key: "{r}.id",
        template: EVENT_STATE,
        since: CHAIN_MIGRATION,
        unsealed: &[],
    },
    Subject {
        table: "movements",
        kind: "movement",
        key: "{r}.id",
        template: MOVEMENT_STATE,
        since: MOVEMENTS_MIGRATION,
        unsealed: &[],
    },
    Subject {
        table: "profiles",
        kind: "profile",
        key: "{r}.name",
        template: PROFILE_STATE,
        since: RESEAL_MIGRATION,
        // Which shop's view lists the profile (added after the reseal; sealing it would
        // change every profile's state). Where its money goes is sealed.
        unsealed: &["shop"],
    },
    Subject {
        table: "customers",
        kind: "customer",
        key: "{r}.profile || '/' || {r}.customer_no",
        template: CUSTOMER_STATE,
        since: RESEAL_MIGRATION,
        // Contact details, erasable on request.
        unsealed: &["first_name", "last_name", "email", "data"],
    },
];

/// The sealed tables whose columns migration `version` renames: their triggers are made
/// again with it.
pub(crate) fn renamed_at(version: usize) -> impl Iterator<Item = &'static Subject> {
    SUBJECTS.iter().filter(move |s| RENAMED.iter().any(|r| r.since == version && r.table == s.table))
}

/// The subjects whose triggers migration `version` makes: every sealed table that exists
/// by then at the chain's own migration, afterwards the tables made in that migration.
pub(crate) fn subjects_made_at(version: usize) -> impl Iterator<Item = &'static Subject> {
    SUBJECTS.iter().filter(move |s| if version == CHAIN_MIGRATION { s.since <= version } else { s.since == version })
}

pub(crate) fn state(template: &str, row: &str) -> String {
    template.replace("{r}", row)
}

/// A sealed row's state as PostgreSQL builds it (for its triggers and `verify`).
pub(crate) fn pg_state(template: &str, row: &str) -> String {
    state(template, row).replace("json_object(", "json_build_object(") + "::text"
}
