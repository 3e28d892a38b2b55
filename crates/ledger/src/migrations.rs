use crate::schema::{CHAIN_MIGRATION, RESEAL_MIGRATION};
use crate::{LedgerError, Result};
use rusqlite::Connection;

/// Each entry moves the schema one version up; never edit a released one, append.
const MIGRATIONS: &[&str] = &[
    // 1: profiles, payments, events
    r#"
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
    -- Append-only: history is never rewritten.
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    "#,
    // 2: refunds, customers, a payment's customer
    r#"
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
    "#,
    // 3: a profile may ask for the local IPN listener on an address
    r#"
    ALTER TABLE profiles ADD COLUMN ipn_listen TEXT;
    "#,
    // 4: notifications refused before they matched a payment are counted, not stored whole
    r#"
    CREATE TABLE rejected_notifications (
        provider TEXT NOT NULL,
        reason   TEXT NOT NULL,
        count    INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        last_at  TEXT NOT NULL,
        PRIMARY KEY (provider, reason)
    );
    "#,
    // 5: provider-specific profile settings (the first provider's merchant and store numbers
    //    move in; the old columns stay, filled for it, empty for other providers)
    r#"
    ALTER TABLE profiles ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    UPDATE profiles SET settings = json_object('merchant_no', merchant_no, 'store_no', store_no);
    "#,
    // 6: a hosted session's id, kept beside the provider's transaction number
    r#"
    ALTER TABLE payments ADD COLUMN session_id TEXT;
    "#,
    // 7: the last balances a provider reported (authorised, captured, refundable, ...)
    r#"
    ALTER TABLE payments ADD COLUMN balances TEXT;
    "#,
    // 8: cards on file as the provider last listed them; a removal is kept (removed_at)
    r#"
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
    "#,
    // 9: notification nonces already used (a second use is a replay)
    r#"
    CREATE TABLE notification_nonces (
        provider TEXT NOT NULL,
        nonce    TEXT NOT NULL,
        at       TEXT NOT NULL,
        PRIMARY KEY (provider, nonce)
    );
    "#,
    // 10: how a payment was asked for beyond amount and wallet (manual capture, shopper,
    //     saved card), so a retry sends exactly the same
    r#"
    ALTER TABLE payments ADD COLUMN checkout_options TEXT;
    "#,
    // 11: what the customer actually paid when it was less than asked (a partial payment)
    r#"
    ALTER TABLE payments ADD COLUMN paid_minor INTEGER CHECK (paid_minor IS NULL OR paid_minor > 0);
    "#,
    // 12: the accountant's filters, each answered from an index in time order (keyset pages)
    r#"
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
    "#,
    // 13: the hash chain (tamper evidence); its SQL is made in chain.rs, and the rows
    //     already there are sealed by `chain::seal_existing` in the same transaction
    "-- chain",
    // 14: totals over a filter answered from an index (currency, status, time, amounts),
    //     and refunded sums per payment likewise
    r#"
    CREATE INDEX payments_sums ON payments(currency, status, created_at, amount_minor, paid_minor);
    CREATE INDEX refunds_sums ON refunds(payment_id, status, amount_minor);
    "#,
    // 15: one capture or void at a time per payment (claims; replaced by movements in 16)
    r#"
    CREATE TABLE action_claims (
        payment_id INTEGER PRIMARY KEY REFERENCES payments(id),
        action     TEXT NOT NULL,
        claimed_at TEXT NOT NULL
    );
    "#,
    // 16: captures and voids are money movements with rows of their own, written before
    //     they are sent (sealed by the chain; its triggers come with the table). Refunds
    //     may now also be `pending` (accepted, not finished). `action_claims` is no longer
    //     used: an unconfirmed movement holds the payment instead, and never lapses.
    r#"
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
    "#,
    // 17: a profile may be allowed the shop's private network (addresses in 10/8, …)
    r#"
    ALTER TABLE profiles ADD COLUMN private_network INTEGER NOT NULL DEFAULT 0;
    "#,
    // 18: the chain seals more of each row (method, vendor, link, raw status, times) and
    //     the profiles; its SQL is made by `chain::reseal`
    "-- reseal",
    // 19: payers recalled by mobile number at the counter (no longer in the web view),
    //     kept for a limited time and erased on request
    r#"
    CREATE TABLE payers (
        mobile       TEXT PRIMARY KEY,
        data         TEXT NOT NULL,
        last_used_at TEXT NOT NULL
    );
    CREATE INDEX payers_last_used ON payers(last_used_at);
    "#,
    // 20: an owner with several shops keeps them apart in one ledger: each profile belongs
    //     to a shop ('main' for the single shop of old)
    r#"
    ALTER TABLE profiles ADD COLUMN shop TEXT NOT NULL DEFAULT 'main';
    CREATE INDEX profiles_shop ON profiles(shop, name);
    "#,
    // 21: a card on file in words where the provider gives them: brand, last four, expiry
    r#"
    ALTER TABLE tokens ADD COLUMN card_brand TEXT;
    ALTER TABLE tokens ADD COLUMN last4 TEXT;
    ALTER TABLE tokens ADD COLUMN expiry TEXT;
    "#,
];

/// The version a fully migrated ledger has (on either engine).
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let known = latest_version();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > known {
        return Err(LedgerError::TooNew { found: current, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        if i + 1 == CHAIN_MIGRATION {
            tx.execute_batch(&crate::chain::migration_sql())?;
            crate::chain::seal_existing(&tx)?;
        } else if i + 1 == RESEAL_MIGRATION {
            crate::chain::reseal(&tx)?;
        } else {
            tx.execute_batch(sql)?;
            tx.execute_batch(&crate::chain::triggers_made_at(i + 1))?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pockyt_profile_of_schema_4_keeps_its_numbers_as_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::FILE_NAME);
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute(
                "INSERT INTO profiles (name, provider, environment, base_url, merchant_no, store_no, ipn_url, callback_url, created_at, updated_at)
                 VALUES ('shop', 'pockyt', 'sandbox', 'https://mapi.yuansferdev.com', '200043', '300014', 'https://shop.example/ipn', NULL, 'x', 'x')",
                [],
            )
            .unwrap();
        }
        let ledger = crate::Ledger::open(&path).unwrap();
        assert_eq!(ledger.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let p = ledger.profile("shop").unwrap().unwrap();
        assert_eq!(p.settings.get("merchant_no").map(String::as_str), Some("200043"));
        assert_eq!(p.settings.get("store_no").map(String::as_str), Some("300014"));
        assert_eq!(p.ipn_url.as_deref(), Some("https://shop.example/ipn"), "nothing else lost");
    }
}
