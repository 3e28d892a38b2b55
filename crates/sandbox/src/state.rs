use crate::SandboxConfig;
use paydesk_gateways::ApiSecret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct Merchant {
    pub merchant_no: String,
    pub store_no: String,
    pub token: ApiSecret,
}

/// A payment of the provider at the sandbox's root, as it holds it; amounts stay in its wire
/// form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxPayment {
    pub transaction_no: String,
    pub reference: String,
    pub merchant_no: String,
    pub store_no: String,
    pub amount: String,
    pub currency: String,
    pub settle_currency: String,
    pub vendor: String,
    pub ipn_url: String,
    pub callback_url: String,
    pub description: String,
    /// Its status as the provider writes it: init, success, failed, closed.
    pub status: String,
    pub created_ms: u64,
    pub timeout_minutes: u64,
    pub ipn_delivered: bool,
    /// "link" (secure-pay) or "qr" (create-trans-qrcode).
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub cancelled: bool,
    #[serde(default)]
    pub refunds: Vec<SandboxRefund>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SandboxRefund {
    pub refund_reference: String,
    pub refund_transaction_no: String,
    /// Minor units of the payment's currency.
    pub amount_minor: i64,
}

type Customers = HashMap<String, (String, serde_json::Map<String, serde_json::Value>)>;

