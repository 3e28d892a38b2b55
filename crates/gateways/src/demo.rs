//! What demo mode sells as and against: made by the sandbox (which knows its demo
//! merchants), handed by the host to the core (which knows no sandbox). Plain data, so
//! neither of the two depends on the other.

use crate::ApiSecret;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// One built-in demo profile: a provider's demo merchant at the sandbox.
pub struct DemoMerchant {
    /// The profile's name ("demo", "demo-`provider`").
    pub profile: String,
    pub provider: String,
    /// Where this provider's API sits under the sandbox's address ("" or "/`provider`").
    pub path: String,
    pub settings: BTreeMap<String, String>,
    /// Where its notifications go when no local listener runs (a sandbox sink answering
    /// as the provider expects), under the sandbox's address.
    pub notify_sink: String,
    /// A public test secret, not a real one.
    pub secret: ApiSecret,
}

pub struct DemoSetup {
    /// The sandbox to sell against (`http://127.0.0.1:PORT`).
    pub sandbox_url: String,
    /// The demo profiles, the first being the default one.
    pub merchants: Vec<DemoMerchant>,
    /// Where the local notification listener listens; None runs without one (the
    /// sandbox's own sink takes notifications, and status comes from queries).
    pub listener_bind: Option<SocketAddr>,
    /// Kept alive as long as demo mode runs: the host's embedded sandbox.
    pub keep_alive: Option<Box<dyn std::any::Any + Send + Sync>>,
    /// The embedded sandbox's door to the shop's network (none for an external sandbox).
    pub network_door: Option<Arc<dyn NetworkDoor>>,
}

/// The demo sandbox's door to the shop's network. Open, the sandbox is also served at a
/// network address and the links it answers with point there, so a phone that scans the
/// demo QR reaches a working customer page. Closed (the default), it is loopback only.
pub trait NetworkDoor: Send + Sync {
    /// Opens the door on `ip` (a free port); answers the sandbox's address there,
    /// e.g. `http://192.168.1.20:41234`, or why it could not.
    fn open(&self, ip: IpAddr) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>>;
    /// Closes it; links point at the loopback address again.
    fn close(&self);
}

/// Starts the demo sandbox for a home folder: the sandbox crate's start, handed by the host
/// to the core once, so the core can switch demo mode on when it is first needed.
pub type DemoLauncher =
    Arc<dyn Fn(std::path::PathBuf) -> Pin<Box<dyn Future<Output = Result<DemoSetup, String>> + Send>> + Send + Sync>;

impl DemoSetup {
    /// The same, with the local notification listener on `bind`.
    pub fn with_listener(self, bind: SocketAddr) -> Self {
        Self { listener_bind: Some(bind), ..self }
    }
}
