//! Tamper evidence: every write to a payment, refund or event leaves an entry in a hash
//! chain (each entry hashes the one before it and the state it records), written by
//! triggers inside the same transaction, so no write path of the app can forget it.
//! `verify` walks the chain and compares every row with its last sealed state: an amount,
//! currency, status or reference edited with another tool, an entry deleted or reordered,
//! a row added or removed behind the app's back — each is named.
//!
//! The chain proves the file against itself: a tamperer who cuts its tail and puts rows
//! back to an earlier state is caught only by comparing the head hash with one kept
//! elsewhere (a backup, or the head `verify` prints).

use crate::{Ledger, Result};
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The SQL function the triggers call: registered on every connection the app opens.
pub(crate) const HASH_FUNCTION: &str = "paydesk_chain_hash";

/// What each subject's state holds, as SQL builds it (the same text for the trigger and
/// for `verify`, so they compare exactly). `{r}` is NEW, OLD or a table alias.
const PAYMENT_STATE: &str =
    "json_object('reference', {r}.reference, 'profile', {r}.profile, 'provider', {r}.provider, \
    'method', {r}.method, 'vendor', {r}.vendor, 'amount_minor', {r}.amount_minor, 'currency', {r}.currency, \
    'status', {r}.status, 'raw_status', {r}.raw_status, 'transaction_no', {r}.transaction_no, 'link', {r}.link, \
    'paid_minor', {r}.paid_minor, 'customer_no', {r}.customer_no, \
    'created_at', {r}.created_at, 'updated_at', {r}.updated_at)";
// (Not the checkout options: they may name the payer, whose data can be erased on request;
// a copy in the chain never could be.)
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

/// The states as sealed before migration 18 sealed more of each row (method, vendor, link,
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
/// state, and the schema version that began sealing it (its triggers are made then).
pub(crate) struct Subject {
    pub table: &'static str,
    pub kind: &'static str,
    pub key: &'static str,
    pub template: &'static str,
    pub since: usize,
}

impl Subject {
    /// The SQL of the subject's name for row `r`: `'payment:' || r.id`.
    pub(crate) fn subject_sql(&self, r: &str) -> String {
        format!("'{}:' || {}", self.kind, state(self.key, r))
    }
}

pub(crate) const SUBJECTS: &[Subject] = &[
    Subject {
        table: "payments",
        kind: "payment",
        key: "{r}.id",
        template: PAYMENT_STATE,
        since: crate::migrations::CHAIN_MIGRATION,
    },
    Subject {
        table: "refunds",
        kind: "refund",
        key: "{r}.id",
        template: REFUND_STATE,
        since: crate::migrations::CHAIN_MIGRATION,
    },
    Subject {
        table: "events",
        kind: "event",
        key: "{r}.id",
        template: EVENT_STATE,
        since: crate::migrations::CHAIN_MIGRATION,
    },
    Subject {
        table: "movements",
        kind: "movement",
        key: "{r}.id",
        template: MOVEMENT_STATE,
        since: crate::migrations::MOVEMENTS_MIGRATION,
    },
    Subject {
        table: "profiles",
        kind: "profile",
        key: "{r}.name",
        template: PROFILE_STATE,
        since: crate::migrations::RESEAL_MIGRATION,
    },
    Subject {
        table: "customers",
        kind: "customer",
        key: "{r}.profile || '/' || {r}.customer_no",
        template: CUSTOMER_STATE,
        since: crate::migrations::RESEAL_MIGRATION,
    },
];

/// The subjects whose triggers migration `version` makes: every sealed table that exists
/// by then at the chain's own migration, afterwards the tables made in that migration.
pub(crate) fn subjects_made_at(version: usize) -> impl Iterator<Item = &'static Subject> {
    SUBJECTS.iter().filter(move |s| {
        if version == crate::migrations::CHAIN_MIGRATION {
            s.since <= version
        } else {
            s.since == version
        }
    })
}

pub(crate) fn state(template: &str, row: &str) -> String {
    template.replace("{r}", row)
}

