//! Backups and restores of a ledger file: a consistent copy while it is in use, and a
//! restore that checks the copy (and that nobody else holds the ledger) before it replaces
//! anything, keeping the ledger as it was beside it.

use crate::chain::{triggers_sql, ChainReport};
use crate::{Ledger, Result};
use serde::Serialize;

impl Ledger {
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
