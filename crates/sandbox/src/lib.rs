//! The provider emulator: a real HTTP server on loopback that answers like each provider,
//! checking signatures exactly as its documents say. Demo mode and the tests talk to it.
//!
//! Each emulated provider is one folder (`pockyt/`, `paykka/`, `vexora/`: its documents in
//! `spec.rs`, its API, its payer pages and notifications); this file mounts them. Besides
//! their APIs the sandbox offers test hooks (`POST <prefix>/sandbox/settle/<id>`) and
//! `POST /sandbox/faults` (`{"endpoint": "tran-query", "fault": "no_answer", "times": 1}`;
//! `DELETE` clears) to make an endpoint answer late, never, half, wrong or oversized.

mod door;
pub mod faults;
mod page;
pub mod paykka;
mod pockyt;
pub mod spec;
mod state;
pub mod vexora;

pub use door::Door;
pub use faults::Fault;
pub use state::{Merchant, SandboxPayment, SandboxRefund};

use axum::routing::{get, post};
use axum::Router;
use paydesk_gateways::ApiSecret;
use state::Shared;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The documented Pockyt example merchant: public test values, not a secret.
pub const DEMO_MERCHANT_NO: &str = pockyt::spec::EXAMPLE_MERCHANT_NO;
pub const DEMO_STORE_NO: &str = pockyt::spec::EXAMPLE_STORE_NO;
pub const DEMO_TOKEN: &str = pockyt::spec::EXAMPLE_TOKEN;

/// One emulated provider: where its API sits under the sandbox's address and the demo
/// profile that sells through it.
pub(crate) struct Emulated {
    pub(crate) prefix: &'static str,
    pub(crate) router: fn(Arc<Shared>) -> Router,
    pub(crate) demo_merchant: fn() -> paydesk_gateways::demo::DemoMerchant,
}

/// Every provider the sandbox plays, in the registry's order; the first at the root.
pub(crate) static EMULATED: &[Emulated] = &[
    Emulated { prefix: "", router: pockyt::router, demo_merchant: pockyt::demo_merchant },
    Emulated { prefix: "/paykka", router: paykka::router, demo_merchant: paykka::demo_merchant },
    Emulated { prefix: "/vexora", router: vexora::router, demo_merchant: vexora::demo_merchant },
];

pub mod demo;

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub merchants: Vec<Merchant>,
    /// Base URL put into cashier links; defaults to `http://<bound address>`.
    /// Set it when binding 0.0.0.0 so a phone on the network can open the link.
    pub public_url: Option<String>,
    /// The SQLite file where payments and customers survive a restart and are shared by
    /// every process using it (demo mode across CLI runs). None: memory only. A JSON state
    /// file of an older Paydesk beside it (same name, `.json`) is taken over once.
    pub state_file: Option<PathBuf>,
    /// Waits between IPN attempts; its length + 1 is the number of attempts.
    pub ipn_retry_delays: Vec<Duration>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            merchants: vec![Merchant::demo()],
            public_url: None,
            state_file: None,
            ipn_retry_delays: [1, 2, 4, 8, 15, 30, 60].map(Duration::from_secs).to_vec(),
        }
    }
}

impl Merchant {
    pub fn demo() -> Self {
        Merchant {
            merchant_no: DEMO_MERCHANT_NO.into(),
            store_no: DEMO_STORE_NO.into(),
            token: ApiSecret::new(DEMO_TOKEN),
        }
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    door: Arc<Door>,
    _shutdown: oneshot::Sender<()>,
}

impl Sandbox {
    /// Binds `bind` (port 0 for any free port) and serves on the current tokio runtime.
    pub async fn start(bind: SocketAddr, config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let base_url =
            config.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_string();
        let shared = Arc::new(Shared::new(config, base_url.clone())?);
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(paydesk_doors::serve(listener, app, paydesk_doors::Limits::SANDBOX, async {
            let _ = rx.await;
        }));
        tracing::info!(%addr, "sandbox listening");
        let door = Arc::new(Door { shared: shared.clone(), own_base: base_url.clone(), open: Default::default() });
        Ok(Sandbox { addr, base_url, shared, door, _shutdown: tx })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its door to the shop's network (closed until opened).
    pub fn network_door(&self) -> Arc<Door> {
        self.door.clone()
    }

    /// e.g. `http://127.0.0.1:43123`: the base URL for a Pockyt profile.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Settles a payment as if the customer paid (`true`) or declined, sending its IPN.
    pub fn settle(&self, transaction_no_or_reference: &str, pay: bool) -> Option<SandboxPayment> {
        pockyt::ipn::settle(&self.shared, transaction_no_or_reference, pay)
    }

    /// Pays or declines a PayKKa session (by trans_id or session_id), as its shopper would.
    pub fn settle_paykka(&self, id: &str, pay: bool, save_card: bool) -> Option<paykka::PaykkaOrder> {
        paykka::settle(&self.shared, id, pay, save_card)
    }

    /// A Vexora payer pays (`pay`), pays part (`partial`) or declines, by tradeNo or platFormTradeNo.
    pub fn settle_vexora(&self, id: &str, outcome: &str) -> Option<vexora::VexoraTrade> {
        vexora::settle(&self.shared, id, outcome)
    }

    pub fn payment(&self, transaction_no_or_reference: &str) -> Option<SandboxPayment> {
        self.shared.find(transaction_no_or_reference)
    }

    /// A PayKKa order as the emulated provider keeps it (its balances are what it took).
    pub fn paykka_order(&self, trans_id: &str) -> Option<paykka::PaykkaOrder> {
        paykka::order(&self.shared, trans_id)
    }

    /// Spoils the answers of `endpoint` (`tran-query`, `secure-pay`, ... or `*`), for
    /// `times` requests or until cleared. Also `POST /sandbox/faults`.
    pub fn set_fault(&self, endpoint: &str, fault: Fault, times: Option<u32>) {
        self.shared.faults.set(endpoint, fault, times);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let faults = axum::middleware::from_fn_with_state(shared.faults.clone(), faults::inject);
    let mut app = Router::new()
        .route("/", get(page::index))
        .route("/return", get(page::returned))
        // Accepts notifications when no merchant listener runs (the headless demo profiles).
        .route("/sandbox/ipn-sink", post(|| async { "success" }))
        .with_state(shared.clone());
    for emulated in EMULATED {
        let provider = (emulated.router)(shared.clone());
        app = if emulated.prefix.is_empty() { app.merge(provider) } else { app.nest(emulated.prefix, provider) };
    }
    // The fault switches are their own state: their handlers need nothing else.
    app.merge(
        Router::new()
            .route("/sandbox/faults", post(faults::set).delete(faults::clear))
            .with_state(shared.faults.clone()),
    )
    .layer(faults)
}
