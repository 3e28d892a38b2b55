//! The ledger's migrations, written once for both engines: each step in the SQL the two
//! share (SQLite's words), with the few statements they say differently side by side.
//! SQLite's runner (`migrations`) and PostgreSQL's (`pg_migrations`) walk the same list and
//! count versions alike; the chain's steps are made from `schema` by each runner. A leaf:
//! it imports nothing of the crate.

use std::borrow::Cow;

/// One version's change.
pub(crate) enum Step {
    /// The same statements on both engines. Written in SQLite's types; PostgreSQL reads an
    /// `INTEGER` as `BIGINT` (SQLite's are 64-bit) and a table's `INTEGER PRIMARY KEY` as
    /// an identity column (SQLite's rowid).
    Both(&'static str),
    /// Statements the engines say differently.
    Each { sqlite: &'static str, postgres: &'static str },
    /// Several of the above, in order.
    Parts(&'static [Step]),
    /// The hash chain begins (made by each runner from `schema`).
    Chain,
    /// The chain seals more of each row (made by each runner from `schema`).
    Reseal,
}
use Step::*;

/// Each entry moves the schema one version up; never edit a released one, append.
pub(crate) const STEPS: &[Step] = &[
    // 1: profiles, payments, events
    Parts(&[
    Both(r#"
    CREATE TABLE profiles (
        name         TEXT PRIMARY KEY,
        provider     TEXT NOT NULL,
        environment  TEXT NOT NULL,
        base_url     TEXT NOT NULL,
        merchant_no  TEXT NOT NULL,
        store_no     TEXT NOT NULL,
        ipn_url      TEXT,
        callback_url TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE payments (
        id             INTEGER PRIMARY KEY,
        reference      TEXT NOT NULL UNIQUE,
        profile        TEXT NOT NULL,
        provider       TEXT NOT NULL,
        method         TEXT NOT NULL,
        vendor         TEXT,
        amount_minor   INTEGER NOT NULL CHECK (amount_minor > 0),
        currency       TEXT NOT NULL CHECK (length(currency) = 3),
        transaction_no TEXT,
        link           TEXT,
        status         TEXT NOT NULL,
        raw_status     TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        checked_at     TEXT
    );
    CREATE INDEX payments_created ON payments(created_at);
    CREATE INDEX payments_status ON payments(status);
    CREATE INDEX payments_transaction ON payments(provider, transaction_no);
    CREATE TABLE events (
        id         INTEGER PRIMARY KEY,
        payment_id INTEGER REFERENCES payments(id),
        at         TEXT NOT NULL,
        kind       TEXT NOT NULL,
        detail     TEXT NOT NULL
    );
    CREATE INDEX events_payment ON events(payment_id);
    "#),
    // Append-only: history is never rewritten.
    Each {
        sqlite: r#"
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    "#,
        postgres: r#"
    CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'events are append-only';
    END $$;
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
    "#,
    },
]),
    // 2: refunds, customers, a payment's customer
    Both(r#"
    ALTER TABLE payments ADD COLUMN customer_no TEXT;
    CREATE TABLE refunds (
        id                    INTEGER PRIMARY KEY,
        payment_id            INTEGER NOT NULL REFERENCES payments(id),
        refund_reference      TEXT NOT NULL UNIQUE,
        amount_minor          INTEGER NOT NULL CHECK (amount_minor > 0),
        currency              TEXT NOT NULL,
        status                TEXT NOT NULL,
        refund_transaction_no TEXT,
        created_at            TEXT NOT NULL,
        updated_at            TEXT NOT NULL
    );
    CREATE INDEX refunds_payment ON refunds(payment_id);
    CREATE TABLE customers (
        profile       TEXT NOT NULL,
        customer_no   TEXT NOT NULL,
        customer_code TEXT,
        first_name    TEXT,
        last_name     TEXT,
        email         TEXT,
        data          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (profile, customer_no)
    );
    "#),
    // 3: a profile may ask for the local notification listener on an address
    Both(r#"
    ALTER TABLE profiles ADD COLUMN ipn_listen TEXT;
    "#),
    // 4: notifications refused before they matched a payment are counted, not stored whole
    Both(r#"
    CREATE TABLE rejected_notifications (
        provider TEXT NOT NULL,
        reason   TEXT NOT NULL,
        count    INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        last_at  TEXT NOT NULL,
        PRIMARY KEY (provider, reason)
    );
    "#),
    // 5: provider-specific profile settings (the first provider's merchant and store numbers
    //    move in; the old columns stay, filled for it, empty for other providers)
    Parts(&[
        Both("ALTER TABLE profiles ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';"),
        Each {
            sqlite: "UPDATE profiles SET settings = json_object('merchant_no', merchant_no, 'store_no', store_no);",
            postgres: "UPDATE profiles SET settings = json_build_object('merchant_no', merchant_no, 'store_no', store_no)::text;",
        },
    ]),
    // 6: a hosted session's id, kept beside the provider's transaction number
    Both(r#"
    ALTER TABLE payments ADD COLUMN session_id TEXT;
    "#),
    // 7: the last balances a provider reported (authorised, captured, refundable, ...)
    Both(r#"
    ALTER TABLE payments ADD COLUMN balances TEXT;
    "#),
    // 8: cards on file as the provider last listed them; a removal is kept (removed_at)
    Both(r#"
    CREATE TABLE tokens (
        profile           TEXT NOT NULL,
        shopper_reference TEXT NOT NULL,
        token             TEXT NOT NULL,
        payment_method    TEXT NOT NULL,
        token_usage       TEXT NOT NULL,
        status            TEXT NOT NULL,
        seen_at           TEXT NOT NULL,
        removed_at        TEXT,
        PRIMARY KEY (profile, token)
    );
    CREATE INDEX tokens_shopper ON tokens(profile, shopper_reference);
    "#),
    // 9: notification nonces already used (a second use is a replay)
    Both(r#"
    CREATE TABLE notification_nonces (
        provider TEXT NOT NULL,
        nonce    TEXT NOT NULL,
        at       TEXT NOT NULL,
        PRIMARY KEY (provider, nonce)
    );
    "#),
    // 10: how a payment was asked for beyond amount and wallet (manual capture, shopper,
    //     saved card), so a retry sends exactly the same
    Both(r#"
    ALTER TABLE payments ADD COLUMN checkout_options TEXT;
    "#),
    // 11: what the customer actually paid when it was less than asked (a partial payment)
    Both(r#"
    ALTER TABLE payments ADD COLUMN paid_minor INTEGER CHECK (paid_minor IS NULL OR paid_minor > 0);
    "#),
    // 12: the accountant's filters, each answered from an index in time order (keyset pages)
    Both(r#"
    DROP INDEX payments_created;
    CREATE INDEX payments_created ON payments(created_at, id);
    DROP INDEX payments_status;
    CREATE INDEX payments_status ON payments(status, created_at, id);
    CREATE INDEX payments_provider ON payments(provider, created_at, id);
    CREATE INDEX payments_profile ON payments(profile, created_at, id);
    CREATE INDEX payments_method ON payments(method, created_at, id);
    CREATE INDEX payments_vendor ON payments(vendor, created_at, id);
    CREATE INDEX payments_currency ON payments(currency, created_at, id);
    CREATE INDEX payments_transaction_no ON payments(transaction_no);
    CREATE INDEX payments_customer ON payments(customer_no);
    CREATE INDEX refunds_status ON refunds(status, payment_id);
    "#),
    // 13: the hash chain (tamper evidence); its SQL is made in chain.rs, and the rows
    //     already there are sealed by `chain::seal_existing` in the same transaction
    Chain,
    // 14: totals over a filter answered from an index (currency, status, time, amounts),
    //     and refunded sums per payment likewise
    Both(r#"
    CREATE INDEX payments_sums ON payments(currency, status, created_at, amount_minor, paid_minor);
    CREATE INDEX refunds_sums ON refunds(payment_id, status, amount_minor);
    "#),
    // 15: one capture or void at a time per payment (claims; replaced by movements in 16)
    Both(r#"
    CREATE TABLE action_claims (
        payment_id INTEGER PRIMARY KEY REFERENCES payments(id),
        action     TEXT NOT NULL,
        claimed_at TEXT NOT NULL
    );
    "#),
    // 16: captures and voids are money movements with rows of their own, written before
    //     they are sent (sealed by the chain; its triggers come with the table). Refunds
    //     may now also be `pending` (accepted, not finished). `action_claims` is no longer
    //     used: an unconfirmed movement holds the payment instead, and never lapses.
    Both(r#"
    CREATE TABLE movements (
        id           INTEGER PRIMARY KEY,
        payment_id   INTEGER NOT NULL REFERENCES payments(id),
        kind         TEXT NOT NULL CHECK (kind IN ('capture', 'void')),
        reference    TEXT NOT NULL UNIQUE,
        amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
        currency     TEXT NOT NULL,
        is_final     INTEGER NOT NULL DEFAULT 0,
        captured_before INTEGER NOT NULL DEFAULT 0,
        status       TEXT NOT NULL,
        provider_id  TEXT,
        sent_by      TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE INDEX movements_payment ON movements(payment_id, status);
    CREATE INDEX movements_open ON movements(status);
    "#),
    // 17: a profile may be allowed the shop's private network (addresses in 10/8, …)
    Both(r#"
    ALTER TABLE profiles ADD COLUMN private_network INTEGER NOT NULL DEFAULT 0;
    "#),
    // 18: the chain seals more of each row (method, vendor, link, raw status, times) and
    //     the profiles; its SQL is made by `chain::reseal`
    Reseal,
    // 19: payers recalled by mobile number at the counter (no longer in the web view),
    //     kept for a limited time and erased on request
    Both(r#"
    CREATE TABLE payers (
        mobile       TEXT PRIMARY KEY,
        data         TEXT NOT NULL,
        last_used_at TEXT NOT NULL
    );
    CREATE INDEX payers_last_used ON payers(last_used_at);
    "#),
    // 20: an owner with several shops keeps them apart in one ledger: each profile belongs
    //     to a shop ('main' for the single shop of old)
    Both(r#"
    ALTER TABLE profiles ADD COLUMN shop TEXT NOT NULL DEFAULT 'main';
    CREATE INDEX profiles_shop ON profiles(shop, name);
    "#),
    // 21: a card on file in words where the provider gives them: brand, last four, expiry
    Both(r#"
    ALTER TABLE tokens ADD COLUMN card_brand TEXT;
    ALTER TABLE tokens ADD COLUMN last4 TEXT;
    ALTER TABLE tokens ADD COLUMN expiry TEXT;
    "#),
    // 22: one name for the wallet: the payments' `vendor` column is `wallet` (sealed under
    //     its first name, so no hash changes; the runners make its chain triggers again)
    Both(r#"
    ALTER TABLE payments RENAME COLUMN vendor TO wallet;
    DROP INDEX payments_vendor;
    CREATE INDEX payments_wallet ON payments(wallet, created_at, id);
    "#),
    // 23: a sale's first write, the one that waits for the disk, touches fewer indexes. The
    //     provider's and the customer's numbers are indexed only where known (a new sale has
    //     neither; every search on them names a value). The (provider, number) index goes:
    //     the number's own index finds the same rows.
    Both(r#"
    DROP INDEX payments_transaction;
    DROP INDEX payments_transaction_no;
    CREATE INDEX payments_transaction_no ON payments(transaction_no) WHERE transaction_no IS NOT NULL;
    DROP INDEX payments_customer;
    CREATE INDEX payments_customer ON payments(customer_no) WHERE customer_no IS NOT NULL;
    "#),
];

/// The version a fully migrated ledger has (on either engine).
pub fn latest_version() -> i64 {
    STEPS.len() as i64
}

/// A step's SQL in SQLite's words (None for the chain's steps).
pub(crate) fn sqlite(step: &Step) -> Option<Cow<'static, str>> {
    match step {
        Both(sql) | Each { sqlite: sql, .. } => Some(Cow::Borrowed(sql)),
        Parts(parts) => Some(Cow::Owned(parts.iter().filter_map(sqlite).collect::<Vec<_>>().join("\n"))),
        Chain | Reseal => None,
    }
}

/// A step's SQL in PostgreSQL's words (None for the chain's steps).
pub(crate) fn postgres(step: &Step) -> Option<Cow<'static, str>> {
    match step {
        Both(sql) => Some(Cow::Owned(postgres_types(sql))),
        Each { postgres, .. } => Some(Cow::Borrowed(postgres)),
        Parts(parts) => Some(Cow::Owned(parts.iter().filter_map(postgres).collect::<Vec<_>>().join("\n"))),
        Chain | Reseal => None,
    }
}

/// SQLite's integer types said PostgreSQL's way: a row id (`INTEGER PRIMARY KEY` ending its
/// column) is an identity column, any other integer 64-bit like SQLite's.
fn postgres_types(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY,", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,")
        .replace("INTEGER", "BIGINT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_become_identity_columns_and_other_integers_64_bit() {
        let sql = "CREATE TABLE t (\n id INTEGER PRIMARY KEY,\n n INTEGER NOT NULL,\n p INTEGER PRIMARY KEY REFERENCES u(id)\n);";
        assert_eq!(
            postgres_types(sql),
            "CREATE TABLE t (\n id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n n BIGINT NOT NULL,\n p BIGINT PRIMARY KEY REFERENCES u(id)\n);"
        );
    }

    /// A statement only one engine understands belongs in `Each`: SQLite's JSON and
    /// trigger bodies, PostgreSQL's functions and casts.
    #[test]
    fn steps_for_both_say_nothing_only_one_engine_knows() {
        fn both(step: &Step, out: &mut Vec<&'static str>) {
            match step {
                Both(sql) => out.push(sql),
                Parts(parts) => parts.iter().for_each(|p| both(p, out)),
                _ => {}
            }
        }
        let mut shared = Vec::new();
        STEPS.iter().for_each(|s| both(s, &mut shared));
        assert!(shared.len() > 15);
        let one_engine_only = [
            "json_",
            "RAISE",
            "AUTOINCREMENT",
            "BEGIN",
            "PRAGMA",
            "plpgsql",
            "$$",
            "::",
            "SERIAL",
            "BIGINT",
            "IDENTITY",
        ];
        for sql in shared {
            for word in one_engine_only {
                assert!(!sql.contains(word), "a step for both engines says {word}: {sql}");
            }
        }
    }
}
