//! The shared ledger's schema on PostgreSQL: the runner that brings a database up to date
//! under a lock (the steps of `steps`, the ones SQLite takes, in PostgreSQL's words), the
//! chain's PL/pgSQL triggers made from `schema`, and the change notifications.

use crate::schema::{self, CHAIN_MIGRATION};
use crate::steps::{self, latest_version, Step, STEPS};

/// Serialises schema changes between counters starting at once (any fixed number will do).
const MIGRATION_LOCK: i64 = 0x7061_7964_0001;
/// Serialises appends to the chain across every writer, until each one's transaction ends.
pub(crate) const CHAIN_LOCK: i64 = 0x7061_7964_0002;

/// The chain's table, its hash function (the same bytes as [`crate::chain::entry_hash`]) and a
/// trigger per sealed table.
fn chain_sql() -> String {
    let mut sql = format!(
        r#"
        CREATE TABLE chain (
            seq     BIGINT PRIMARY KEY,
            at      TEXT NOT NULL,
            subject TEXT NOT NULL,
            state   TEXT NOT NULL,
            prev    TEXT NOT NULL,
            hash    TEXT NOT NULL
        );
        CREATE FUNCTION {hash}(prev TEXT, seq BIGINT, subject TEXT, state TEXT) RETURNS TEXT
        LANGUAGE sql IMMUTABLE AS $$
            SELECT encode(sha256(
                convert_to(prev, 'UTF8') || '\x00'::bytea || convert_to(seq::text, 'UTF8') || '\x00'::bytea ||
                convert_to(subject, 'UTF8') || '\x00'::bytea || convert_to(state, 'UTF8') || '\x00'::bytea), 'hex')
        $$;
        CREATE FUNCTION paydesk_chain_append(subject TEXT, state TEXT) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            last_seq  BIGINT;
            last_hash TEXT;
        BEGIN
            -- One chain for every counter: the next append waits here until this
            -- transaction ends, then reads the entry it made (read committed).
            PERFORM pg_advisory_xact_lock({lock});
            SELECT c.seq, c.hash INTO last_seq, last_hash FROM chain c ORDER BY c.seq DESC LIMIT 1;
            last_seq := coalesce(last_seq, 0) + 1;
            last_hash := coalesce(last_hash, '');
            INSERT INTO chain (seq, at, subject, state, prev, hash)
            VALUES (last_seq, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                    subject, state, last_hash, {hash}(last_hash, last_seq, subject, state));
        END $$;
        "#,
        hash = schema::HASH_FUNCTION,
        lock = CHAIN_LOCK,
    );
    sql.push_str(&chain_triggers(CHAIN_MIGRATION));
    sql
}

/// The chain's trigger for each sealed table migration `version` makes, and again for each
/// whose column it renames.
fn chain_triggers(version: usize) -> String {
    schema::subjects_made_at(version).chain(schema::renamed_at(version)).map(|s| chain_trigger(s, version)).collect()
}

/// One sealed table's chain trigger (its function and trigger replaced if there), naming
/// the columns as schema `version` does.
fn chain_trigger(subject: &schema::Subject, version: usize) -> String {
    let template = subject.template_at(version);
    let state = |row: &str| schema::pg_state(&template, row);
    let table = subject.table;
    format!(
        r#"
        CREATE OR REPLACE FUNCTION chain_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM paydesk_chain_append({old_name}, 'deleted');
                RETURN OLD;
            END IF;
            IF TG_OP = 'UPDATE' AND {old} IS NOT DISTINCT FROM {new} THEN
                RETURN NEW;
            END IF;
            PERFORM paydesk_chain_append({new_name}, {new});
            RETURN NEW;
        END $$;
        DROP TRIGGER IF EXISTS chain_{table} ON {table};
        CREATE TRIGGER chain_{table} AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION chain_{table}();
        "#,
        old = state("OLD"),
        new = state("NEW"),
        old_name = subject.subject_sql("OLD"),
        new_name = subject.subject_sql("NEW"),
    )
}

