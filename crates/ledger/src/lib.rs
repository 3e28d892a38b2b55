//! The local ledger: one SQLite file (WAL) with versioned migrations.
//!
//! `payments` holds one row per payment, written *before* the request leaves;
//! `events` is append-only: every request, response, notification and status change.
//! Secrets are never given to this crate.

mod customers;
mod migrations;
mod payments;
mod profiles;
mod refunds;

pub use customers::CustomerRow;
pub use payments::{EventRow, NewPayment, PaymentFilter, PaymentRow, StatusChange};
pub use profiles::ProfileRow;
pub use refunds::{committed_minor, RefundRow};

use rusqlite::Connection;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the ledger folder {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("the ledger file was written by a newer Paydesk (schema {found}, this one knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T> = std::result::Result<T, LedgerError>;

pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

pub const FILE_NAME: &str = "ledger.sqlite3";

impl Ledger {
    /// Opens (creating if needed) the ledger file inside `home` and brings its schema up to date.
    pub fn open_in(home: &Path) -> Result<Self> {
        std::fs::create_dir_all(home).map_err(|source| LedgerError::Folder { path: home.into(), source })?;
        Self::open(&home.join(FILE_NAME))
    }

    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        Ok(Self { conn, path: path.into() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formatting of the current time")
}
