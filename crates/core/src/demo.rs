//! Demo mode: the built-in demo profiles (`demo`, and one per further provider), selling against a sandbox the host started (the
//! embedded one, or one named by PAYDESK_DEMO_SANDBOX_URL), with the local notification
//! listener when the host asks for it. The core never starts or links the sandbox itself.

use crate::profiles::DemoContext;
use crate::{AppError, Paydesk};
use std::sync::Arc;

pub use paydesk_gateways::demo::DemoSetup;

/// Switches demo mode on. Needs a tokio runtime (for the listener).
pub async fn enable(paydesk: &Arc<Paydesk>, setup: DemoSetup) -> Result<&DemoContext, AppError> {
    paydesk_gateways::links::check_base_url("PAYDESK_DEMO_SANDBOX_URL", &setup.sandbox_url, true)?;
    let ipn = match setup.ipn_bind {
        Some(bind) => Some(crate::ipn::serve(paydesk.clone(), bind).await?),
        None => None,
    };
    paydesk.install_demo(DemoContext {
        base_url: setup.sandbox_url.trim_end_matches('/').to_string(),
        merchants: setup.merchants,
        ipn,
        keep_alive: setup.keep_alive,
    })
}
