//! Demo mode: the built-in demo profiles (`demo`, and one per further provider), selling against a sandbox the host started (the
//! embedded one, or one named by PAYDESK_DEMO_SANDBOX_URL), with the local notification
//! listener when the host asks for it. The core never starts or links the sandbox itself.

use crate::profiles::DemoContext;
use crate::settings::LocalSettings;
use crate::{AppError, Paydesk};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

pub use paydesk_gateways::demo::DemoSetup;

/// Switches demo mode on. Needs a tokio runtime (for the listener).
pub async fn enable(paydesk: &Arc<Paydesk>, setup: DemoSetup) -> Result<&DemoContext, AppError> {
    paydesk_gateways::links::check_base_url("PAYDESK_DEMO_SANDBOX_URL", &setup.sandbox_url, true)?;
    let listener = match setup.listener_bind {
        Some(bind) => Some(crate::notifications::serve(paydesk.clone(), bind).await?),
        None => None,
    };
    let own_url = setup.sandbox_url.trim_end_matches('/').to_string();
    let demo = paydesk.install_demo(DemoContext {
        base_url: std::sync::RwLock::new(own_url.clone()),
        own_url,
        network_door: setup.network_door,
        merchants: setup.merchants,
        listener,
        keep_alive: setup.keep_alive,
    })?;
    // Phones were let in before: the door opens again. Without a network, demo mode
    // still runs on this computer and Settings says why the phones cannot pay.
    if crate::blocking(|| LocalSettings::load(paydesk.home())).demo_phones {
        if let Err(e) = paydesk.open_demo_door().await {
            tracing::warn!("demo sandbox not opened to the network: {e}");
        }
    }
    Ok(demo)
}

/// Whether phones on the shop's network can pay demo sales, as Settings → Demo shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoPhones {
    /// Demo mode runs with its own sandbox here (a sandbox elsewhere cannot be opened).
    pub available: bool,
    /// The saved choice.
    pub on: bool,
    /// Where phones reach the sandbox while it is open, e.g. `http://192.168.1.20:41234`.
    pub url: Option<String>,
}

impl Paydesk {
    /// Settings → Demo.
    pub fn demo_phones(&self) -> DemoPhones {
        let on = crate::blocking(|| LocalSettings::load(self.home())).demo_phones;
        let Some(demo) = self.demo() else { return DemoPhones { available: false, on, url: None } };
        let url = Some(demo.base_url()).filter(|url| *url != demo.own_url);
        DemoPhones { available: demo.network_door.is_some(), on, url }
    }

    /// Lets phones on this network pay demo sales (`on`), or keeps the demo sandbox on this
    /// computer only. Sales made from now on carry the matching address in their QR; the
    /// choice is kept for the next start.
    pub async fn set_demo_phones(&self, on: bool) -> Result<DemoPhones, AppError> {
        if on {
            self.open_demo_door().await?;
        } else if let Some(demo) = self.demo() {
            if let Some(door) = &demo.network_door {
                door.close();
            }
            demo.set_base_url(demo.own_url.clone());
        }
        crate::blocking(|| {
            let mut saved = LocalSettings::load(self.home());
            saved.demo_phones = on;
            saved.save(self.home())
        })?;
        Ok(self.demo_phones())
    }

    async fn open_demo_door(&self) -> Result<String, AppError> {
        let demo = self.demo().ok_or_else(|| AppError::NotAllowed { message: "Demo mode is not running.".into() })?;
        let door = demo.network_door.as_ref().ok_or_else(|| AppError::NotAllowed {
            message:
                "The demo sandbox runs elsewhere (PAYDESK_DEMO_SANDBOX_URL): open it to the network where it runs."
                    .into(),
        })?;
        let ip = lan_address()?;
        let url = door.open(ip).await.map_err(|e| AppError::NotAllowed {
            message: format!("Phones cannot be let in: {e}. Demo sales still work on this computer."),
        })?;
        demo.set_base_url(url.clone());
        Ok(url)
    }
}

/// This computer's address on the shop's network: `PAYDESK_LAN_ADDRESS` when set (a
/// computer on several networks), else the first private IPv4 address of its interfaces.
fn lan_address() -> Result<IpAddr, AppError> {
    if let Some(given) = std::env::var("PAYDESK_LAN_ADDRESS").ok().filter(|v| !v.trim().is_empty()) {
        return given.trim().parse().map_err(|_| {
            AppError::invalid("PAYDESK_LAN_ADDRESS", format!("must be an IP address (got '{}')", given.trim()))
        });
    }
    let interfaces = if_addrs::get_if_addrs()
        .map_err(|e| AppError::Internal { message: format!("Cannot list this computer's network addresses: {e}") })?;
    choose_lan_address(interfaces.iter().map(|i| i.ip())).ok_or_else(|| AppError::NotAllowed {
        message: "This computer is on no local network (Wi-Fi or cable), so phones cannot reach it. Demo sales still work on this computer.".into(),
    })
}

/// A phone on the same Wi-Fi reaches a private IPv4 address (192.168/16, 10/8, 172.16/12);
/// failing one, another routable IPv4 one. Never loopback or link-local (169.254/16).
fn choose_lan_address(candidates: impl IntoIterator<Item = IpAddr>) -> Option<IpAddr> {
    let usable: Vec<Ipv4Addr> = candidates
        .into_iter()
        .filter_map(|ip| match ip {
            IpAddr::V4(v4) if !v4.is_loopback() && !v4.is_link_local() && !v4.is_unspecified() => Some(v4),
            _ => None,
        })
        .collect();
    usable.iter().find(|v4| v4.is_private()).or(usable.first()).map(|v4| IpAddr::V4(*v4))
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
        let url = row.link.as_deref().and_then(|link| settle_url(&demo.base_url(), link)).ok_or_else(not_demo)?;
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
    use super::{choose_lan_address, settle_url};

    #[test]
    fn phones_are_sent_to_a_private_ipv4_address() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let found = choose_lan_address([
            ip("127.0.0.1"),
            ip("fe80::1"),
            ip("169.254.3.4"),
            ip("100.70.1.2"),
            ip("192.168.1.20"),
        ]);
        assert_eq!(found, Some(ip("192.168.1.20")));
        assert_eq!(choose_lan_address([ip("127.0.0.1"), ip("100.70.1.2")]), Some(ip("100.70.1.2")));
        assert_eq!(choose_lan_address([ip("127.0.0.1"), ip("::1"), ip("169.254.3.4")]), None);
    }

    #[test]
    fn each_customer_page_has_its_settle_hook_beside_it() {
        let base = "http://127.0.0.1:4000";
        assert_eq!(
            settle_url(base, "http://127.0.0.1:4000/cashier/abc-1").unwrap(),
            "http://127.0.0.1:4000/sandbox/settle/abc-1"
        );
        assert_eq!(
            settle_url(base, "http://127.0.0.1:4000/paykka/checkout/cs_9").unwrap(),
            "http://127.0.0.1:4000/paykka/sandbox/settle/cs_9"
        );
        // A page shown on the LAN address is settled on the sandbox's own address.
        assert_eq!(
            settle_url(base, "http://192.168.1.5:8787/vexora/pay/T1").unwrap(),
            "http://127.0.0.1:4000/vexora/sandbox/settle/T1"
        );
        assert_eq!(settle_url(base, "http://127.0.0.1:4000/cashier/a%20b"), None);
        assert_eq!(settle_url(base, "not a link"), None);
    }
}
