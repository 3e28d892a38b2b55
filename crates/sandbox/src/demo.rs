//! What a host (the window, the CLI) needs to run demo mode: the embedded sandbox, started
//! with its state beside the ledger, and the demo merchants the core's demo profiles sell as.

use crate::{Sandbox, SandboxConfig};
use paydesk_gateways::demo::DemoSetup;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

/// Where the demo sandbox listens and what address its links carry.
#[derive(Debug, Clone)]
pub struct DemoSandboxOptions {
    /// Port 0 picks a free one. Bind 0.0.0.0 (with `public_url`) to let a phone on the same
    /// network open the cashier page.
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    /// A sandbox already running elsewhere to use instead of starting one.
    pub external_url: Option<String>,
}

impl Default for DemoSandboxOptions {
    fn default() -> Self {
        Self { bind: "127.0.0.1:0".parse().expect("literal address"), public_url: None, external_url: None }
    }
}

impl DemoSandboxOptions {
    /// `PAYDESK_SANDBOX_BIND`, `PAYDESK_SANDBOX_PUBLIC_URL` and `PAYDESK_DEMO_SANDBOX_URL`
    /// over the defaults. Errors name the variable.
    pub fn from_env() -> Result<Self, String> {
        let mut o = Self::default();
        if let Ok(bind) = std::env::var("PAYDESK_SANDBOX_BIND") {
            o.bind = bind.parse().map_err(|_| format!("PAYDESK_SANDBOX_BIND: not an ADDR:PORT ({bind})"))?;
        }
        o.public_url = std::env::var("PAYDESK_SANDBOX_PUBLIC_URL").ok().filter(|u| !u.is_empty());
        o.external_url = std::env::var("PAYDESK_DEMO_SANDBOX_URL").ok().filter(|u| !u.is_empty());
        Ok(o)
    }
}

pub(crate) fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Demo mode's launcher for the core: the embedded sandbox, set from the environment
/// (`DemoSandboxOptions::from_env`), started for the home folder the core gives.
pub fn launcher() -> paydesk_gateways::demo::DemoLauncher {
    std::sync::Arc::new(|home: std::path::PathBuf| {
        Box::pin(async move {
            let options = DemoSandboxOptions::from_env()?;
            start(&home, &options).await
        })
    })
}

/// Starts the embedded sandbox with its state in `<home>/demo-sandbox.sqlite3` (so demo
/// payments survive restarts and are shared by every process), unless an external one is
/// named; returns demo mode's setup, the sandbox kept alive inside it.
pub async fn start(home: &Path, options: &DemoSandboxOptions) -> Result<DemoSetup, String> {
    let (sandbox, sandbox_url, door) = match &options.external_url {
        Some(url) => (None, url.trim_end_matches('/').to_string(), None),
        None => {
            let config = SandboxConfig {
                public_url: options.public_url.clone(),
                state_file: Some(home.join("demo-sandbox.sqlite3")),
                ..Default::default()
            };
            let sandbox = Sandbox::start(options.bind, config)
                .await
                .map_err(|e| format!("cannot start the demo sandbox on {}: {e}", options.bind))?;
            let url = sandbox.base_url().to_string();
            let door = sandbox.network_door() as std::sync::Arc<dyn paydesk_gateways::demo::NetworkDoor>;
            (Some(sandbox), url, Some(door))
        }
    };
    Ok(DemoSetup {
        sandbox_url,
        merchants: crate::EMULATED.iter().map(|emulated| (emulated.demo_merchant)()).collect(),
        listener_bind: None,
        keep_alive: sandbox.map(|s| Box::new(s) as Box<dyn std::any::Any + Send + Sync>),
        network_door: door,
    })
}
