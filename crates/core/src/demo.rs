//! Demo mode: the embedded sandbox plus (in the app) the local IPN listener, so Paydesk
//! works out of the box with the documented Pockyt test merchant.

use crate::ipn::IpnListener;
use crate::profiles::{Environment, Profile, DEMO_PROFILE};
use crate::{AppError, Paydesk};
use paydesk_sandbox::{Sandbox, SandboxConfig, DEMO_MERCHANT_NO, DEMO_STORE_NO};
use std::net::SocketAddr;
use std::sync::Arc;

pub struct DemoContext {
    /// The embedded sandbox; None when demo mode uses one already running elsewhere.
    pub sandbox: Option<Sandbox>,
    base_url: String,
    pub ipn: Option<IpnListener>,
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the sandbox listens; port 0 picks a free one. Bind 0.0.0.0 (with
    /// `public_url`) to let a phone on the same network open the cashier page.
    pub sandbox_bind: SocketAddr,
    pub public_url: Option<String>,
    /// Where the IPN listener listens; None runs without one (notifications then go to
    /// the sandbox's own sink, and status comes from tran-query).
    pub ipn_bind: Option<SocketAddr>,
    /// A sandbox already running (e.g. `paydesk sandbox` on another machine of the shop, or
    /// a benchmark's own process) to use instead of starting the embedded one.
    pub sandbox_url: Option<String>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            sandbox_bind: "127.0.0.1:0".parse().expect("literal address"),
            public_url: None,
            ipn_bind: None,
            sandbox_url: None,
        }
    }
}

impl DemoOptions {
    /// Reads `PAYDESK_SANDBOX_BIND` and `PAYDESK_SANDBOX_PUBLIC_URL` over the defaults.
    pub fn from_env() -> Result<Self, AppError> {
        let mut o = Self::default();
        if let Ok(bind) = std::env::var("PAYDESK_SANDBOX_BIND") {
            o.sandbox_bind = bind.parse().map_err(|_| {
                AppError::invalid("PAYDESK_SANDBOX_BIND", format!("PAYDESK_SANDBOX_BIND: not an ADDR:PORT ({bind})"))
            })?;
        }
        o.public_url = std::env::var("PAYDESK_SANDBOX_PUBLIC_URL").ok().filter(|u| !u.is_empty());
        o.sandbox_url = std::env::var("PAYDESK_DEMO_SANDBOX_URL").ok().filter(|u| !u.is_empty());
        Ok(o)
    }
}

impl DemoContext {
    /// The sandbox demo mode talks to (embedded or not).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The embedded sandbox, for tests and tools that settle payments directly.
    pub fn embedded(&self) -> &Sandbox {
        self.sandbox.as_ref().expect("demo mode runs the embedded sandbox")
    }

    pub fn profile(&self) -> Profile {
        let base = self.base_url.clone();
        Profile {
            name: DEMO_PROFILE.into(),
            provider: "pockyt".into(),
            environment: Environment::Demo,
            ipn_url: Some(match &self.ipn {
                Some(l) => l.pockyt_url(),
                None => format!("{base}/sandbox/ipn-sink"),
            }),
            callback_url: Some(format!("{base}/return")),
            base_url: base,
            merchant_no: DEMO_MERCHANT_NO.into(),
            store_no: DEMO_STORE_NO.into(),
            ipn_listen: self.ipn.as_ref().map(|l| l.addr().to_string()),
        }
    }
}

/// Starts the embedded sandbox (its payments kept in `<home>/demo-sandbox.sqlite3`, so they
/// survive restarts) and, if asked, the IPN listener. Needs a tokio runtime.
pub async fn start(paydesk: &Arc<Paydesk>, options: DemoOptions) -> Result<&DemoContext, AppError> {
    let (sandbox, base_url) = match &options.sandbox_url {
        Some(url) => {
            paydesk_gateways::links::check_base_url("PAYDESK_DEMO_SANDBOX_URL", url)?;
            (None, url.trim_end_matches('/').to_string())
        }
        None => {
            let config = SandboxConfig {
                public_url: options.public_url.clone(),
                state_file: Some(paydesk.home().join("demo-sandbox.sqlite3")),
                ..Default::default()
            };
            let sandbox = Sandbox::start(options.sandbox_bind, config).await.map_err(|e| AppError::Internal {
                message: format!("cannot start the demo sandbox on {}: {e}", options.sandbox_bind),
            })?;
            let base = sandbox.base_url().to_string();
            (Some(sandbox), base)
        }
    };
    let ipn = match options.ipn_bind {
        Some(bind) => Some(crate::ipn::serve(paydesk.clone(), bind).await?),
        None => None,
    };
    paydesk.install_demo(DemoContext { sandbox, base_url, ipn })
}
