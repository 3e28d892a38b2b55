//! Starting the core as every host needs it (GitButler's shape: the hosts are thin, the core
//! is the API): the open-files limit and the language, the ledger (`--ledger`, else what
//! Settings chose), demo mode (started at once or when a demo profile is first named),
//! the notification listeners profiles ask for, and the recovery of what a crash left
//! unanswered. The window starts everything at once; the CLI opens the core and lets each
//! command start what it needs.

use crate::{AppError, Paydesk};
use paydesk_gateways::demo::DemoLauncher;
use std::path::PathBuf;
use std::sync::Arc;

/// How a host opens the core.
#[derive(Clone, Default)]
pub struct Startup {
    /// A ledger named by the person (`--ledger`); none: `PAYDESK_LEDGER`, else Settings'
    /// shared ledger, else the file in the home folder.
    pub ledger: Option<String>,
    /// Starts the demo sandbox (the sandbox crate's launcher); none: no demo mode.
    pub demo: Option<DemoLauncher>,
    /// Demo mode with the local notification listener (on `PAYDESK_IPN_BIND`, else a free
    /// loopback port), as the window runs it; without, the sandbox's sink takes them.
    pub demo_listener: bool,
}

/// What the window starts at once, beyond opening the core.
#[derive(Debug, Clone, Copy, Default)]
pub struct AtStart {
    pub demo: bool,
    pub listeners: bool,
    pub recovery: bool,
}

impl AtStart {
    pub const EVERYTHING: AtStart = AtStart { demo: true, listeners: true, recovery: true };
}

/// Every host's first step: lifts the open-files limit and sets the language in use;
/// answers the home folder.
pub fn prepare() -> PathBuf {
    crate::raise_open_files_limit();
    let home = crate::paths::home();
    crate::i18n::set_current(crate::settings::chosen_locale(&home));
    home
}

/// Opens the core on its ledger, with demo mode ready to start.
pub fn open(home: &std::path::Path, startup: &Startup) -> Result<Arc<Paydesk>, AppError> {
    let location = match startup.ledger.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(ledger) => paydesk_ledger::Location::parse(ledger),
        None => crate::settings::ledger_location(home)?,
    };
    let core = Arc::new(Paydesk::open_at(home, &location)?);
    if let Some(launcher) = &startup.demo {
        let _ = core.demo_launch.set((launcher.clone(), startup.demo_listener));
    }
    Ok(core)
}

/// Starts what `at` names; answers what a person should read of it (where demo mode runs,
/// what could not start). Nothing here stops the host: a counter sells without demo mode.
pub async fn start(core: &Arc<Paydesk>, at: AtStart) -> Vec<String> {
    let mut said = Vec::new();
    if at.demo {
        match core.start_demo().await {
            Ok(url) => said.push(format!("demo sandbox at {url}")),
            Err(e) => said.push(format!("demo mode unavailable: {e}")),
        }
    }
    if at.listeners {
        if let Err(e) = crate::notifications::start_for_profiles(core).await {
            said.push(format!("notification listener unavailable: {e}"));
        }
    }
    if at.recovery {
        // What a crash left unanswered is settled in the background, delaying nothing.
        let recovering = core.clone();
        tokio::spawn(async move {
            match recovering.recover(None).await {
                Ok(summary) if summary.payments_found + summary.refunds_found > 0 => {
                    tracing::warn!("recovery: {}", summary.describe())
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("recovery failed: {e}"),
            }
        });
    }
    said
}

impl Paydesk {
    /// Switches demo mode on with the host's launcher; answers the sandbox's address.
    pub async fn start_demo(self: &Arc<Self>) -> Result<String, AppError> {
        let _one_at_a_time = self.demo_starting.lock().await;
        if let Some(demo) = self.demo() {
            return Ok(demo.base_url());
        }
        let Some((launcher, listener)) = self.demo_launch.get().cloned() else {
            return Err(AppError::NotAllowed { message: "Demo mode is not available in this program.".into() });
        };
        let setup = launcher(self.home().to_path_buf()).await.map_err(|message| AppError::Internal { message })?;
        let setup = if listener { setup.with_listener(demo_listener_address()?) } else { setup };
        Ok(crate::demo::enable(self, setup).await?.base_url())
    }

    /// Starts demo mode when `profile` is a demo one and it is not on yet.
    pub async fn ensure_demo(self: &Arc<Self>, profile: &str) -> Result<(), AppError> {
        if crate::is_demo_name(profile) && self.demo().is_none() {
            self.start_demo().await?;
        }
        Ok(())
    }
}

/// `PAYDESK_IPN_BIND` (e.g. 0.0.0.0:8788 behind a shop's tunnel), else a free loopback port.
fn demo_listener_address() -> Result<std::net::SocketAddr, AppError> {
    let bind = std::env::var("PAYDESK_IPN_BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    bind.parse().map_err(|_| AppError::invalid("PAYDESK_IPN_BIND", format!("not an ADDR:PORT ({bind})")))
}