/// The hash of one entry: over the previous hash, its number, subject and state.
pub fn entry_hash(prev: &str, seq: i64, subject: &str, state: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, &seq.to_string(), subject, state] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers the hash function the chain's triggers call on a connection: every
/// connection that writes the ledger needs it (the app's do; another tool's does not, so
/// its writes fail unless it drops the triggers, which `verify` then finds out).
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        HASH_FUNCTION,
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let prev: String = ctx.get(0)?;
            let seq: i64 = ctx.get(1)?;
            let subject: String = ctx.get(2)?;
            let state: String = ctx.get(3)?;
            Ok(entry_hash(&prev, seq, &subject, &state))
        },
    )
}

/// The SQL that appends an entry for `subject` with `state_sql`.
fn append_sql(subject_sql: &str, state_sql: &str) -> String {
    format!(
        "INSERT INTO chain (seq, at, subject, state, prev, hash)
         SELECT s.seq, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), s.subject, s.state, s.prev,
                {HASH_FUNCTION}(s.prev, s.seq, s.subject, s.state)
         FROM (SELECT coalesce((SELECT max(seq) FROM chain), 0) + 1 AS seq,
                      coalesce((SELECT hash FROM chain ORDER BY seq DESC LIMIT 1), '') AS prev,
                      {subject_sql} AS subject, {state_sql} AS state) s"
    )
}

/// The chain's table and its triggers.
pub(crate) fn migration_sql() -> String {
    let mut sql = String::from(
        "CREATE TABLE chain (
            seq     INTEGER PRIMARY KEY,
            at      TEXT NOT NULL,
            subject TEXT NOT NULL,
            state   TEXT NOT NULL,
            prev    TEXT NOT NULL,
            hash    TEXT NOT NULL
        );\n",
    );
    sql.push_str(&triggers_for(subjects_made_at(crate::migrations::CHAIN_MIGRATION)));
    sql
}

/// The triggers of the tables migration `version` makes (none for most).
pub(crate) fn triggers_made_at(version: usize) -> String {
    if version <= crate::migrations::CHAIN_MIGRATION {
        return String::new();
    }
    triggers_for(subjects_made_at(version))
}

/// The triggers that seal every insert and every change of a sealed field, and the events'
/// append-only guards: put back at every open if something dropped them.
pub(crate) fn triggers_sql() -> String {
    let mut sql = triggers_for(SUBJECTS.iter());
    sql.push_str(
        "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
         CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n",
    );
    sql
}

fn triggers_for<'a>(subjects: impl Iterator<Item = &'a Subject>) -> String {
    let mut sql = String::new();
    for subject in subjects {
        let table = subject.table;
        let new_state = state(subject.template, "NEW");
        let old_state = state(subject.template, "OLD");
        sql.push_str(&format!(
            "CREATE TRIGGER IF NOT EXISTS chain_{table}_insert AFTER INSERT ON {table} BEGIN {}; END;\n",
            append_sql(&subject.subject_sql("NEW"), &new_state)
        ));
        sql.push_str(&format!(
            "CREATE TRIGGER IF NOT EXISTS chain_{table}_update AFTER UPDATE ON {table} WHEN {old_state} IS NOT {new_state} BEGIN {}; END;\n",
            append_sql(&subject.subject_sql("NEW"), &new_state)
        ));
        sql.push_str(&format!(
            "CREATE TRIGGER IF NOT EXISTS chain_{table}_delete AFTER DELETE ON {table} BEGIN {}; END;\n",
            append_sql(&subject.subject_sql("OLD"), "'deleted'")
        ));
    }
    sql
}

/// Seals every row already there when the chain begins (a ledger from before it), in
/// table and id order. Runs once, inside the migration that creates the chain.
pub(crate) fn seal_existing(conn: &Connection) -> rusqlite::Result<()> {
    for subject in subjects_made_at(crate::migrations::CHAIN_MIGRATION) {
        seal_rows(conn, subject, None)?;
    }
    Ok(())
}