/// Migration 18 (see `chain::reseal`): the triggers made again with the fuller states, rows
/// still as sealed before sealed again in full, profiles sealed.
fn reseal_sql() -> String {
    let mut sql = String::from("CREATE INDEX reseal_chain_subject ON chain(subject, seq);\n");
    let reseal = |subject: &schema::Subject, old: Option<&str>| {
        let name = subject.subject_sql("t");
        let new = schema::pg_state(&subject.template_at(schema::RESEAL_MIGRATION), "t");
        let condition = match old {
            None => String::new(),
            Some(old) => {
                let old = schema::pg_state(old, "t");
                format!(
                    "WHERE (SELECT c.state FROM chain c WHERE c.subject = {name} ORDER BY c.seq DESC LIMIT 1) = {old} \
                     AND {old} IS DISTINCT FROM {new}"
                )
            }
        };
        format!(
            "DO $$ DECLARE r RECORD; BEGIN
               FOR r IN SELECT {name} AS subject, {new} AS state FROM {table} t {condition} ORDER BY {key} LOOP
                 PERFORM paydesk_chain_append(r.subject, r.state);
               END LOOP;
             END $$;\n",
            table = subject.table,
            key = schema::state(subject.key, "t"),
        )
    };
    for (table, _, old) in schema::SEALED_BEFORE_18 {
        let subject = schema::SUBJECTS.iter().find(|s| s.table == *table).expect("a sealed table");
        sql.push_str(&chain_trigger(subject, schema::RESEAL_MIGRATION));
        sql.push_str(&reseal(subject, Some(old)));
    }
    for subject in schema::subjects_made_at(schema::RESEAL_MIGRATION) {
        sql.push_str(&chain_trigger(subject, schema::RESEAL_MIGRATION));
        sql.push_str(&reseal(subject, None));
    }
    sql.push_str("DROP INDEX reseal_chain_subject;\n");
    sql
}

/// The triggers that guard the books, put back at every start when something dropped
/// them: each sealed table's chain trigger and the events' append-only guards.
fn guards_put_back(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    let present = |tx: &mut postgres::Transaction<'_>, name: &str, table: &str| -> Result<bool, postgres::Error> {
        Ok(tx
            .query_opt("SELECT 1 FROM pg_trigger WHERE tgname = $1 AND tgrelid = $2::text::regclass", &[&name, &table])?
            .is_some())
    };
    for subject in schema::SUBJECTS {
        if !present(tx, &format!("chain_{}", subject.table), subject.table)? {
            tx.batch_execute(&chain_trigger(subject, latest_version() as usize))?;
        }
    }
    for (name, on) in [("events_no_update", "UPDATE"), ("events_no_delete", "DELETE")] {
        if !present(tx, name, "events")? {
            tx.batch_execute(&format!(
                "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
                 CREATE TRIGGER {name} BEFORE {on} ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();"
            ))?;
        }
    }
    Ok(())
}

/// Every counter hears of every payment written (a new sale, a status, a refund) on this
/// channel, with the payment's id, when the write commits.
pub const CHANGES_CHANNEL: &str = "paydesk_payments";

/// Tells the other counters (LISTEN/NOTIFY) of each payment written. Not a versioned
/// migration: like SQLite's chain triggers it is put back at every start if missing.
const NOTIFY_FUNCTION_SQL: &str = r#"
    CREATE FUNCTION paydesk_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'payments' THEN
            PERFORM pg_notify('paydesk_payments', NEW.id::text);
        ELSE
            PERFORM pg_notify('paydesk_payments', NEW.payment_id::text);
        END IF;
        RETURN NEW;
    END $$;
"#;

/// The tables whose writes tell the other counters of a payment.
const NOTIFYING_TABLES: &[&str] = &["payments", "refunds", "movements"];

