//! The ledger: one SQLite file (WAL, the default) or a shared PostgreSQL database (several
//! counters), with the same versioned migrations and the same queries (see `db`).
//!
//! `payments` holds one row per payment, written *before* the request leaves;
//! `events` is append-only: every request, response, notification and status change.
//! Secrets are never given to this crate.

pub mod backup;
pub mod chain;
pub mod copy;
mod customers;
mod db;
pub mod export;
mod holders;
mod migrations;
mod movements;
mod payers;
mod payments;
mod pg_migrations;
pub mod postgres;
mod profiles;
pub mod query;
mod refunds;
mod rows;
mod schema;
mod steps;
mod tls;
mod tokens;

pub use customers::CustomerRow;
pub use movements::{captured_minor, this_process, MovementRow};
pub use payments::{Applied, EventRow, NewPayment, PaymentRow, StatusChange};
pub use profiles::{ProfileRow, MAIN_SHOP};
pub use query::{CurrencyTotals, Cursor, DayTotals, Page, PaymentFilter};
pub use refunds::{committed_minor, RefundRow};
pub use tokens::TokenRow;

use db::Db;
use rusqlite::Connection;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("ledger database error: {0}")]
    Database(String),
    /// A CHECK or NOT NULL rule of the schema refused a row.
    #[error("the ledger refused the row: {0}")]
    Constraint(String),
    /// A UNIQUE key already holds that value (SQLite's extended code, PostgreSQL's SQLSTATE
    /// 23505): told apart by code, never by the message's words.
    #[error("the ledger already holds that row: {0}")]
    Duplicate(String),
    #[error("no such row in the ledger")]
    NotFound,
    /// The shared ledger's server cannot be reached (or went away during a write, which
    /// was then not kept).
    #[error("{0}")]
    Unreachable(String),
    /// This build cannot do that on this engine (a file backup of a shared ledger).
    #[error("{0}")]
    NotHere(String),
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
    db: Db,
    location: Location,
    /// Open write transactions (0: none; more: savepoints inside a batch).
    depth: Cell<u32>,
    /// Told the id of every payment whose status changed (the app pushes it to its windows).
    on_status_change: Option<Box<dyn Fn(i64) + Send>>,
    /// This process's share in a ledger file (a restore waits for every other to go).
    _hold: Option<holders::Hold>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("location", &self.location).finish()
    }
}

/// Where a ledger lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded SQLite file.
    File(PathBuf),
    /// A shared PostgreSQL database, by URL (`postgres://user@host:port/db`).
    Shared(String),
}

impl Location {
    /// A `postgres://` (or `postgresql://`) URL is shared; anything else a file path.
    pub fn parse(text: &str) -> Self {
        let t = text.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            Location::Shared(t.to_string())
        } else {
            Location::File(PathBuf::from(t))
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Location::Shared(_))
    }

    /// As shown to people: the file, or the server and database without any password.
    pub fn shown(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Shared(url) => postgres::shown(url),
        }
    }
}

pub const FILE_NAME: &str = "ledger.sqlite3";

/// SQLite's busy handler: while another process (window, CLI, listener) writes, try again
/// every millisecond until `BUSY_WAIT`. SQLite's own handler backs off to 100 ms sleeps,
/// which under several writers left a sale waiting up to 2 s for a lock long since free.
fn wait_for_the_other_writer(attempt: i32) -> bool {
    const STEP: Duration = Duration::from_millis(1);
    if STEP * attempt.max(0) as u32 >= BUSY_WAIT {
        return false;
    }
    std::thread::sleep(STEP);
    true
}