/// Everything the emulator keeps: an SQLite file (or memory), so several processes (CLI
/// runs in demo mode, each with its own sandbox) share one state, every write is a small
/// row change rather than a rewrite of everything, and a sale costs the same after
/// 10,000 sales as after 10.
pub(crate) struct Store {
    conn: rusqlite::Connection,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS payments (
        transaction_no TEXT PRIMARY KEY,
        merchant_no    TEXT NOT NULL,
        reference      TEXT NOT NULL,
        data           TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS payments_reference ON payments(reference);
    CREATE TABLE IF NOT EXISTS customers (
        customer_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        data        TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS docs (
        kind TEXT NOT NULL,
        id   TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
";

/// What the sandbox kept in its JSON state file before it used SQLite.
#[derive(Default, Deserialize)]
struct LegacyState {
    #[serde(default)]
    payments: HashMap<String, SandboxPayment>,
    #[serde(default)]
    customers: Customers,
}

impl Store {
    fn open(path: Option<&std::path::Path>) -> rusqlite::Result<Self> {
        let conn = match path {
            Some(p) => {
                make_private(p).map_err(|e| {
                    rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                        Some(format!("{}: {e}", p.display())),
                    )
                })?;
                rusqlite::Connection::open(p)?
            }
            None => rusqlite::Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        if path.is_some() {
            // A file another process is still making answers BUSY at once here (SQLite
            // calls no busy handler for a journal-mode change): asked again, as a writer waits.
            let started = std::time::Instant::now();
            while let Err(e) = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
                let busy = e.sqlite_error_code().is_some_and(|c| {
                    matches!(c, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                });
                if !busy || started.elapsed() > std::time::Duration::from_secs(30) {
                    return Err(e);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        conn.execute_batch(SCHEMA)?;
        let store = Store { conn };
        let legacy = path.map(|p| (p, p.with_extension("json"))).filter(|(p, j)| j != p && j.is_file());
        if let Some((_, legacy)) = legacy {
            store.import_legacy(&legacy);
        }
        Ok(store)
    }

    /// Takes over a JSON state file once, then renames it out of the way.
    fn import_legacy(&self, file: &std::path::Path) {
        let Ok(state) = std::fs::read(file).map(|b| serde_json::from_slice::<LegacyState>(&b).unwrap_or_default())
        else {
            return;
        };
        for p in state.payments.values() {
            let _ = self.write_payment(p, true);
        }
        for (no, (merchant, data)) in &state.customers {
            let _ = self.write_customer(no, merchant, data);
        }
        let _ = std::fs::rename(file, file.with_extension("json.imported"));
    }

    fn immediate(&self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
    }

    fn write_payment(&self, p: &SandboxPayment, insert: bool) -> rusqlite::Result<()> {
        let data = serde_json::to_string(p).expect("plain data");
        let sql = if insert {
            "INSERT OR REPLACE INTO payments (transaction_no, merchant_no, reference, data) VALUES (?1, ?2, ?3, ?4)"
        } else {
            "UPDATE payments SET merchant_no = ?2, reference = ?3, data = ?4 WHERE transaction_no = ?1"
        };
        self.conn.execute(sql, rusqlite::params![p.transaction_no, p.merchant_no, p.reference, data])?;
        Ok(())
    }

    fn write_customer(
        &self,
        no: &str,
        merchant: &str,
        data: &serde_json::Map<String, serde_json::Value>,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO customers (customer_no, merchant_no, data) VALUES (?1, ?2, ?3)",
            rusqlite::params![no, merchant, serde_json::Value::Object(data.clone()).to_string()],
        )?;
        Ok(())
    }

    fn payment_where(&self, clause: &str, args: &[&str]) -> Option<SandboxPayment> {
        let sql = format!("SELECT data FROM payments WHERE {clause} LIMIT 1");
        let data: String = self.conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0)).ok()?;
        serde_json::from_str(&data).ok()
    }

    /// By transactionNo, else by reference.
    fn payment(&self, id: &str) -> Option<SandboxPayment> {
        self.payment_where("transaction_no = ?1", &[id]).or_else(|| self.payment_where("reference = ?1", &[id]))
    }

    fn customers(&self) -> Customers {
        let mut stmt =
            self.conn.prepare_cached("SELECT customer_no, merchant_no, data FROM customers").expect("static SQL");
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map(|rows| rows.filter_map(Result::ok).collect::<Vec<_>>())
            .unwrap_or_default();
        rows.into_iter()
            .filter_map(|(no, m, data)| match serde_json::from_str(&data) {
                Ok(serde_json::Value::Object(map)) => Some((no, (m, map))),
                _ => None,
            })
            .collect()
    }
}

/// Whether the sandbox may send a notification to `url`: only to this machine (where the
/// app that embeds it listens), never out to any network, so that a test or a demo payment
/// with a made-up notify URL sends nothing anywhere.
pub(crate) fn may_notify(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else { return false };
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub(crate) struct Shared {
    pub config: SandboxConfig,
    /// Where the customer pages it links to are opened: its own address, or the network
    /// door's while that is open (see `Sandbox::open_to_network`).
    link_base: std::sync::RwLock<String>,
    store: Mutex<Store>,
    pub http: reqwest::Client,
    pub faults: Arc<crate::faults::Faults>,
}

impl Shared {
    pub fn new(config: SandboxConfig, base_url: String) -> std::io::Result<Self> {
        let store = Store::open(config.state_file.as_deref()).map_err(|e| {
            std::io::Error::other(format!(
                "sandbox state {:?}: {e}",
                config.state_file.as_deref().unwrap_or(std::path::Path::new(":memory:"))
            ))
        })?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("static reqwest settings");
        Ok(Self {
            config,
            link_base: std::sync::RwLock::new(base_url),
            store: Mutex::new(store),
            http,
            faults: Default::default(),
        })
    }

    /// The base of the customer-page links it answers with, e.g. `http://127.0.0.1:4000`.
    pub fn link_base(&self) -> String {
        self.link_base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_link_base(&self, base: String) {
        *self.link_base.write().unwrap_or_else(|p| p.into_inner()) = base;
    }

    pub fn merchant(&self, merchant_no: &str, store_no: &str) -> Option<&Merchant> {
        self.config.merchants.iter().find(|m| m.merchant_no == merchant_no && m.store_no == store_no)
    }

    /// Closes a payment whose timeout has passed, as the provider does.
    fn expire(p: &mut SandboxPayment) {
        if p.status == "init" && now_ms() > p.created_ms + p.timeout_minutes * 60_000 {
            p.status = "closed".into();
        }
    }

    pub fn find(&self, id: &str) -> Option<SandboxPayment> {
        self.update(id, |p| p.clone())
    }

    /// Runs `f` on a payment (by transactionNo or reference) inside one write transaction;
    /// writes only when the payment changed, so reads (queries, page views) stay reads.
    pub fn update<R>(&self, id: &str, f: impl FnOnce(&mut SandboxPayment) -> R) -> Option<R> {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let tx = store.immediate().ok()?;
        let mut p = store.payment(id)?;
        let before = p.clone();
        Self::expire(&mut p);
        let r = f(&mut p);
        if p != before {
            store.write_payment(&p, false).ok()?;
        }
        tx.commit().ok()?;
        Some(r)
    }

    /// Reads the customers.
    pub fn read_customers<R>(&self, f: impl FnOnce(&Customers) -> R) -> R {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        f(&store.customers())
    }

    /// Runs `f` on the customers and keeps what it added or changed.
    pub fn customers<R>(&self, f: impl FnOnce(&mut Customers) -> R) -> R {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let tx = store.immediate().expect("sandbox state is writable");
        let before = store.customers();
        let mut all = before.clone();
        let r = f(&mut all);
        for (no, (merchant, data)) in &all {
            if before.get(no) != Some(&(merchant.clone(), data.clone())) {
                store.write_customer(no, merchant, data).expect("sandbox state is writable");
            }
        }
        tx.commit().expect("sandbox state is writable");
        r
    }

    pub fn find_by_reference(&self, merchant_no: &str, reference: &str) -> Option<SandboxPayment> {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        store.payment_where("merchant_no = ?1 AND reference = ?2", &[merchant_no, reference])
    }

    /// Stores a new payment, unless one with its reference exists for the merchant (another
    /// process may have taken it a moment ago): then that one is returned.
    pub fn insert(&self, p: SandboxPayment) -> SandboxPayment {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let tx = store.immediate().expect("sandbox state is writable");
        if let Some(existing) =
            store.payment_where("merchant_no = ?1 AND reference = ?2", &[&p.merchant_no, &p.reference])
        {
            return existing;
        }
        store.write_payment(&p, true).expect("sandbox state is writable");
        tx.commit().expect("sandbox state is writable");
        p
    }

    pub fn mark_ipn_delivered(&self, transaction_no: &str) {
        self.update(transaction_no, |p| p.ipn_delivered = true);
    }
}

/// Documents of the other emulated providers (orders, hosted sessions, saved cards), each
/// kind keyed by its own id, in the same SQLite store.
impl Shared {
    pub fn doc<T: serde::de::DeserializeOwned>(&self, kind: &str, id: &str) -> Option<T> {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let data: String = store
            .conn
            .query_row("SELECT data FROM docs WHERE kind = ?1 AND id = ?2", rusqlite::params![kind, id], |r| r.get(0))
            .ok()?;
        serde_json::from_str(&data).ok()
    }

    pub fn docs<T: serde::de::DeserializeOwned>(&self, kind: &str) -> Vec<T> {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(mut stmt) = store.conn.prepare("SELECT data FROM docs WHERE kind = ?1 ORDER BY rowid") else {
            return Vec::new();
        };
        stmt.query_map([kind], |r| r.get::<_, String>(0))
            .map(|rows| rows.filter_map(Result::ok).filter_map(|d| serde_json::from_str(&d).ok()).collect())
            .unwrap_or_default()
    }

    /// Stores a new document; an existing one with that id is returned instead.
    pub fn insert_doc<T: Serialize + serde::de::DeserializeOwned>(&self, kind: &str, id: &str, doc: T) -> T {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let tx = store.immediate().expect("sandbox state is writable");
        let existing: Option<String> = tx
            .query_row("SELECT data FROM docs WHERE kind = ?1 AND id = ?2", rusqlite::params![kind, id], |r| r.get(0))
            .ok();
        if let Some(d) = existing.and_then(|d| serde_json::from_str(&d).ok()) {
            return d;
        }
        let data = serde_json::to_string(&doc).expect("plain data");
        tx.execute("INSERT INTO docs (kind, id, data) VALUES (?1, ?2, ?3)", rusqlite::params![kind, id, data])
            .expect("sandbox state is writable");
        tx.commit().expect("sandbox state is writable");
        doc
    }

    /// Runs `f` on a document in one write transaction; writes it back when it changed.
    pub fn update_doc<T: Serialize + serde::de::DeserializeOwned + PartialEq + Clone, R>(
        &self,
        kind: &str,
        id: &str,
        f: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let tx = store.immediate().ok()?;
        let data: String = tx
            .query_row("SELECT data FROM docs WHERE kind = ?1 AND id = ?2", rusqlite::params![kind, id], |r| r.get(0))
            .ok()?;
        let mut doc: T = serde_json::from_str(&data).ok()?;
        let before = doc.clone();
        let r = f(&mut doc);
        if doc != before {
            let data = serde_json::to_string(&doc).expect("plain data");
            tx.execute("UPDATE docs SET data = ?3 WHERE kind = ?1 AND id = ?2", rusqlite::params![kind, id, data])
                .ok()?;
        }
        tx.commit().ok()?;
        Some(r)
    }
}

/// The demo's payers and payments are its owner's only (0600; SQLite gives its -wal and
/// -shm files the same mode). Made before the first open; never a descriptor opened and
/// closed on a file in use (that would drop SQLite's locks on it).
fn make_private(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !path.exists() {
            std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