/// Appends an entry for every row of `subject`'s table, in key order; with `only_if_sealed_as`,
/// only for rows whose last entry is still that state (re-sealing rows in more detail: a
/// row changed behind the app's back keeps its old entry, and `verify` still names it).
pub(crate) fn seal_rows(conn: &Connection, subject: &Subject, only_if_sealed_as: Option<&str>) -> rusqlite::Result<()> {
    let table = subject.table;
    let condition = match only_if_sealed_as {
        None => String::new(),
        Some(old) => format!(
            "AND (SELECT c.state FROM chain c WHERE c.subject = {name} ORDER BY c.seq DESC LIMIT 1) = {old} \
             AND {old} IS NOT {new}",
            name = subject.subject_sql("t"),
            old = state(old, "t"),
            new = state(subject.template, "t"),
        ),
    };
    let sql = format!(
        "INSERT INTO chain (seq, at, subject, state, prev, hash)
         SELECT s.seq, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), s.subject, s.state, s.prev,
                {HASH_FUNCTION}(s.prev, s.seq, s.subject, s.state)
         FROM (SELECT coalesce((SELECT max(seq) FROM chain), 0) + 1 AS seq,
                      coalesce((SELECT hash FROM chain ORDER BY seq DESC LIMIT 1), '') AS prev,
                      {} AS subject, {} AS state FROM {table} t WHERE t.rowid = ?1 {condition}) s",
        subject.subject_sql("t"),
        state(subject.template, "t")
    );
    let rows: Vec<i64> = conn
        .prepare(&format!("SELECT t.rowid FROM {table} t ORDER BY {}", state(subject.key, "t")))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut insert = conn.prepare(&sql)?;
    for row in rows {
        insert.execute([row])?;
    }
    Ok(())
}

