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

use crate::schema::{
    renamed_at, state, subjects_made_at, Subject, CHAIN_MIGRATION, HASH_FUNCTION, RESEAL_MIGRATION, SEALED_BEFORE_18,
    SUBJECTS,
};
use crate::{Ledger, Result};
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash of one entry: over the previous hash, its number, subject and state.
pub fn entry_hash(prev: &str, seq: i64, subject: &str, state: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, &seq.to_string(), subject, state] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
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
    sql.push_str(&triggers_for(subjects_made_at(CHAIN_MIGRATION), CHAIN_MIGRATION));
    sql
}

/// The triggers of the tables migration `version` makes (none for most).
pub(crate) fn triggers_made_at(version: usize) -> String {
    if version <= CHAIN_MIGRATION {
        return String::new();
    }
    triggers_for(subjects_made_at(version), version)
}

/// Before migration `version` renames a sealed table's column: its triggers go, to be made
/// again after it with the new name (`triggers_renamed_at`).
pub(crate) fn drop_triggers_renamed_at(version: usize) -> String {
    renamed_at(version)
        .flat_map(|s| TRIGGERS.map(|what| format!("DROP TRIGGER IF EXISTS chain_{}_{what};\n", s.table)))
        .collect()
}

/// After migration `version` renamed a sealed table's column: its triggers again.
pub(crate) fn triggers_renamed_at(version: usize) -> String {
    triggers_for(renamed_at(version), version)
}

const TRIGGERS: [&str; 3] = ["insert", "update", "delete"];

/// The triggers that seal every insert and every change of a sealed field, and the events'
/// append-only guards: put back at every open if something dropped them.
pub(crate) fn triggers_sql() -> String {
    triggers_sql_at(crate::steps::latest_version() as usize)
}

/// [`triggers_sql`] as schema `version` names the columns (inside a migration).
fn triggers_sql_at(version: usize) -> String {
    let mut sql = triggers_for(SUBJECTS.iter(), version);
    sql.push_str(
        "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
         CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n",
    );
    sql
}

fn triggers_for<'a>(subjects: impl Iterator<Item = &'a Subject>, version: usize) -> String {
    let mut sql = String::new();
    for subject in subjects {
        let table = subject.table;
        let template = subject.template_at(version);
        let new_state = state(&template, "NEW");
        let old_state = state(&template, "OLD");
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
    for subject in subjects_made_at(CHAIN_MIGRATION) {
        seal_rows(conn, subject, None, CHAIN_MIGRATION)?;
    }
    Ok(())
}

/// Appends an entry for every row of `subject`'s table, in key order; with `only_if_sealed_as`,
/// only for rows whose last entry is still that state (re-sealing rows in more detail: a
/// row changed behind the app's back keeps its old entry, and `verify` still names it).
/// Inside migration `version`, whose names the SQL uses.
pub(crate) fn seal_rows(
    conn: &Connection,
    subject: &Subject,
    only_if_sealed_as: Option<&str>,
    version: usize,
) -> rusqlite::Result<()> {
    let table = subject.table;
    let template = subject.template_at(version);
    let condition = match only_if_sealed_as {
        None => String::new(),
        Some(old) => format!(
            "AND (SELECT c.state FROM chain c WHERE c.subject = {name} ORDER BY c.seq DESC LIMIT 1) = {old} \
             AND {old} IS NOT {new}",
            name = subject.subject_sql("t"),
            old = state(old, "t"),
            new = state(&template, "t"),
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
        state(&template, "t")
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
        for what in TRIGGERS {
            conn.execute_batch(&format!("DROP TRIGGER IF EXISTS chain_{table}_{what}"))?;
        }
        let subject = SUBJECTS.iter().find(|s| s.table == *table).expect("a sealed table");
        seal_rows(conn, subject, Some(old), RESEAL_MIGRATION)?;
    }
    for subject in SUBJECTS.iter().filter(|s| s.since == RESEAL_MIGRATION) {
        seal_rows(conn, subject, None, RESEAL_MIGRATION)?;
    }
    conn.execute_batch("DROP INDEX reseal_chain_subject")?;
    conn.execute_batch(&triggers_sql_at(RESEAL_MIGRATION))
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
                crate::schema::pg_state(subject.template, "t")
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
