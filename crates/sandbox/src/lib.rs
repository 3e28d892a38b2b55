//! The provider emulator: a real HTTP server on loopback that answers like Pockyt,
//! verifying `verifySign` exactly as Pockyt does. Demo mode and the tests talk to it.
//!
//! Besides the provider API it serves a cashier page (`/cashier/<transactionNo>`) with
//! Pay and Decline buttons, sends signed IPNs on settlement (retrying until answered
//! `success`), and offers test hooks: `POST /sandbox/settle/<transactionNo or reference>`,
//! and `POST /sandbox/faults` (`{"endpoint": "tran-query", "fault": "no_answer", "times": 1}`;
//! `DELETE` clears) to make an endpoint answer late, never, half, wrong or oversized.

mod cashier;
mod customers;
pub mod faults;
mod ipn;
pub mod paykka;
mod pockyt;
pub mod spec;
mod state;
pub mod vexora;

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
pub const DEMO_MERCHANT_NO: &str = spec::pockyt::EXAMPLE_MERCHANT_NO;
pub const DEMO_STORE_NO: &str = spec::pockyt::EXAMPLE_STORE_NO;
pub const DEMO_TOKEN: &str = spec::pockyt::EXAMPLE_TOKEN;

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

/// The sandbox's door to the shop's network (see [`paydesk_gateways::demo::NetworkDoor`]):
/// the same sandbox served on a second address while open.
pub struct Door {
    shared: Arc<Shared>,
    /// What links point at while the door is closed.
    own_base: String,
    open: std::sync::Mutex<Option<OpenDoor>>,
}

struct OpenDoor {
    addr: SocketAddr,
    /// Cleared at closing: connections a phone still holds are answered "closed" from then.
    serving: Arc<std::sync::atomic::AtomicBool>,
    _stop: oneshot::Sender<()>,
}

impl Drop for OpenDoor {
    fn drop(&mut self) {
        self.serving.store(false, std::sync::atomic::Ordering::Release);
    }
}

impl Door {
    fn opened(&self) -> std::sync::MutexGuard<'_, Option<OpenDoor>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the door is open, if it is.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.opened().as_ref().map(|door| door.addr)
    }
}

async fn while_open(
    axum::extract::State(serving): axum::extract::State<Arc<std::sync::atomic::AtomicBool>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if serving.load(std::sync::atomic::Ordering::Acquire) {
        next.run(request).await
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::CONNECTION, "close")],
            "closed to the network",
        )
            .into_response()
    }
}

impl paydesk_gateways::demo::NetworkDoor for Door {
    fn open(
        &self,
        ip: std::net::IpAddr,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move {
            if let Some(addr) = self.addr().filter(|addr| addr.ip() == ip) {
                return Ok(format!("http://{addr}"));
            }
            let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, 0))
                .await
                .map_err(|e| format!("cannot listen on {ip}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let (tx, rx) = oneshot::channel::<()>();
            let serving = Arc::new(std::sync::atomic::AtomicBool::new(true));
            let app =
                router(self.shared.clone()).layer(axum::middleware::from_fn_with_state(serving.clone(), while_open));
            tokio::spawn(paydesk_doors::serve(listener, app, paydesk_doors::Limits::SANDBOX, async {
                let _ = rx.await;
            }));
            let url = format!("http://{addr}");
            self.shared.set_link_base(url.clone());
            // A door open elsewhere before closes as this one replaces it.
            *self.opened() = Some(OpenDoor { addr, serving, _stop: tx });
            tracing::info!(%addr, "sandbox open to the network");
            Ok(url)
        })
    }

    fn close(&self) {
        self.shared.set_link_base(self.own_base.clone());
        *self.opened() = None;
    }
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
        ipn::settle(&self.shared, transaction_no_or_reference, pay)
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
    Router::new()
        .route("/", get(cashier::index))
        .route(spec::pockyt::SECURE_PAY_PATH, post(pockyt::secure_pay))
        .route(spec::pockyt::TRAN_QUERY_PATH, post(pockyt::tran_query))
        .route(spec::pockyt::COUNTER_QR_PATH, post(pockyt::counter_qr))
        .route(spec::pockyt::REFUND_PATH, post(pockyt::refund))
        .route(spec::pockyt::CANCEL_PATH, post(pockyt::cancel))
        .route(spec::pockyt::CUSTOMER_CREATE_PATH, post(customers::create))
        .route(spec::pockyt::CUSTOMER_RETRIEVE_PATH, post(customers::retrieve))
        .route(spec::pockyt::CUSTOMER_UPDATE_PATH, post(customers::update))
        .route("/cashier/{id}", get(cashier::page))
        .route("/cashier/{id}/pay", post(cashier::pay))
        .route("/cashier/{id}/decline", post(cashier::decline))
        .route("/return", get(cashier::returned))
        .route("/sandbox/settle/{id}", post(cashier::settle_hook))
        .route("/sandbox/payments/{id}", get(cashier::inspect))
        // Accepts IPNs when no merchant listener runs (the headless demo profile).
        .route("/sandbox/ipn-sink", post(|| async { "success" }))
        .with_state(shared.clone())
        // PayKKa, under its own prefix: a PayKKa profile's base URL is http://ADDR/paykka.
        .nest("/paykka", paykka::router(shared.clone()))
        // Vexora likewise: a Vexora profile's base URL is http://ADDR/vexora.
        .nest("/vexora", vexora::router(shared.clone()))
        // The fault switches are their own state: their handlers need nothing else.
        .merge(
            Router::new()
                .route("/sandbox/faults", post(faults::set).delete(faults::clear))
                .with_state(shared.faults.clone()),
        )
        .layer(faults)
}
