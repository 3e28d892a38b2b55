//! Demo mode: the built-in `demo` profile, selling against a sandbox the host started (the
//! embedded one, or one named by PAYDESK_DEMO_SANDBOX_URL), with the local notification
//! listener when the host asks for it. The core never starts or links the sandbox itself.

use crate::profiles::DemoContext;
use crate::{AppError, Paydesk};
use paydesk_gateways::ApiSecret;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the host gives to switch demo mode on.
pub struct DemoSetup {
    /// The sandbox to sell against (`http://127.0.0.1:PORT`).
    pub sandbox_url: String,
    /// The demo merchant: provider, settings and (public, test) secret.
    pub provider: String,
    pub settings: BTreeMap<String, String>,
    pub secret: ApiSecret,
    /// Where the local notification listener listens; None runs without one (the
    /// sandbox's own sink takes notifications, and status comes from queries).
    pub ipn_bind: Option<SocketAddr>,
    /// Kept alive as long as demo mode runs: the host's embedded sandbox.
    pub keep_alive: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// Switches demo mode on. Needs a tokio runtime (for the listener).
pub async fn enable(paydesk: &Arc<Paydesk>, setup: DemoSetup) -> Result<&DemoContext, AppError> {
    paydesk_gateways::links::check_base_url("PAYDESK_DEMO_SANDBOX_URL", &setup.sandbox_url)?;
    let ipn = match setup.ipn_bind {
        Some(bind) => Some(crate::ipn::serve(paydesk.clone(), bind).await?),
        None => None,
    };
    paydesk.install_demo(DemoContext {
        base_url: setup.sandbox_url.trim_end_matches('/').to_string(),
        provider: setup.provider,
        settings: setup.settings,
        secret: setup.secret,
        ipn,
        keep_alive: setup.keep_alive,
    })
}
