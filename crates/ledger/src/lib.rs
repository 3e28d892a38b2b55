//! The local ledger: one SQLite file (WAL) with versioned migrations.
//!
//! `payments` holds one row per payment, written *before* the request leaves;
//! `events` is append-only: every request, response, notification and status change.
//! Secrets are never given to this crate.

pub mod chain;
mod customers;
pub mod export;
mod migrations;
mod payments;
pub mod postgres;
mod profiles;
pub mod query;
mod refunds;
mod tokens;

pub use customers::CustomerRow;
pub use payments::{Applied, EventRow, NewPayment, PaymentRow, StatusChange};
pub use profiles::ProfileRow;
pub use query::{CurrencyTotals, Cursor, DayTotals, Page, PaymentFilter};
pub use refunds::{committed_minor, RefundRow};
pub use tokens::TokenRow;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database error: {0}")]
    Sqlite(rusqlite::Error),
    /// Another process held the ledger for longer than the busy wait.
    #[error("the ledger is busy: another Paydesk window or command kept it for over {} s", BUSY_WAIT.as_secs())]
    Busy,
    #[error("cannot create the ledger folder {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("the ledger file was written by a newer Paydesk (schema {found}, this one knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    Conflict(String),
    /// The person stopped it (an export, a bulk refresh).
    #[error("stopped before the end")]
    Cancelled,
}

pub type Result<T> = std::result::Result<T, LedgerError>;

pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    /// Told the id of every payment whose status changed (the app pushes it to its windows).
    on_status_change: Option<Box<dyn Fn(i64) + Send>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

pub const FILE_NAME: &str = "ledger.sqlite3";

/// How long a writer waits for another process (window, CLI, listener) to finish its write.
pub const BUSY_WAIT: Duration = Duration::from_secs(30);

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        Self::from_sqlite(e)
    }
}

impl LedgerError {
    /// SQLite's own codes become the errors a person can act on.
    fn from_sqlite(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                LedgerError::Busy
            }
            _ => LedgerError::Sqlite(e),
        }
    }

    /// Whether this is a UNIQUE or CHECK constraint refusing a row.
    pub(crate) fn is_constraint(e: &rusqlite::Error) -> bool {
        matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
    }
}

impl Ledger {
    /// Opens (creating if needed) the ledger file inside `home` and brings its schema up to date.
    pub fn open_in(home: &Path) -> Result<Self> {
        create_private_dir(home).map_err(|source| LedgerError::Folder { path: home.into(), source })?;
        Self::open(&home.join(FILE_NAME))
    }

    pub fn open(path: &Path) -> Result<Self> {
        // The ledger is the shop's books: its owner's only (0600). SQLite gives its -wal and
        // -shm files the main file's mode, so setting it before the first open covers them.
        restrict_to_owner(path).map_err(|source| LedgerError::Folder { path: path.into(), source })?;
        let mut conn = Connection::open(path)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.busy_timeout(BUSY_WAIT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        chain::register(&conn)?;
        migrations::migrate(&mut conn)?;
        // Triggers dropped behind the app's back are put back before anything is written.
        conn.execute_batch(&chain::triggers_sql())?;
        // Keeps the planner's statistics fresh enough to use the indexes (bounded work).
        conn.execute_batch("PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002;")?;
        Ok(Self { conn, path: path.into(), on_status_change: None })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Calls `f` with a payment's id whenever this connection changes its status.
    pub fn on_status_change(&mut self, f: impl Fn(i64) + Send + 'static) {
        self.on_status_change = Some(Box::new(f));
    }

    pub(crate) fn status_changed(&self, id: i64) {
        if let Some(f) = &self.on_status_change {
            f(id);
        }
    }

    /// A write transaction that takes the write lock at once (BEGIN IMMEDIATE), so a
    /// read-then-write never fails half way with "database is locked": it waits its turn.
    pub(crate) fn write(&self) -> Result<Write<'_>> {
        Write::begin(&self.conn)
    }

    /// Runs several writes as one transaction (one write to disk for all of them): a bulk
    /// job applies many answers at once. Each write inside keeps its own all-or-nothing
    /// (a savepoint); an error from `f` undoes everything.
    pub fn batch<R>(&self, f: impl FnOnce(&Ledger) -> Result<R>) -> Result<R> {
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(LedgerError::from_sqlite)?;
        let r = f(self)?;
        tx.commit()?;
        Ok(r)
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// One write, all or nothing: its own IMMEDIATE transaction, or a savepoint inside a
/// [`Ledger::batch`].
pub(crate) struct Write<'a> {
    conn: &'a Connection,
    nested: bool,
    done: bool,
}

impl<'a> Write<'a> {
    fn begin(conn: &'a Connection) -> Result<Self> {
        let nested = !conn.is_autocommit();
        conn.execute_batch(if nested { "SAVEPOINT paydesk_write" } else { "BEGIN IMMEDIATE" })
            .map_err(LedgerError::from_sqlite)?;
        Ok(Self { conn, nested, done: false })
    }

    pub(crate) fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        self.conn.execute_batch(if self.nested { "RELEASE paydesk_write" } else { "COMMIT" })
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch(if self.nested {
                "ROLLBACK TO paydesk_write; RELEASE paydesk_write"
            } else {
                "ROLLBACK"
            });
        }
    }
}

impl std::ops::Deref for Write<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// Statements prepared once per connection and reused: the ledger's hot paths (and the
/// chain's triggers compiled into them) are not parsed again on every call.
pub(crate) trait Cached {
    fn exec_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row_cached<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row_cached<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Creates `dir` (and parents) readable by its owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let existed = dir.is_dir();
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        if !existed {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Creates the file if missing, and makes it readable and writable by its owner only.
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // Never open (and so close) a descriptor on a ledger that exists: closing any
        // descriptor of a file drops every POSIX lock this process holds on it, including
        // SQLite's for a connection already open here, and writes can then be lost.
        if !path.exists() {
            std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formatting of the current time")
}
