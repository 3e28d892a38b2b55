//! Long-running commands: the notification listener and the emulator on its own.

use crate::*;

/// Where the emulator listens and whom it plays.
#[derive(clap::Args)]
pub(crate) struct SandboxArgs {
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub(crate) bind: SocketAddr,
    /// Base URL for cashier links when bound to a non-loopback address.
    #[arg(long)]
    pub(crate) public_url: Option<String>,
    /// The emulated merchant of the provider at the sandbox's root (default: its documented
    /// example, 200043).
    #[arg(long, default_value = paydesk_sandbox::DEMO_MERCHANT_NO)]
    pub(crate) merchant_no: String,
    #[arg(long, default_value = paydesk_sandbox::DEMO_STORE_NO)]
    pub(crate) store_no: String,
    /// The emulated merchant's API token (a test value; default: the documented example).
    #[arg(long, default_value = paydesk_sandbox::DEMO_TOKEN, hide_default_value = true)]
    pub(crate) token: String,
    /// Keep the sandbox's payments and customers in this file across restarts.
    #[arg(long)]
    pub(crate) state_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum NotificationsCommand {
    /// Listens on --bind, or else on the address --profile asks for, or else on every
    /// address profiles ask for (profile add --ipn-listen).
    Listen {
        #[arg(long)]
        bind: Option<SocketAddr>,
        #[arg(long)]
        profile: Option<String>,
    },
}

/// Long-running commands print their address at once (stdout, flushed), then wait.
pub(crate) fn announce(json_mode: bool, doc: Value, text: &str) {
    let mut stdout = std::io::stdout().lock();
    if json_mode {
        let _ = writeln!(stdout, "{doc}");
    } else {
        let _ = writeln!(stdout, "{text}");
    }
    let _ = stdout.flush();
}

pub(crate) async fn wait_for_interrupt() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

pub(crate) async fn run_sandbox(bind: SocketAddr, config: SandboxConfig, json_mode: bool) -> Result<Output, AppError> {
    let merchant = config.merchants.first().cloned().expect("one merchant");
    let (merchant_no, store_no) = (merchant.merchant_no, merchant.store_no);
    let sandbox = Sandbox::start(bind, config)
        .await
        .map_err(|e| AppError::Internal { message: format!("cannot start the sandbox on {bind}: {e}") })?;
    announce(
        json_mode,
        json!({"address": sandbox.addr().to_string(), "base_url": sandbox.base_url()}),
        &format!("Sandbox at {} (merchantNo {merchant_no}, storeNo {store_no})", sandbox.base_url()),
    );
    wait_for_interrupt().await;
    // The address was the document; nothing more on stdout.
    std::process::exit(0);
}

/// `ipn listen`: the notification listener, until interrupted.
pub(crate) async fn notifications(cmd: NotificationsCommand, json_mode: bool) -> Result<Output, AppError> {
    let NotificationsCommand::Listen { bind, profile } = cmd;
    let paydesk = open()?;
    let bind = match (bind, profile) {
        (Some(b), _) => Some(b),
        (None, Some(name)) => {
            let p = paydesk.profile(&name)?;
            let addr = p.ipn_listen.ok_or_else(|| {
                AppError::invalid(
                    "bind",
                    format!("profile '{name}' asks for no listener; give --bind ADDR:PORT or set --ipn-listen on it"),
                )
            })?;
            Some(addr.parse().map_err(|_| AppError::invalid("bind", format!("'{addr}' is not ADDR:PORT")))?)
        }
        (None, None) => None,
    };
    let (_explicit, addrs) = match bind {
        Some(bind) => {
            let l = paydesk_core::notifications::serve(paydesk.clone(), bind).await?;
            let addr = l.addr();
            (Some(l), vec![addr])
        }
        None => (None, paydesk_core::notifications::start_for_profiles(&paydesk).await?),
    };
    if addrs.is_empty() {
        return Err(AppError::invalid(
            "bind",
            "no profile asks for a notification listener; give --bind ADDR:PORT or `profile add --ipn-listen`",
        ));
    }
    // `listening`: the older address, of the first provider's profiles; `notify`: where any
    // provider posts for a profile.
    let first = paydesk_core::providers::default_provider();
    let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}/ipn/{first}")).collect();
    let notify: Vec<String> = addrs.iter().map(|a| format!("http://{a}/notify/{{provider}}/{{profile}}")).collect();
    let doc = if urls.len() == 1 {
        json!({"listening": urls[0], "notify": notify[0]})
    } else {
        json!({"listening": urls, "notify": notify})
    };
    announce(json_mode, doc, &say("notification listener at {addresses}", &[("addresses", &notify.join(", "))]));
    wait_for_interrupt().await;
    out(json!({"stopped": true}), say("stopped", &[]))
}

/// `sandbox`: the provider emulator on its own, until interrupted.
pub(crate) async fn sandbox(args: SandboxArgs, json_mode: bool) -> Result<Output, AppError> {
    let SandboxArgs { bind, public_url, merchant_no, store_no, token, state_file } = args;
    let merchant = Merchant { merchant_no, store_no, token: ApiSecret::new(token) };
    let config = SandboxConfig { public_url, merchants: vec![merchant], state_file, ..Default::default() };
    run_sandbox(bind, config, json_mode).await
}
