//! Moving a ledger between the engines: a counter's SQLite file merged into a shared
//! PostgreSQL ledger, and a shared ledger copied into a new file (offline). Rows travel by
//! their natural keys; the chain is never copied, each side seals what arrives.

use crate::postgres::{latest_version, migrate, MigrateError, CHAIN_LOCK};

/// A table a copy carries: its natural key (never the local id, which another counter's
/// rows already use in a shared ledger), whether it has an `id` of its own (left to the
/// target), and whether it hangs off a payment (`payment_id`, mapped to the target's id).
struct Copied {
    table: &'static str,
    key: &'static str,
    has_id: bool,
    of_payment: bool,
}

/// Parents first. The chain is not copied: the target's own triggers seal every row as it
/// arrives, in the target's order.
const COPIED: &[Copied] = &[
    Copied { table: "profiles", key: "name", has_id: false, of_payment: false },
    Copied { table: "payments", key: "reference", has_id: true, of_payment: false },
    Copied { table: "refunds", key: "refund_reference", has_id: true, of_payment: true },
    Copied { table: "movements", key: "reference", has_id: true, of_payment: true },
    // No key: a payment's events travel with it, the first time it does.
    Copied { table: "events", key: "", has_id: true, of_payment: true },
    Copied { table: "customers", key: "profile, customer_no", has_id: false, of_payment: false },
    Copied { table: "tokens", key: "profile, token", has_id: false, of_payment: false },
    Copied { table: "payers", key: "mobile", has_id: false, of_payment: false },
    Copied { table: "rejected_notifications", key: "provider, reason", has_id: false, of_payment: false },
    Copied { table: "notification_nonces", key: "provider, nonce", has_id: false, of_payment: false },
];

/// What a copy found on both sides once it was done.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct CopyReport {
    /// Rows per table in the source.
    pub rows: std::collections::BTreeMap<String, i64>,
    /// The source's payments per currency and status with their amounts, equal to the same
    /// references' in the target (other counters' rows there are not compared).
    pub totals: Vec<(String, String, i64, i64)>,
    /// The target's schema version (the same as the source's).
    pub version: i64,
    /// Payments added by this copy, and those already there as they are here.
    pub inserted: i64,
    pub already_there: i64,
    /// References already in the target with other content: reported, never overwritten
    /// (nor their refunds, captures or events).
    pub conflicts: Vec<String>,
}

