//! The shared ledger's engine: PostgreSQL, for several counters on one ledger (SQLite stays
//! the default). The schema is SQLite's, migration for migration and versioned alike
//! (version N here is version N there), so either engine can hold the same ledger.
//!
//! What differs is said where it differs: ids are identities, the append-only rule and the
//! hash chain are PL/pgSQL triggers, and the chain takes a transaction-scoped advisory lock
//! so writers on several machines append one linear chain (each entry hashes the one before).

pub use crate::pg_migrations::{migrate, migrate_up_to, MigrateError, CHANGES_CHANNEL, PROFILES_CHANGED};
pub(crate) use crate::pg_migrations::{prepare, CHAIN_LOCK};
pub use crate::steps::latest_version;

/// A connection to a shared ledger.
pub type Client = postgres::Client;

/// Connects to a PostgreSQL ledger by URL (`postgres://user@host:port/db`).
pub fn connect(url: &str) -> Result<postgres::Client, crate::LedgerError> {
    Target::parse(url)?.connect()
}

/// The server and database named by a URL, as shown to people (never a password).
pub fn shown(url: &str) -> String {
    match Target::parse(url) {
        Ok(t) => t.shown,
        Err(_) => "(a PostgreSQL URL that cannot be read)".into(),
    }
}

/// A shared ledger's address and how to reach it.
#[derive(Clone)]
pub struct Target {
    config: postgres::Config,
    shown: String,
    tls: Option<crate::tls::Connector>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Target {
    /// Reads `postgres://user[:password]@host[:port]/database[?sslmode=require&sslrootcert=FILE]`.
    pub fn parse(url: &str) -> Result<Self, crate::LedgerError> {
        let bad = |why: String| crate::LedgerError::Unreachable(format!("ledger: {why}"));
        // `sslrootcert` is libpq's; the client library does not read it, so it is taken here.
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut root = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslrootcert", file)) => root = Some(std::path::PathBuf::from(file)),
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| bad(format!("not a PostgreSQL URL such as postgres://paydesk@server:5432/shop ({e})")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(5));
        }
        config.keepalives_idle(std::time::Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("paydesk");
        }
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let shown = format!(
            "{}@{host}:{port}/{}",
            config.get_user().unwrap_or(""),
            config.get_dbname().or(config.get_user()).unwrap_or("")
        );
        let tls = match config.get_ssl_mode() {
            postgres::config::SslMode::Disable => None,
            // `prefer` (the default) stays plain on this build unless asked: an encrypted
            // connection is asked for with sslmode=require.
            postgres::config::SslMode::Prefer if root.is_none() => None,
            _ => Some(crate::tls::connector(root.as_deref()).map_err(|e| bad(format!("sslrootcert: {e}")))?),
        };
        if tls.is_some() {
            config.ssl_mode(postgres::config::SslMode::Require);
        }
        Ok(Self { config, shown, tls })
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn connect(&self) -> Result<postgres::Client, crate::LedgerError> {
        let connected = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        };
        connected.map_err(|e| self.error(e))
    }

    /// A client error as the ledger names it: a refused row, or a server out of reach.
    pub(crate) fn error(&self, e: postgres::Error) -> crate::LedgerError {
        use crate::LedgerError;
        if let Some(db) = e.as_db_error() {
            let text = match db.detail() {
                Some(d) => format!("{} ({d})", db.message()),
                None => db.message().to_string(),
            };
            return if *db.code() == postgres::error::SqlState::UNIQUE_VIOLATION {
                LedgerError::Duplicate(text)
            } else if db.code().code().starts_with("23") {
                LedgerError::Constraint(text)
            } else {
                LedgerError::Database(format!("the shared ledger at {} refused: {text}", self.shown))
            };
        }
        let cause = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
        self.unreachable(&cause)
    }

    pub(crate) fn unreachable(&self, cause: &str) -> crate::LedgerError {
        crate::LedgerError::Unreachable(format!(
            "The shared ledger at {} cannot be reached ({cause}). Nothing was recorded; try again once it is back.",
            self.shown
        ))
    }

    pub(crate) fn migrate_error(&self, e: MigrateError) -> crate::LedgerError {
        match e {
            MigrateError::TooNew { found, known } => crate::LedgerError::TooNew { found, known },
            MigrateError::Server(e) => self.error(e),
        }
    }
}

/// Creates an empty database `name` on the server at `server_url` and returns its URL
/// (tests and benchmarks give each run a ledger of its own). Runs on a thread of its own,
/// so it may be called from inside an async runtime.
pub fn create_database(server_url: &str, name: &str) -> Result<String, crate::LedgerError> {
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(crate::LedgerError::Conflict(format!("database name {name:?}: lowercase letters, digits, _")));
    }
    let target = Target::parse(server_url)?;
    let database = name.to_string();
    std::thread::spawn(move || -> Result<(), crate::LedgerError> {
        let mut admin = target.connect()?;
        admin.batch_execute(&format!("CREATE DATABASE {database}")).map_err(|e| target.error(e))
    })
    .join()
    .map_err(|_| crate::LedgerError::Database("creating the database stopped".into()))??;
    let (base, query) = server_url.split_once('?').map(|(b, q)| (b, Some(q))).unwrap_or((server_url, None));
    let (root, _) = base.rsplit_once('/').unwrap_or((base, ""));
    Ok(match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    })
}

/// Follows the other counters' writes: calls `changed(payment id)` for each payment written
/// anywhere (pushed by the server, not polled), `changed(PROFILES_CHANGED)` when a profile
/// was saved or removed, and `changed(0)` after the connection came back (anything may have
/// changed meanwhile). Stops when the returned guard is dropped.
pub fn follow_changes(url: &str, changed: impl Fn(i64) + Send + 'static) -> Result<Follower, crate::LedgerError> {
    let target = Target::parse(url)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let (ready, started) = std::sync::mpsc::sync_channel(1);
    // Connected on its own thread: the client drives a runtime of its own, which may not
    // start inside the caller's.
    std::thread::Builder::new()
        .name("paydesk-ledger-listen".into())
        .spawn(move || {
            use std::sync::atomic::Ordering;
            let first = target.connect().and_then(|mut c| {
                c.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}")).map_err(|e| target.error(e)).map(|_| c)
            });
            let mut client = match first {
                Ok(c) => {
                    let _ = ready.send(Ok(()));
                    Some(c)
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            while !stopped.load(Ordering::Relaxed) {
                let Some(c) = client.as_mut() else {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    client = target
                        .connect()
                        .ok()
                        .and_then(|mut c| c.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}")).ok().map(|_| c));
                    if client.is_some() {
                        changed(0);
                    }
                    continue;
                };
                use postgres::fallible_iterator::FallibleIterator;
                let mut lost = false;
                {
                    let mut notifications = c.notifications();
                    let mut arrived = notifications.timeout_iter(std::time::Duration::from_millis(500));
                    loop {
                        match arrived.next() {
                            Ok(Some(n)) => changed(n.payload().parse().unwrap_or(0)),
                            Ok(None) => break,
                            Err(_) => {
                                lost = true;
                                break;
                            }
                        }
                    }
                }
                lost |= c.is_closed();
                if lost {
                    client = None;
                }
            }
        })
        .map_err(|e| crate::LedgerError::Database(format!("cannot follow the shared ledger: {e}")))?;
    started.recv().map_err(|_| crate::LedgerError::Database("the shared ledger's follower stopped".into()))??;
    Ok(Follower { stop })
}

/// Keeps following while held.
pub struct Follower {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
