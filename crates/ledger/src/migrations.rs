//! The local ledger's runner: brings a SQLite file up to date with the steps of `steps`,
//! in one transaction, its version in `user_version`.

use crate::steps::{self, latest_version, Step, STEPS};
use crate::{LedgerError, Result};
use rusqlite::Connection;

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let known = latest_version();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > known {
        return Err(LedgerError::TooNew { found: current, known });
    }
    for (i, step) in STEPS.iter().enumerate().skip(current as usize) {
        match step {
            Step::Chain => {
                tx.execute_batch(&crate::chain::migration_sql())?;
                crate::chain::seal_existing(&tx)?;
            }
            Step::Reseal => crate::chain::reseal(&tx)?,
            plain => {
                let version = i + 1;
                tx.execute_batch(&crate::chain::drop_triggers_renamed_at(version))?;
                tx.execute_batch(&steps::sqlite(plain).expect("a step of plain SQL"))?;
                tx.execute_batch(&crate::chain::triggers_made_at(version))?;
                tx.execute_batch(&crate::chain::triggers_renamed_at(version))?;
            }
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
    fn the_chain_begins_and_is_resealed_at_the_versions_schema_names() {
        assert!(matches!(STEPS[crate::schema::CHAIN_MIGRATION - 1], Step::Chain));
        assert!(matches!(STEPS[crate::schema::RESEAL_MIGRATION - 1], Step::Reseal));
        let chain_steps = STEPS.iter().filter(|s| matches!(s, Step::Chain | Step::Reseal)).count();
        assert_eq!(chain_steps, 2, "only those two are made by the runners");
    }

    /// A column added to a sealed table is sealed, or left out by name in `schema`: never
    /// left out by forgetting.
    #[test]
    fn every_column_of_a_sealed_table_is_sealed_or_left_out_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::FILE_NAME);
        drop(crate::Ledger::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        for subject in crate::schema::SUBJECTS {
            let mut read = conn.prepare("SELECT name FROM pragma_table_info(?1)").unwrap();
            let columns: Vec<String> =
                read.query_map([subject.table], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap();
            assert!(!columns.is_empty(), "{} exists", subject.table);
            for column in &columns {
                let left_out = subject.unsealed.contains(&column.as_str());
                assert!(
                    subject.seals(column) != left_out,
                    "{}.{column}: sealed {} and named as left out {left_out}; choose one in schema.rs",
                    subject.table,
                    subject.seals(column)
                );
            }
            for column in subject.unsealed {
                assert!(
                    columns.iter().any(|c| c == column),
                    "{}.{column} is named as left out but does not exist",
                    subject.table
                );
            }
        }
    }

    #[test]
    fn a_pockyt_profile_of_schema_4_keeps_its_numbers_as_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::FILE_NAME);
        {
            let conn = Connection::open(&path).unwrap();
            for step in &STEPS[..4] {
                conn.execute_batch(&steps::sqlite(step).unwrap()).unwrap();
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
        assert_eq!(ledger.schema_version().unwrap(), latest_version());
        let p = ledger.profile("shop").unwrap().unwrap();
        assert_eq!(p.settings.get("merchant_no").map(String::as_str), Some("200043"));
        assert_eq!(p.settings.get("store_no").map(String::as_str), Some("300014"));
        assert_eq!(p.ipn_url.as_deref(), Some("https://shop.example/ipn"), "nothing else lost");
    }
}