/// What the channel carries when a profile was saved or removed (on any counter): not a
/// payment id, so followers tell the two apart.
pub const PROFILES_CHANGED: i64 = -1;

/// Tells the other counters that the profiles changed, once per statement.
const NOTIFY_PROFILES_SQL: &str = r#"
    CREATE FUNCTION paydesk_notify_profiles() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('paydesk_payments', '-1');
        RETURN NULL;
    END $$;
"#;

/// Makes a shared ledger ready for a counter: migrated, and telling others of changes.
pub(crate) fn prepare(client: &mut postgres::Client) -> Result<i64, MigrateError> {
    let found = migrate(client)?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    if tx.query_opt("SELECT 1 FROM pg_proc WHERE proname = 'paydesk_notify'", &[])?.is_none() {
        tx.batch_execute(NOTIFY_FUNCTION_SQL)?;
    }
    for table in NOTIFYING_TABLES {
        let present = tx.query_opt(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'paydesk_notify' AND tgrelid = $1::text::regclass",
            &[table],
        )?;
        if present.is_none() {
            tx.batch_execute(&format!(
                "CREATE TRIGGER paydesk_notify AFTER INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION paydesk_notify();"
            ))?;
        }
    }
    if tx.query_opt("SELECT 1 FROM pg_proc WHERE proname = 'paydesk_notify_profiles'", &[])?.is_none() {
        tx.batch_execute(NOTIFY_PROFILES_SQL)?;
    }
    if tx.query_opt("SELECT 1 FROM pg_trigger WHERE tgname = 'paydesk_notify_profiles'", &[])?.is_none() {
        tx.batch_execute(
            "CREATE TRIGGER paydesk_notify_profiles AFTER INSERT OR UPDATE OR DELETE ON profiles \
             FOR EACH STATEMENT EXECUTE FUNCTION paydesk_notify_profiles();",
        )?;
    }
    guards_put_back(&mut tx)?;
    tx.commit()?;
    Ok(found)
}

/// Brings a PostgreSQL ledger to the latest version, in one transaction, with every other
/// counter's migration waiting on a lock. Returns the version it found. Refuses a ledger
/// newer than this build knows (an older counter must not write to it).
pub fn migrate(client: &mut postgres::Client) -> Result<i64, MigrateError> {
    migrate_up_to(client, latest_version())
}

/// [`migrate`], stopping at version `target`: how a test makes a ledger as an older build
/// left it, to see it brought up to date.
#[doc(hidden)]
pub fn migrate_up_to(client: &mut postgres::Client, target: i64) -> Result<i64, MigrateError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS paydesk_schema (version BIGINT NOT NULL)")?;
    let found: Option<i64> = tx.query_opt("SELECT version FROM paydesk_schema", &[])?.map(|r| r.get(0));
    let current = match found {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO paydesk_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if current > latest_version() {
        return Err(MigrateError::TooNew { found: current, known: latest_version() });
    }
    for (i, step) in STEPS.iter().enumerate().take(target as usize).skip(current as usize) {
        match step {
            Step::Chain => tx.batch_execute(&chain_sql())?,
            Step::Reseal => tx.batch_execute(&reseal_sql())?,
            plain => {
                tx.batch_execute(&steps::postgres(plain).expect("a step of plain SQL"))?;
                if i + 1 > CHAIN_MIGRATION {
                    tx.batch_execute(&chain_triggers(i + 1))?;
                }
            }
        }
        tx.execute("UPDATE paydesk_schema SET version = $1", &[&((i + 1) as i64)])?;
    }
    tx.commit()?;
    Ok(current)
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("the shared ledger is at schema version {found}, newer than this Paydesk knows ({known}); update Paydesk")]
    TooNew { found: i64, known: i64 },
    #[error("the shared ledger could not be migrated: {0}")]
    Server(#[from] postgres::Error),
}