/// Migration 18: the triggers of the tables sealed in more detail are made again, their
/// rows sealed again in full where they are still as sealed before, and profiles sealed.
pub(crate) fn reseal(conn: &Connection) -> rusqlite::Result<()> {
    // Found by subject while re-sealing; not needed afterwards.
    conn.execute_batch("CREATE INDEX reseal_chain_subject ON chain(subject, seq)")?;
    for (table, _, old) in SEALED_BEFORE_18 {
        for what in ["insert", "update", "delete"] {
            conn.execute_batch(&format!("DROP TRIGGER IF EXISTS chain_{table}_{what}"))?;
        }
        let subject = SUBJECTS.iter().find(|s| s.table == *table).expect("a sealed table");
        seal_rows(conn, subject, Some(old))?;
    }
    for subject in SUBJECTS.iter().filter(|s| s.since == crate::migrations::RESEAL_MIGRATION) {
        seal_rows(conn, subject, None)?;
    }
    conn.execute_batch("DROP INDEX reseal_chain_subject")?;
    conn.execute_batch(&triggers_sql())
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChainReport {
    pub ok: bool,
    pub entries: i64,
    /// The last entry's hash: keep it to prove later that nothing was cut off.
    pub head: String,
    /// The first problem, in words, naming the entry or row.
    pub problem: Option<String>,
    /// The chain entry (seq) or table row (`payment:12`) at fault.
    pub at: Option<String>,
    /// The head kept from an earlier verify, when one was given (`--head`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_head: Option<String>,
    /// Whether the chain still runs through the kept head (nothing cut off or rewritten).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends_kept_head: Option<bool>,
}

impl Ledger {
    /// Walks the chain and compares every sealed row with the ledger as it is, all read in
    /// one snapshot: what others write meanwhile is neither seen half nor taken for tampering.
    pub fn verify(&self) -> Result<ChainReport> {
        self.db.read_snapshot(|| self.verify_in_snapshot())
    }

    /// `verify`, and whether the chain still runs through `kept_head` (a head printed by an
    /// earlier verify and kept elsewhere): a ledger cut back to an earlier state and rebuilt
    /// verifies against itself, but no longer holds the kept head.
    pub fn verify_against(&self, kept_head: &str) -> Result<ChainReport> {
        let kept_head = kept_head.trim().to_ascii_lowercase();
        self.db.read_snapshot(|| {
            let mut report = self.verify_in_snapshot()?;
            let found = self
                .db
                .query_opt("SELECT seq FROM chain WHERE hash = ?1", crate::db::args![kept_head.as_str()])?
                .map(|r| r.get::<i64>("seq"))
                .transpose()?;
            report.extends_kept_head = Some(found.is_some());
            if found.is_none() && report.ok {
                report.ok = false;
                report.problem = Some(format!(
                    "the ledger no longer holds the kept head {kept_head}: entries after it were cut off or rewritten"
                ));
                report.at = Some("head".into());
            }
            report.kept_head = Some(kept_head.clone());
            Ok(report)
        })
    }

    fn verify_in_snapshot(&self) -> Result<ChainReport> {
        let bad = |entries: i64, head: &str, at: String, problem: String| ChainReport {
            ok: false,
            entries,
            head: head.to_string(),
            problem: Some(problem),
            at: Some(at),
            kept_head: None,
            extends_kept_head: None,
        };
        let mut latest: std::collections::HashMap<String, String> = Default::default();
        let mut prev = String::new();
        let mut expected_seq = 1i64;
        {
            let mut found = None;
            self.db.for_each("SELECT seq, subject, state, prev, hash FROM chain ORDER BY seq", vec![], |r| {
                let (seq, subject, state, stored_prev, hash): (i64, String, String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                if seq != expected_seq {
                    found = Some(bad(
                        seq,
                        &prev,
                        format!("chain:{seq}"),
                        format!("chain entry {expected_seq} is missing (the next one is {seq}): entries were deleted"),
                    ));
                    return Ok(false);
                }
                if stored_prev != prev {
                    found = Some(bad(
                        seq,
                        &prev,
                        format!("chain:{seq}"),
                        format!(
                            "chain entry {seq} does not follow entry {}: entries were removed or reordered",
                            seq - 1
                        ),
                    ));
                    return Ok(false);
                }
                if entry_hash(&prev, seq, &subject, &state) != hash {
                    found = Some(bad(
                        seq,
                        &prev,
                        format!("chain:{seq}"),
                        format!("chain entry {seq} ({subject}) was edited: its hash does not match what it records"),
                    ));
                    return Ok(false);
                }
                latest.insert(subject, state);
                prev = hash;
                expected_seq += 1;
                Ok(true)
            })?;
            if let Some(report) = found {
                return Ok(report);
            }
        }
        let entries = expected_seq - 1;
        for subject in SUBJECTS {
            let (table, kind) = (subject.table, subject.kind);
            let state_sql = if self.db.is_postgres() {
                crate::postgres::state(subject.template, "t")
            } else {
                state(subject.template, "t")
            };
            let mut found = None;
            let sql = format!(
                "SELECT {} AS subject, {state_sql} FROM {table} t ORDER BY {}",
                subject.subject_sql("t"),
                state(subject.key, "t")
            );
            self.db.for_each(&sql, vec![], |r| {
                let (name, now): (String, String) = (r.get(0)?, r.get(1)?);
                let row = name.split_once(':').map(|(_, k)| k.to_string()).unwrap_or_default();
                found = match latest.remove(&name) {
                    None => Some(bad(
                        entries,
                        &prev,
                        name.clone(),
                        format!("{kind} row {row} is not in the chain: it was added behind the app's back"),
                    )),
                    Some(sealed) if sealed != now => Some(bad(
                        entries,
                        &prev,
                        name.clone(),
                        format!("{kind} row {row} was changed behind the app's back: {}", difference(&sealed, &now)),
                    )),
                    Some(_) => None,
                };
                Ok(found.is_none())
            })?;
            if let Some(report) = found {
                return Ok(report);
            }
            let gone: Vec<String> = latest
                .iter()
                .filter(|(s, st)| s.starts_with(&format!("{kind}:")) && st.as_str() != "deleted")
                .map(|(s, _)| s.clone())
                .collect();
            if let Some(subject) = gone.into_iter().min() {
                return Ok(bad(
                    entries,
                    &prev,
                    subject.clone(),
                    format!("{subject} is in the chain but no longer in the ledger: it was deleted"),
                ));
            }
        }
        Ok(ChainReport {
            ok: true,
            entries,
            head: prev,
            problem: None,
            at: None,
            kept_head: None,
            extends_kept_head: None,
        })
    }

    /// A consistent copy of the ledger while it is in use (SQLite's online backup).
    pub fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        let conn = self.sqlite("A backup")?;
        // Made private (0600) before SQLite writes into it; it keeps that mode.
        crate::create_private_file(path).map_err(|e| crate::LedgerError::Conflict(format!("backup: {e}")))?;
        conn.backup(rusqlite::MAIN_DB, path, None)?;
        Ok(())
    }

    /// Puts a backup back, after checking it, and never loses data: a file that is not a
    /// Paydesk ledger (empty, another database, no payments table), a copy whose chain does
    /// not verify, or one a newer Paydesk wrote is refused, and so is any restore while
    /// another process has the ledger open (it is named); one holding fewer payments than
    /// the ledger now is refused unless `replace_newer`. The ledger as it was is kept first as
    /// a dated safety copy beside it (0600). Any check that fails afterwards is an error.
    pub fn restore_from(&mut self, path: &std::path::Path, replace_newer: bool) -> Result<RestoreReport> {
        let refuse = |why: String| crate::LedgerError::Conflict(format!("restore: {why}; nothing was restored"));
        self.sqlite("A restore")?;
        let meta = std::fs::metadata(path).map_err(|e| refuse(format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(refuse(format!("{} is not a file", path.display())));
        }
        if meta.len() == 0 {
            return Err(refuse(format!("{} is empty, not a Paydesk ledger", path.display())));
        }
        // Checked on a copy in a private folder of an unpredictable name: opening runs
        // migrations, which must not touch the backup itself.
        let dir = tempfile::Builder::new()
            .prefix("paydesk-restore-")
            .tempdir()
            .map_err(|e| refuse(format!("no private folder to check it in: {e}")))?;
        let copy = dir.path().join("check.sqlite3");
        std::fs::copy(path, &copy).map_err(|e| refuse(e.to_string()))?;
        let backup_payments = {
            let not_ours = || refuse(format!("{} is not a Paydesk ledger", path.display()));
            let raw = rusqlite::Connection::open_with_flags(&copy, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|_| not_ours())?;
            let version: i64 = raw.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|_| not_ours())?;
            let payments: i64 =
                raw.query_row("SELECT count(*) FROM payments", [], |r| r.get(0)).map_err(|_| not_ours())?;
            if version < 1 {
                return Err(not_ours());
            }
            payments
        };
        let report = Ledger::open(&copy).and_then(|l| l.verify())?;
        if !report.ok {
            return Err(refuse(format!("the backup does not verify ({})", report.problem.clone().unwrap_or_default())));
        }
        // Nobody else may have the books open while they are replaced: a sale recorded by a
        // running counter in between would be lost.
        let _alone = crate::holders::alone(self.path().expect("a file ledger")).map_err(|e| refuse(e.to_string()))?;
        let now_payments = self.count_payments()?;
        if backup_payments < now_payments && !replace_newer {
            return Err(refuse(format!(
                "the backup holds {backup_payments} payments, fewer than the {now_payments} in the ledger now \
                 ({} would be lost); add --replace-newer to replace them anyway (a safety copy is kept)",
                now_payments - backup_payments
            )));
        }
        let live = self.path().expect("a file ledger").to_path_buf();
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        // Never over an earlier safety copy: two restores in one second would otherwise keep
        // only the second, and the sales before the first would be in neither.
        let mut safety_copy = live.with_file_name(format!("{}.before-restore-{stamp}", crate::FILE_NAME));
        for n in 2.. {
            if !safety_copy.exists() {
                break;
            }
            safety_copy = live.with_file_name(format!("{}.before-restore-{stamp}-{n}", crate::FILE_NAME));
        }
        self.backup_to(&safety_copy)?;
        let crate::db::Db::Sqlite(conn) = &mut self.db else { unreachable!("checked to be a file above") };
        conn.restore(rusqlite::MAIN_DB, path, None::<fn(rusqlite::backup::Progress)>)?;
        crate::migrations::migrate(conn)?;
        conn.execute_batch(&triggers_sql())?;
        let chain = self.verify()?;
        if !chain.ok {
            return Err(crate::LedgerError::Conflict(format!(
                "restore: the restored ledger does not verify ({}); the ledger as it was is at {}",
                chain.problem.unwrap_or_default(),
                safety_copy.display()
            )));
        }
        Ok(RestoreReport { chain, payments: backup_payments, safety_copy })
    }
}

/// What a restore did: the chain it verified, the payments it brought back, and where the
/// ledger as it was before is kept.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RestoreReport {
    #[serde(flatten)]
    pub chain: ChainReport,
    pub payments: i64,
    pub safety_copy: std::path::PathBuf,
}

/// Which sealed fields differ, as "amount_minor 1300 → 1".
fn difference(sealed: &str, now: &str) -> String {
    let a: serde_json::Value = serde_json::from_str(sealed).unwrap_or_default();
    let b: serde_json::Value = serde_json::from_str(now).unwrap_or_default();
    let mut changes = Vec::new();
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (k, v) in b {
            let was = a.get(k).cloned().unwrap_or_default();
            if was != *v {
                changes.push(format!("{k} {was} → {v}"));
            }
        }
    }
    if changes.is_empty() {
        "its sealed fields differ".into()
    } else {
        changes.join(", ")
    }
}
