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

/// What the demo customer does on the sandbox's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemoOutcome {
    Pay,
    Decline,
}

impl Paydesk {
    /// Demo mode only: the sandbox pays or declines a waiting demo sale, as the buttons of
    /// its customer page would; for a counter whose customer cannot reach the QR's address
    /// (the sandbox on loopback). The answer reaches the sale the usual way (notification
    /// or query), never from here.
    pub async fn settle_demo_sale(&self, reference: &str, outcome: DemoOutcome) -> Result<(), AppError> {
        let not_demo = || AppError::NotAllowed { message: format!("Payment {reference} is not a demo sale.") };
        let demo = self.demo().ok_or_else(not_demo)?;
        let row = self.payment_row(reference)?;
        let profile = self.profile(&row.profile)?;
        if profile.environment != crate::profiles::Environment::Demo {
            return Err(not_demo());
        }
        let url = row.link.as_deref().and_then(|link| settle_url(&demo.base_url, link)).ok_or_else(not_demo)?;
        let body = serde_json::json!({ "outcome": match outcome { DemoOutcome::Pay => "pay", DemoOutcome::Decline => "decline" } });
        let unreachable = |e: String| AppError::ProviderUnreachable {
            message: format!("The demo sandbox could not be reached ({e}); the sale is still waiting."),
            reference: None,
        };
        let answer = demo_client().post(url).json(&body).send().await.map_err(|e| unreachable(e.to_string()))?;
        if !answer.status().is_success() {
            return Err(AppError::NotAllowed {
                message: format!("The sandbox did not settle {reference}: it is no longer waiting for payment."),
            });
        }
        Ok(())
    }
}

/// One client for the demo sandbox's own hook, loopback only, short timeouts.
fn demo_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .expect("a plain HTTP client builds")
    })
}

/// The sandbox's settle hook for a customer page: the page sits at `…/<prefix>/<page>/<id>`
/// and its hook at `<sandbox>/<prefix>/sandbox/settle/<id>` for every provider it plays.
/// Only the link's path is used; the address is always the demo sandbox's own.
fn settle_url(sandbox: &str, link: &str) -> Option<String> {
    let path = reqwest::Url::parse(link).ok()?.path().to_string();
    let (dir, id) = path.trim_start_matches('/').rsplit_once('/')?;
    let prefix = dir.rsplit_once('/').map_or("", |(prefix, _page)| prefix);
    let safe = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/'));
    // `safe` admits no '.', so no `..` either.
    if id.is_empty() || id.len() > 128 || !safe(id) || !safe(prefix) {
        return None;
    }
    let prefix = if prefix.is_empty() { String::new() } else { format!("/{prefix}") };
    Some(format!("{}{prefix}/sandbox/settle/{id}", sandbox.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::settle_url;

    #[test]
    fn each_customer_page_has_its_settle_hook_beside_it() {
        let base = "http://127.0.0.1:4000";
        assert_eq!(settle_url(base, "http://127.0.0.1:4000/cashier/abc-1").unwrap(), "http://127.0.0.1:4000/sandbox/settle/abc-1");
        assert_eq!(
            settle_url(base, "http://127.0.0.1:4000/paykka/checkout/cs_9").unwrap(),
            "http://127.0.0.1:4000/paykka/sandbox/settle/cs_9"
        );
        // A page shown on the LAN address is settled on the sandbox's own address.
        assert_eq!(settle_url(base, "http://192.168.1.5:8787/vexora/pay/T1").unwrap(), "http://127.0.0.1:4000/vexora/sandbox/settle/T1");
        assert_eq!(settle_url(base, "http://127.0.0.1:4000/cashier/a%20b"), None);
        assert_eq!(settle_url(base, "not a link"), None);
    }
}
