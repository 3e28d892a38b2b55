//! The payment flows: validate, record, send, update. The ledger row is written before
//! any request leaves, and every exchange becomes an event.

use crate::profiles::{is_demo_name, DemoContext, Environment, Profile, ProfileInput};
use crate::{qr, secrets, AppError};
use paydesk_gateways::gateway::{Checkout, Exchange, PayMethod, Payer, PaymentRef};
use paydesk_gateways::registry::{capabilities_of, AnyGateway, GatewaySetup};
use paydesk_gateways::{
    links, text, ApiSecret, Currency, GatewayError, Money, PaymentReport, PaymentStatus, RefundStatus,
};
use paydesk_ledger::{Applied, EventRow, Ledger, NewPayment, PaymentRow, ProfileRow, StatusChange};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

mod cancel;
mod create;
mod profiles;
mod reconcile;
mod view;

use create::*;
pub use create::{counter_mark, new_reference, CreatePayment, Method, MAX_DESCRIPTION_CHARS};
pub(crate) use reconcile::*;
use view::*;
pub(crate) use view::{due_minor, settled_minor};
pub use view::{PaymentDetail, PaymentView, RefundOutcome};

/// Refuses, before anything is recorded or sent, a flow the payment's provider does not
/// offer (some have no refund or cancel through their API).
pub(crate) fn require_flow(provider: &str, flow: paydesk_gateways::gateway::Flow) -> Result<(), AppError> {
    match capabilities_of(provider) {
        Some(c) if !c.supports(flow) => Err(AppError::NotAllowed {
            message: format!(
                "{} does not offer {} through its API; do it in {}'s own merchant portal.",
                c.label,
                flow.as_str(),
                c.label
            ),
        }),
        _ => Ok(()),
    }
}

/// The application core. One per process; cheap to share behind an `Arc`.
pub struct Paydesk {
    home: PathBuf,
    ledger: Mutex<Ledger>,
    demo: OnceLock<DemoContext>,
    last_query: Mutex<HashMap<String, Instant>>,
    /// One HTTP client per profile, reused (connection pooling; TLS set up once).
    http_clients: Mutex<HashMap<String, reqwest::Client>>,
    /// Notification listeners started for profiles, by the address they asked for.
    pub(crate) listeners: Mutex<HashMap<String, crate::listener::NotificationListener>>,
    /// Every payment whose status changed, as it happens (by id): the windows follow it.
    /// On a shared ledger also every payment another counter wrote (0: reload everything,
    /// the server was away).
    changes: tokio::sync::broadcast::Sender<i64>,
    /// The shared ledger this counter belongs to (its URL), reachable or not.
    shared: Option<String>,
    /// Hears the other counters' writes (shared ledger only, while it is reachable).
    follower: Mutex<Option<paydesk_ledger::postgres::Follower>>,
    /// Files this process exported: the only ones a window may ask to show in their folder.
    pub(crate) exported: Mutex<Vec<PathBuf>>,
    /// The long jobs a host runs for a person (export, bulk refresh).
    pub(crate) jobs: crate::jobs::Jobs,
    /// How demo mode starts when first needed (the host's sandbox launcher, and whether it
    /// runs the local listener); one start at a time.
    pub(crate) demo_launch: OnceLock<(paydesk_gateways::demo::DemoLauncher, bool)>,
    pub(crate) demo_starting: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Paydesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paydesk").field("home", &self.home).finish()
    }
}

type Changes = tokio::sync::broadcast::Sender<i64>;

/// Tells the windows of every status this ledger changes.
fn hook_status_changes(changes: &Changes, ledger: &mut Ledger) {
    let sender = changes.clone();
    ledger.on_status_change(move |id| {
        // Nobody listening (the CLI) is fine.
        let _ = sender.send(id);
    });
}

/// Hooks the shared `ledger` and follows the other counters' writes on it.
fn follow_shared(
    changes: &Changes,
    ledger: &mut Ledger,
    url: &str,
) -> Result<paydesk_ledger::postgres::Follower, AppError> {
    hook_status_changes(changes, ledger);
    let sender = changes.clone();
    Ok(paydesk_ledger::postgres::follow_changes(url, move |id| {
        let _ = sender.send(id);
    })?)
}

impl Paydesk {
    /// Opens the core on the ledger this machine is set to use: `PAYDESK_LEDGER`, else the
    /// shared ledger chosen in Settings, else the SQLite file in `home`.
    pub fn open(home: &Path) -> Result<Self, AppError> {
        Self::open_at(home, &crate::settings::ledger_location(home)?)
    }