impl crate::Ledger {
    /// Merges this (SQLite) ledger into the PostgreSQL ledger at `client`, which may already
    /// hold other counters' sales: migrates it, then in one transaction adds each row that is
    /// not there yet, matched by its natural key (a payment by its reference), with new ids
    /// where the target gives them. A payment already there as it is here is left alone; one
    /// there with other content is reported and never overwritten. Then the source's own
    /// rows are compared in the target (counts and totals of those references). Safe to run
    /// again. Secrets are not in the ledger, so none travel.
    pub fn copy_to_postgres(&self, client: &mut postgres::Client) -> Result<CopyReport, CopyError> {
        migrate(client)?;
        let mut tx = client.transaction()?;
        // In the writers' turn, as every counter's write is: no counter's sale interleaves.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK])?;
        let source = self.sqlite("A copy")?;
        let mut rows = std::collections::BTreeMap::new();
        // Source payment id → target payment id, for the payments this copy may carry
        // children of; `fresh` for those it added (their events travel with them).
        let mut payment_ids: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        let mut fresh: std::collections::HashSet<i64> = std::collections::HashSet::new();
        let (mut inserted, mut already_there, mut conflicts) = (0i64, 0i64, Vec::new());
        let mut own_references = Vec::new();
        for copied in COPIED {
            let table = copied.table;
            let mut stmt = source.prepare(&format!("SELECT * FROM {table}"))?;
            let all: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
            let columns: Vec<String> = all.iter().filter(|c| !(copied.has_id && *c == "id")).cloned().collect();
            let types: Vec<String> = columns
                .iter()
                .map(|c| {
                    tx.query_one(
                        "SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
                        &[&table, c],
                    )
                    .map(|r| r.get::<_, String>(0))
                })
                .collect::<Result<_, _>>()?;
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let insert = if copied.key.is_empty() {
                // Events: a payment's only with a payment this copy added; the others (profile
                // changes, refused notifications) unless the same one is there.
                let same: Vec<String> = ["payment_id", "at", "kind", "detail"]
                    .iter()
                    .map(|c| format!("e.{c} IS NOT DISTINCT FROM n.{c}"))
                    .collect();
                tx.prepare(&format!(
                    "INSERT INTO {table} ({cols}) SELECT * FROM (VALUES ({ph})) AS n ({cols}) \
                     WHERE n.payment_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM {table} e WHERE {same}) RETURNING 1",
                    cols = columns.join(", "),
                    ph = placeholders
                        .iter()
                        .zip(&types)
                        .map(|(p, t)| format!(
                            "{p}::{}",
                            if t == "bigint" || t == "integer" { "bigint" } else { "text" }
                        ))
                        .collect::<Vec<_>>()
                        .join(", "),
                    same = same.join(" AND "),
                ))?
            } else {
                let returning = if copied.has_id { " RETURNING id" } else { " RETURNING 1" };
                tx.prepare(&format!(
                    "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING{returning}",
                    columns.join(", "),
                    placeholders.join(", "),
                    copied.key
                ))?
            };
            let id_at = all.iter().position(|c| c == "id");
            let mut count = 0i64;
            let mut found = stmt.query([])?;
            while let Some(row) = found.next()? {
                count += 1;
                let mut cells: Vec<crate::db::Value> = Vec::with_capacity(columns.len());
                for (c, ty) in columns.iter().zip(&types) {
                    let i = all.iter().position(|a| a == c).expect("a source column");
                    cells.push(if ty == "bigint" || ty == "integer" {
                        row.get::<_, Option<i64>>(i)?.into()
                    } else {
                        row.get::<_, Option<String>>(i)?.into()
                    });
                }
                if copied.of_payment {
                    let at = columns.iter().position(|c| c == "payment_id").expect("payment_id");
                    let crate::db::Value::Int(source_payment) = cells[at] else {
                        // An event of no payment.
                        let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                            cells.iter().map(|c| c as &(dyn postgres::types::ToSql + Sync)).collect();
                        tx.query(&insert, &params)?;
                        continue;
                    };
                    let Some(target) = payment_ids.get(&source_payment) else { continue };
                    if table == "events" && !fresh.contains(&source_payment) {
                        continue;
                    }
                    cells[at] = crate::db::Value::Int(*target);
                }
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    cells.iter().map(|c| c as &(dyn postgres::types::ToSql + Sync)).collect();
                let added = tx.query(&insert, &params)?;
                if table != "payments" {
                    continue;
                }
                let source_id: i64 = row.get(id_at.expect("payments have ids"))?;
                let reference_at = columns.iter().position(|c| c == "reference").expect("reference");
                let crate::db::Value::Text(reference) = cells[reference_at].clone() else { continue };
                if let Some(new) = added.first() {
                    payment_ids.insert(source_id, new.get(0));
                    fresh.insert(source_id);
                    inserted += 1;
                    own_references.push(reference);
                    continue;
                }
                // Already there: the same payment, or another with this reference.
                let there = tx.query_one(
                    &format!("SELECT id, {} FROM payments WHERE reference = $1", columns.join(", ")),
                    &[&reference],
                )?;
                let same = cells.iter().zip(&types).enumerate().all(|(i, (cell, ty))| {
                    let theirs: crate::db::Value = if ty == "bigint" || ty == "integer" {
                        there.get::<_, Option<i64>>(i + 1).into()
                    } else {
                        there.get::<_, Option<String>>(i + 1).into()
                    };
                    theirs == *cell
                });
                if same {
                    payment_ids.insert(source_id, there.get(0));
                    already_there += 1;
                    own_references.push(reference);
                } else {
                    conflicts.push(reference);
                }
            }
            rows.insert(table.to_string(), count);
        }
        // The source's own rows, and only those, must be in the target as they are here.
        let ours = source_totals(source, &conflicts)?;
        let theirs: Vec<(String, String, i64, i64)> = tx
            .query(
                "SELECT currency, status, count(*), sum(amount_minor)::bigint FROM payments \
                 WHERE reference = ANY($1) GROUP BY currency, status ORDER BY currency, status",
                &[&own_references],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        if ours != theirs {
            return Err(CopyError::Differs(format!(
                "this ledger's payments {ours:?}, the same references there {theirs:?}"
            )));
        }
        tx.commit()?;
        Ok(CopyReport { rows, totals: ours, version: latest_version(), inserted, already_there, conflicts })
    }
}

/// This ledger's payments per currency and status, but those reported as conflicts.
fn source_totals(
    sqlite: &rusqlite::Connection,
    left_out: &[String],
) -> Result<Vec<(String, String, i64, i64)>, CopyError> {
    let mut totals: std::collections::BTreeMap<(String, String), (i64, i64)> = std::collections::BTreeMap::new();
    let mut stmt = sqlite.prepare("SELECT reference, currency, status, amount_minor FROM payments")?;
    let mut found = stmt.query([])?;
    while let Some(r) = found.next()? {
        let reference: String = r.get(0)?;
        if left_out.contains(&reference) {
            continue;
        }
        let entry = totals.entry((r.get(1)?, r.get(2)?)).or_default();
        entry.0 += 1;
        entry.1 += r.get::<_, i64>(3)?;
    }
    Ok(totals.into_iter().map(|((c, s), (n, sum))| (c, s, n, sum)).collect())
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error("the shared ledger refused the copy: {0}")]
    Server(#[from] postgres::Error),
    #[error("this ledger could not be read: {0}")]
    Source(#[from] rusqlite::Error),
    #[error(transparent)]
    Ledger(#[from] crate::LedgerError),
    #[error("the copy does not match its source ({0}); nothing was kept")]
    Differs(String),
}

/// Payments per currency and status (count, amount) in the SQLite ledger, once checked
/// equal to the PostgreSQL one's; a copy that differs is refused.
fn same_totals(
    sqlite: &rusqlite::Connection,
    pg: &mut impl postgres::GenericClient,
) -> Result<Vec<(String, String, i64, i64)>, CopyError> {
    const TOTALS: &str = "SELECT currency, status, count(*), sum(amount_minor) FROM payments GROUP BY currency, status ORDER BY currency, status";
    let here: Vec<(String, String, i64, i64)> = sqlite
        .prepare(TOTALS)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let there: Vec<(String, String, i64, i64)> = pg
        .query(&TOTALS.replace("sum(amount_minor)", "sum(amount_minor)::bigint"), &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    if here != there {
        return Err(CopyError::Differs(format!("payments in SQLite {here:?}, in PostgreSQL {there:?}")));
    }
    Ok(here)
}

impl crate::Ledger {
    /// Fills this ledger — a new, empty SQLite file — from the PostgreSQL ledger at
    /// `client` (an offline copy), in one transaction: every row as it is there, sealed by
    /// this file's own chain as it arrives; then the same check of rows and totals.
    pub fn copy_from_postgres(&mut self, client: &mut postgres::Client) -> Result<CopyReport, CopyError> {
        let version: i64 = client.query_one("SELECT version FROM paydesk_schema", &[])?.get(0);
        if version != latest_version() {
            return Err(CopyError::Differs(format!(
                "the shared ledger is at schema version {version}, this Paydesk at {}",
                latest_version()
            )));
        }
        let crate::db::Db::Sqlite(conn) = &mut self.db else {
            return Err(CopyError::Differs("copy into a ledger file".into()));
        };
        let already: i64 = conn.query_row("SELECT count(*) FROM payments", [], |r| r.get(0))?;
        if already > 0 {
            return Err(CopyError::Differs("the target file already holds payments; copy into a new file".into()));
        }
        let tx = conn.transaction()?;
        let mut rows = std::collections::BTreeMap::new();
        for &Copied { table, has_id, .. } in COPIED {
            let columns: Vec<String> = tx
                .prepare(&format!("SELECT * FROM {table} LIMIT 0"))?
                .column_names()
                .into_iter()
                .map(String::from)
                .collect();
            let order = if has_id { " ORDER BY id" } else { "" };
            let source = client.query(&format!("SELECT {} FROM {table}{order}", columns.join(", ")), &[])?;
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            let mut insert = tx.prepare(&format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                columns.join(", "),
                placeholders.join(", ")
            ))?;
            for row in &source {
                let values: Vec<rusqlite::types::Value> = (0..columns.len())
                    .map(|i| match *row.columns()[i].type_() {
                        postgres::types::Type::INT8 | postgres::types::Type::INT4 => {
                            row.get::<_, Option<i64>>(i).map(rusqlite::types::Value::Integer)
                        }
                        _ => row.get::<_, Option<String>>(i).map(rusqlite::types::Value::Text),
                    })
                    .map(|v| v.unwrap_or(rusqlite::types::Value::Null))
                    .collect();
                insert.execute(rusqlite::params_from_iter(values))?;
            }
            rows.insert(table.to_string(), source.len() as i64);
        }
        let ours = same_totals(&tx, client)?;
        tx.commit()?;
        let copied = rows.get("payments").copied().unwrap_or(0);
        Ok(CopyReport { rows, totals: ours, version, inserted: copied, already_there: 0, conflicts: Vec::new() })
    }
}