/// Puts the file in WAL mode. A file still being made by another counter answers BUSY at
/// once (SQLite calls no busy handler for a journal-mode change), so it is asked again,
/// paced by the busy handler every writer waits with, until the mode is set.
fn to_wal(conn: &Connection) -> Result<()> {
    let mut attempt = 0;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && wait_for_the_other_writer(attempt) => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

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
            _ if is_busy(&e) => LedgerError::Busy,
            rusqlite::Error::SqliteFailure(f, m) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                let text = m.clone().unwrap_or_else(|| f.to_string());
                match f.extended_code {
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                        LedgerError::Duplicate(text)
                    }
                    _ => LedgerError::Constraint(text),
                }
            }
            rusqlite::Error::QueryReturnedNoRows => LedgerError::NotFound,
            _ => LedgerError::Sqlite(e),
        }
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
        let hold = holders::hold(path)?;
        let mut conn = Connection::open(path)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.busy_handler(Some(wait_for_the_other_writer))?;
        to_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        chain::register(&conn)?;
        migrations::migrate(&mut conn)?;
        // Triggers dropped behind the app's back are put back before anything is written.
        conn.execute_batch(&chain::triggers_sql())?;
        // Keeps the planner's statistics fresh enough to use the indexes (bounded work). It
        // reads, then writes the statistics: with another counter committing in between,
        // SQLite answers BUSY at once (no waiting), so a busy moment skips it until the
        // next open rather than failing the sale.
        let _ = conn.execute_batch("PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002;");
        let mut ledger = Self::on(Db::Sqlite(conn), Location::File(path.into()));
        ledger._hold = Some(hold);
        Ok(ledger)
    }

    /// Opens the shared PostgreSQL ledger at `url`, bringing its schema up to date (one
    /// counter migrates; the others wait and find it done).
    pub fn open_shared(url: &str) -> Result<Self> {
        let target = postgres::Target::parse(url)?;
        let pg = db::Pg::connect(target)?;
        pg.run(|s| {
            let target = s.target().clone();
            postgres::prepare(s.raw()?).map_err(|e| target.migrate_error(e))
        })?;
        Ok(Self::on(Db::Postgres(pg), Location::Shared(url.to_string())))
    }

    /// Opens the ledger wherever it lives.
    pub fn open_at(location: &Location) -> Result<Self> {
        match location {
            Location::File(path) => Self::open(path),
            Location::Shared(url) => Self::open_shared(url),
        }
    }

    fn on(db: Db, location: Location) -> Self {
        Self { db, location, depth: Cell::new(0), on_status_change: None, _hold: None }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Moves this ledger file aside to `to` once its rows live elsewhere (a counter's offline
    /// journal, replayed into the shared ledger), alone: refused while another process has it
    /// open (a sale recorded there meanwhile would be lost). Written through first, then closed.
    pub fn retire_to(self, to: &Path) -> Result<()> {
        let path = self
            .path()
            .ok_or_else(|| LedgerError::NotHere("only a ledger file can be moved aside".into()))?
            .to_path_buf();
        let alone = holders::alone(&path)?;
        if let Db::Sqlite(conn) = &self.db {
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
        let Ledger { db, .. } = self;
        drop(db);
        std::fs::rename(&path, to)
            .map_err(|e| LedgerError::Database(format!("cannot move {} aside: {e}", path.display())))?;
        for side in ["-wal", "-shm"] {
            let mut leftover = path.clone().into_os_string();
            leftover.push(side);
            let _ = std::fs::remove_file(leftover);
        }
        drop(alone);
        Ok(())
    }

    /// The SQLite file, for a file ledger.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::File(p) => Some(p),
            Location::Shared(_) => None,
        }
    }

    pub fn is_shared(&self) -> bool {
        self.db.is_postgres()
    }

    /// The SQLite connection, for what only a file ledger does (backups, copies).
    pub(crate) fn sqlite(&self, what: &str) -> Result<&Connection> {
        self.db.sqlite().ok_or_else(|| {
            LedgerError::NotHere(format!(
                "{what} works on a ledger file; this counter uses the shared ledger at {} (its server keeps the backups)",
                self.location.shown()
            ))
        })
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

    /// A write transaction that takes the write lock at once (SQLite's BEGIN IMMEDIATE,
    /// the shared ledger's writer lock), so a read-then-write never fails half way or
    /// races another counter: it waits its turn. Every write goes through one.
    pub(crate) fn write(&self) -> Result<Write<'_>> {
        let depth = self.depth.get();
        if depth == 0 {
            self.db.begin()?;
        } else {
            self.db.batch("SAVEPOINT paydesk_write")?;
        }
        self.depth.set(depth + 1);
        Ok(Write { ledger: self, done: false })
    }

    /// Runs several writes as one transaction (one write to disk for all of them): a bulk
    /// job applies many answers at once. Each write inside keeps its own all-or-nothing
    /// (a savepoint); an error from `f` undoes everything.
    pub fn batch<R>(&self, f: impl FnOnce(&Ledger) -> Result<R>) -> Result<R> {
        let tx = self.write()?;
        let r = f(self)?;
        tx.commit()?;
        Ok(r)
    }

    /// [`Ledger::batch`] whose commit does not wait for the disk (SQLite's
    /// `synchronous = NORMAL` in WAL, PostgreSQL's `synchronous_commit = off`): a power cut
    /// may lose it, never corrupt it, and the next ordinary commit takes it to disk. Only
    /// for what a query can learn again: a provider's answer to a request whose row was
    /// flushed before it was sent (lost, the row stays unanswered and recovery asks).
    pub fn batch_flushed_later<R>(&self, f: impl FnOnce(&Ledger) -> Result<R>) -> Result<R> {
        if self.depth.get() > 0 {
            return self.batch(f);
        }
        match self.db.sqlite() {
            Some(c) => {
                c.pragma_update(None, "synchronous", "NORMAL")?;
                let r = self.batch(f);
                c.pragma_update(None, "synchronous", "FULL")?;
                r
            }
            None => self.batch(|l| {
                l.db.batch("SET LOCAL synchronous_commit = off")?;
                f(l)
            }),
        }
    }

    pub fn schema_version(&self) -> Result<i64> {
        match self.db.sqlite() {
            Some(c) => Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?),
            None => self.db.query_one("SELECT version FROM paydesk_schema", vec![])?.get(0),
        }
    }
}