    /// Opens the core on the ledger at `location` (`--ledger`). A shared ledger that cannot
    /// be reached: a counter that has worked on it keeps selling into its offline journal
    /// (replayed when the server is back); one that never has cannot sell (an error here).
    pub fn open_at(home: &Path, location: &paydesk_ledger::Location) -> Result<Self, AppError> {
        COUNTER_MARK.get_or_init(|| counter_mark(home));
        let shared = match location {
            paydesk_ledger::Location::Shared(url) => Some(url.clone()),
            paydesk_ledger::Location::File(_) => None,
        };
        let mut ledger = match location {
            paydesk_ledger::Location::File(path) if *path == home.join(paydesk_ledger::FILE_NAME) => {
                Ledger::open_in(home)?
            }
            paydesk_ledger::Location::Shared(url) => match Ledger::open_at(location) {
                Ok(ledger) => {
                    if let Err(e) = crate::journal::remember_profiles(home, url, &ledger) {
                        tracing::warn!("{e}");
                    }
                    ledger
                }
                Err(paydesk_ledger::LedgerError::Unreachable(why)) => match crate::journal::open_journal(home, url)? {
                    Some(journal) => journal,
                    None => return Err(paydesk_ledger::LedgerError::Unreachable(why).into()),
                },
                Err(e) => return Err(e.into()),
            },
            other => Ledger::open_at(other)?,
        };
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        let follower = match &shared {
            Some(url) if ledger.is_shared() => Some(follow_shared(&changes, &mut ledger, url)?),
            _ => {
                hook_status_changes(&changes, &mut ledger);
                None
            }
        };
        let paydesk = Self {
            home: home.into(),
            ledger: Mutex::new(ledger),
            demo: OnceLock::new(),
            last_query: Mutex::new(HashMap::new()),
            http_clients: Mutex::new(HashMap::new()),
            listeners: Mutex::new(HashMap::new()),
            changes,
            shared,
            follower: Mutex::new(follower),
            exported: Mutex::new(Vec::new()),
            jobs: Default::default(),
            demo_launch: OnceLock::new(),
            demo_starting: tokio::sync::Mutex::new(()),
        };
        // Back on the shared ledger with sales journaled meanwhile: replayed now.
        if paydesk.ledger_is_shared() && crate::journal::journal_exists(home) {
            if let Err(e) = paydesk.sync_ledger() {
                tracing::warn!("the offline journal was not replayed: {e}");
            }
        }
        Ok(paydesk)
    }

    /// The shared ledger this counter belongs to, reachable or not.
    pub fn shared_url(&self) -> Option<&str> {
        self.shared.as_deref()
    }

    /// Uses `ledger` (the shared one) with its push of other counters' writes.
    pub(crate) fn follow_shared(&self, ledger: &mut Ledger, url: &str) -> Result<(), AppError> {
        let follower = follow_shared(&self.changes, ledger, url)?;
        *self.follower.lock().unwrap_or_else(|p| p.into_inner()) = Some(follower);
        Ok(())
    }

    /// Every window reads everything again (the ledger in use changed).
    pub(crate) fn announce_all_changed(&self) {
        let _ = self.changes.send(0);
    }

    /// Payments whose status changes from now on (their ids), pushed as they change: from
    /// a verified notification, a query, a refund or capture, a bulk refresh. On a shared
    /// ledger also another counter's writes, `PROFILES_CHANGED` when a profile was saved or
    /// removed anywhere, and 0 when the server came back (anything may have changed).
    pub fn status_changes(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// A payment as shown, by its ledger id.
    pub fn payment_by_id(&self, id: i64) -> Result<Option<PaymentView>, AppError> {
        Ok(crate::blocking(|| self.ledger().payment_by_id(id))?.map(PaymentView::from))
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where the ledger lives (a file, or a shared server).
    pub fn ledger_location(&self) -> paydesk_ledger::Location {
        self.ledger().location().clone()
    }

    /// The SQLite file, when the ledger is one.
    pub fn ledger_path(&self) -> Option<PathBuf> {
        self.ledger().path().map(Path::to_path_buf)
    }

    /// Whether this counter shares its ledger with others (PostgreSQL).
    pub fn ledger_is_shared(&self) -> bool {
        self.ledger().is_shared()
    }

    pub(crate) fn install_demo(&self, ctx: DemoContext) -> Result<&DemoContext, AppError> {
        self.demo.set(ctx).map_err(|_| AppError::Internal { message: "demo mode is already running".into() })?;
        Ok(self.demo.get().expect("just set"))
    }

    /// The ledger this core runs on, and what Settings chose.
    pub fn ledger_settings(&self) -> crate::settings::LedgerSettings {
        crate::settings::ledger_settings_at(self.home(), &self.ledger_location())
    }

    pub fn demo(&self) -> Option<&DemoContext> {
        self.demo.get()
    }
}