/// One write, all or nothing: its own transaction, or a savepoint inside a
/// [`Ledger::batch`]. Statements run on the ledger while it is open.
pub(crate) struct Write<'a> {
    ledger: &'a Ledger,
    done: bool,
}

impl Write<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        self.done = true;
        let depth = self.ledger.depth.get() - 1;
        self.ledger.depth.set(depth);
        if depth == 0 {
            self.ledger.db.commit()
        } else {
            self.ledger.db.batch("RELEASE paydesk_write")
        }
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if !self.done {
            let depth = self.ledger.depth.get() - 1;
            self.ledger.depth.set(depth);
            let _ = if depth == 0 {
                self.ledger.db.rollback()
            } else {
                self.ledger.db.batch("ROLLBACK TO paydesk_write; RELEASE paydesk_write")
            };
        }
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

/// Creates (or empties) a file readable and writable by its owner only (0600), never
/// following a symbolic link at `path`: backups, exports, settings and whatever else
/// Paydesk writes hold the shop's books or its payers' data.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    open_private(path, std::fs::OpenOptions::new().write(true).create(true).truncate(true))
}

/// Opens (creating if needed, never emptying) a private file (0600) without following a
/// symbolic link: side files kept across runs, such as a ledger's lock file.
pub fn open_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    open_private(path, std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false))
}

/// Opens with `options`, made 0600 and never through a symbolic link.
fn open_private(path: &Path, options: &mut std::fs::OpenOptions) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600).custom_flags(libc_o_nofollow());
        let file = options.open(path)?;
        // An existing file keeps its mode when opened: made private here.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// O_NOFOLLOW, without a libc dependency (Linux and the BSDs/macOS values).
#[cfg(unix)]
fn libc_o_nofollow() -> i32 {
    if cfg!(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    )) {
        0x0100
    } else {
        0o400000
    }
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

/// Now, in UTC, as RFC 3339 with as many fractional digits as needed: the form every
/// stored time has (and sorts by).
pub(crate) fn now() -> String {
    stamp(jiff::Timestamp::now())
}

fn stamp(t: jiff::Timestamp) -> String {
    t.to_string()
}

#[cfg(test)]
mod stamp_tests {
    /// The ledger's times are written as they always were (by the `time` crate before):
    /// the same text for the same instant, whole seconds and fractions alike.
    #[test]
    fn times_are_written_as_before() {
        for nanos in [
            0i128,
            1_764_999_296_000_000_000,
            1_764_999_296_100_000_000,
            1_764_999_296_123_456_789,
            1_764_999_296_000_000_010,
        ] {
            let before = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            assert_eq!(super::stamp(jiff::Timestamp::from_nanosecond(nanos).unwrap()), before);
        }
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::LedgerError;

    /// A row refused for a key already held is told apart from one refused by a rule, by
    /// SQLite's extended code (whatever words its message uses).
    #[test]
    fn a_duplicate_key_is_not_a_broken_rule() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, u TEXT UNIQUE, n INTEGER CHECK (n > 0)); INSERT INTO t VALUES ('a', 'x', 1);")
            .unwrap();
        let refused = |sql: &str| LedgerError::from(db.execute(sql, []).unwrap_err());
        assert!(matches!(refused("INSERT INTO t VALUES ('a', 'y', 1)"), LedgerError::Duplicate(_)));
        assert!(matches!(refused("INSERT INTO t VALUES ('b', 'x', 1)"), LedgerError::Duplicate(_)));
        assert!(matches!(refused("INSERT INTO t VALUES ('c', 'z', 0)"), LedgerError::Constraint(_)));
    }
}
