//! The customer display: what a screen facing the customer shows of the sale at the counter
//! (shop, amount, the big QR, then PAID / Declined / Expired, and an idle screen between
//! sales). It follows the ledger's status changes itself, so a notification turns the
//! counter and the display PAID at once. Shown by the app's second window and, when switched
//! on, by a read-only page on the local network for a tablet (see [`serve_lan`]).

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use paydesk_gateways::PaymentStatus;
use serde::Serialize;
use tokio::sync::watch;

use crate::i18n::{self, Locale};
use crate::{AppError, Paydesk, PaymentView};
use paydesk_gateways::RuleId;

/// Which screen the display shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Idle,
    Waiting,
    Paid,
    /// Part of the amount arrived: what arrived and what is still due.
    PartlyPaid,
    Declined,
    Expired,
    /// The cashier cancelled the sale (shown for a moment, then Welcome).
    Cancelled,
}

/// Everything a display paints, in the language in use; nothing else of the ledger.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct DisplayState {
    /// Increases with every change (the LAN page waits for the next one).
    pub seq: u64,
    pub phase: Phase,
    pub shop: String,
    /// The headline: "Welcome", "Scan to pay", "PAID", "Declined", "Expired".
    pub title: String,
    /// "1,234.50 USD", grouped; empty when idle.
    pub amount: String,
    /// "Scan with Alipay", or what happened in words.
    pub note: String,
    /// The QR as `data:image/png;base64,…` while waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    /// The sale's reference: the windows match pushed changes with it. Not on the LAN page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The language's formatting tag, for the page's `lang`.
    pub lang: String,
    /// "DEMO" while the sale is a demo one: the customer sees no real money moves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub badge: Option<String>,
    /// What the LAN page says instead of showing the QR, when the link's page is not the
    /// customer's alone (an emulator's cashier page has the merchant's Decline button).
    #[serde(skip)]
    pub lan_note: Option<String>,
}

impl DisplayState {
    /// The same state without what the LAN page must not show: the reference, and the QR
    /// where its page lets whoever opens it act on the sale.
    pub fn for_lan(&self) -> Self {
        match &self.lan_note {
            Some(note) if self.qr.is_some() => {
                Self { reference: None, qr: None, note: note.clone(), lan_note: None, ..self.clone() }
            }
            _ => Self { reference: None, lan_note: None, ..self.clone() },
        }
    }
}

/// An amount as people read it: "1,234.50 USD".
pub fn grouped_amount(amount: &str, currency: &str) -> String {
    let (whole, frac) = amount.split_once('.').map(|(w, f)| (w, Some(f))).unwrap_or((amount, None));
    let digits: Vec<char> = whole.chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) && c.is_ascii_digit() && digits[i - 1].is_ascii_digit() {
            out.push(',');
        }
        out.push(*c);
    }
    match frac {
        Some(f) => format!("{out}.{f} {currency}"),
        None => format!("{out} {currency}"),
    }
}

fn phase_of(status: PaymentStatus) -> Phase {
    use PaymentStatus::*;
    match status {
        Created | Pending | Unknown => Phase::Waiting,
        PartiallyPaid => Phase::PartlyPaid,
        Paid | Authorized | PartiallyCaptured | PartiallyRefunded | Refunded | Disputed => Phase::Paid,
        Failed => Phase::Declined,
        Expired | Cancelled => Phase::Expired,
    }
}

/// The display's state for a payment (or idle), in `locale`.
fn state_for(locale: Locale, shop: &str, payment: Option<&PaymentView>, qr: Option<String>) -> DisplayState {
    state_in(locale, shop, payment, qr, payment.map(|p| phase_of(p.status)).unwrap_or_default())
}

/// The display's state for a payment in `phase` (its status's, or Cancelled at the counter).
fn state_in(
    locale: Locale,
    shop: &str,
    payment: Option<&PaymentView>,
    qr: Option<String>,
    phase: Phase,
) -> DisplayState {
    let tr = |s: &str| i18n::tr(locale, s);
    let mut state = DisplayState { shop: shop.to_string(), lang: locale.format_tag().into(), ..Default::default() };
    let Some(p) = payment else {
        state.title = tr("Welcome");
        state.note = tr("Your total appears here");
        return state;
    };
    state.phase = phase;
    state.amount = grouped_amount(&p.amount, &p.currency);
    state.reference = Some(p.reference.clone());
    let wallet = p.wallet_label.as_deref().map(tr).unwrap_or_else(|| tr("your phone's camera"));
    (state.title, state.note) = match state.phase {
        Phase::Waiting => {
            state.qr = qr;
            (tr("Scan to pay"), i18n::tr_with(locale, "Scan with {wallet}", &[("wallet", &wallet)]))
        }
        Phase::Paid => (tr("PAID"), tr("Thank you!")),
        Phase::PartlyPaid => {
            // What arrived, large; what was asked and what is still due beneath it.
            let paid = p.paid_amount.clone().unwrap_or_else(|| "0".into());
            let due = p.due_amount.clone().unwrap_or_else(|| p.amount.clone());
            state.amount = grouped_amount(&paid, &p.currency);
            let note = i18n::tr_with(
                locale,
                "{paid} of {amount} received — {due} still due",
                &[
                    ("paid", &grouped_amount(&paid, &p.currency)),
                    ("amount", &grouped_amount(&p.amount, &p.currency)),
                    ("due", &grouped_amount(&due, &p.currency)),
                ],
            );
            (tr("PARTLY PAID"), note)
        }
        Phase::Cancelled => (tr("Sale cancelled"), tr("No money moved.")),
        Phase::Declined => (tr("Declined"), tr("No money moved. Please try another way to pay.")),
        Phase::Expired => (tr("Expired"), tr("No money moved.")),
        Phase::Idle => unreachable!("a payment is never idle"),
    };
    state
}

/// The environment of a sale's profile (None when the profile is gone).
fn environment_of(core: &Paydesk, profile: &str) -> Option<crate::Environment> {
    crate::blocking(|| core.profile(profile)).ok().map(|p| p.environment)
}

/// "DEMO" for a demo profile's sale.
fn demo_badge(locale: Locale, environment: Option<crate::Environment>) -> Option<String> {
    (environment == Some(crate::Environment::Demo)).then(|| i18n::tr(locale, "DEMO"))
}

/// The one customer display of this app: its state, shared by the window and the LAN page.
pub struct CustomerDisplay {
    state: watch::Sender<DisplayState>,
    shop: std::sync::Mutex<String>,
    /// The read-only LAN page while it runs.
    lan: std::sync::Mutex<Option<crate::listener::Server>>,
}

impl Default for CustomerDisplay {
    fn default() -> Self {
        let idle = state_for(i18n::current(), "", None, None);
        Self {
            state: watch::channel(idle).0,
            shop: std::sync::Mutex::new(String::new()),
            lan: std::sync::Mutex::new(None),
        }
    }
}

/// What Settings shows and saves of the customer display.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DisplaySettings {
    pub shop_name: Option<String>,
    /// The LAN page's address when it is on; none = off.
    pub lan_display: Option<String>,
    /// Where a tablet opens it, while it runs (reported, never saved).
    #[serde(default)]
    pub lan_url: Option<String>,
}

impl CustomerDisplay {
    pub fn current(&self) -> DisplayState {
        self.state.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<DisplayState> {
        self.state.subscribe()
    }

    fn set(&self, mut next: DisplayState) -> DisplayState {
        self.state.send_modify(|s| {
            next.seq = s.seq + 1;
            *s = next.clone();
        });
        next
    }

    /// The shop's name as the customer reads it.
    pub fn set_shop(&self, shop: &str) {
        *self.shop.lock().unwrap_or_else(|p| p.into_inner()) = shop.to_string();
        let mut s = self.current();
        s.shop = shop.to_string();
        self.set(s);
    }

    fn shop(&self) -> String {
        self.shop.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn lan(&self) -> std::sync::MutexGuard<'_, Option<crate::listener::Server>> {
        self.lan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where a tablet opens the LAN page, while it runs.
    pub fn lan_url(&self) -> Option<String> {
        self.lan().as_ref().map(|s| format!("http://{}/", s.addr()))
    }

    /// Starts the LAN page at `bind` (or stops it, with none), replacing the one running.
    pub async fn serve_on(self: &Arc<Self>, bind: Option<&str>) -> Result<(), AppError> {
        let server = match bind {
            Some(bind) => Some(serve_lan(self.clone(), parse_lan_bind(bind)?).await?),
            None => None,
        };
        // The old page stops as the new one is kept (at the same address, binding above failed).
        *self.lan() = server;
        Ok(())
    }

    /// The display's settings as saved in `home`, with the LAN page's address if it runs.
    pub fn settings(&self, home: &std::path::Path) -> DisplaySettings {
        let saved = crate::blocking(|| crate::settings::LocalSettings::load(home));
        DisplaySettings { shop_name: saved.shop_name, lan_display: saved.lan_display, lan_url: self.lan_url() }
    }

    /// Takes the saved settings on at start: the shop's name, and the LAN page when it was
    /// switched on (off by default).
    pub async fn start(self: &Arc<Self>, home: &std::path::Path) -> Result<(), AppError> {
        let saved = self.settings(home);
        self.set_shop(saved.shop_name.as_deref().unwrap_or(""));
        self.serve_on(saved.lan_display.as_deref()).await
    }

    /// Saves the shop name and the LAN page's address (none = off), switching the page on
    /// or off to match; returns what is now in force.
    pub async fn save_settings(
        self: &Arc<Self>,
        home: &std::path::Path,
        given: DisplaySettings,
    ) -> Result<DisplaySettings, AppError> {
        let shop_name =
            given.shop_name.map(|s| s.trim().chars().filter(|c| !c.is_control()).take(60).collect::<String>());
        let shop_name = shop_name.filter(|s| !s.is_empty());
        let lan = given.lan_display.map(|b| b.trim().to_string()).filter(|b| !b.is_empty());
        self.serve_on(lan.as_deref()).await?;
        crate::blocking(|| {
            let mut s = crate::settings::LocalSettings::load(home);
            s.shop_name = shop_name.clone();
            s.lan_display = lan.clone();
            s.save(home)
        })?;
        self.set_shop(shop_name.as_deref().unwrap_or(""));
        Ok(DisplaySettings { shop_name, lan_display: lan, lan_url: self.lan_url() })
    }

    /// Shows a sale (its amount and QR), or the idle screen for `None`.
    pub fn show(&self, core: &Paydesk, reference: Option<&str>) -> Result<DisplayState, AppError> {
        let locale = i18n::current();
        let Some(reference) = reference else {
            return Ok(self.set(state_for(locale, &self.shop(), None, None)));
        };
        let payment = crate::blocking(|| core.payment(reference))?;
        let qr = match (&payment.link, phase_of(payment.status)) {
            (Some(_), Phase::Waiting) => {
                // One pixel per module: the display scales it crisply.
                let png = crate::blocking(|| core.qr_png(reference, 0))?;
                Some(format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)))
            }
            _ => None,
        };
        let mut state = state_for(locale, &self.shop(), Some(&payment), qr);
        let environment = environment_of(core, &payment.profile);
        // A provider's own pages (its sandbox or production) are the customer's to pay or
        // leave; the demo's and a custom emulator's cashier pages also decline.
        if !matches!(environment, Some(crate::Environment::Sandbox | crate::Environment::Production)) {
            state.lan_note = Some(i18n::tr(locale, "Scan the QR on the counter's screen"));
        }
        state.badge = demo_badge(locale, environment);
        Ok(self.set(state))
    }

    /// The sale the cashier just cancelled, for a moment: "Sale cancelled", its amount,
    /// no QR. The counter shows Welcome again a few seconds later.
    pub fn show_cancelled(&self, core: &Paydesk, reference: &str) -> Result<DisplayState, AppError> {
        let locale = i18n::current();
        let payment = crate::blocking(|| core.payment(reference))?;
        let mut state = state_in(locale, &self.shop(), Some(&payment), None, Phase::Cancelled);
        state.badge = demo_badge(locale, environment_of(core, &payment.profile));
        Ok(self.set(state))
    }

    /// A payment changed in the ledger: if it is the sale on display, the display follows
    /// (PAID, Declined, Expired) at once.
    pub fn payment_changed(&self, payment: &PaymentView) -> Option<DisplayState> {
        let current = self.current();
        if current.reference.as_deref() != Some(payment.reference.as_str()) {
            return None;
        }
        if current.phase == Phase::Cancelled {
            // Cancelled at the counter: a late word from the provider waits for the counter.
            return None;
        }
        let mut next = state_for(i18n::current(), &current.shop, Some(payment), current.qr.clone());
        next.lan_note = current.lan_note.clone();
        next.badge = current.badge.clone();
        if next.phase == current.phase {
            return None;
        }
        Some(self.set(next))
    }

    /// Follows every status change the core makes, for as long as the core lives (the
    /// host spawns it on its runtime).
    pub async fn follow(self: Arc<Self>, core: Arc<Paydesk>) {
        let mut changes = core.status_changes();
        loop {
            match changes.recv().await {
                // 0 and below are not payments (the server came back, profiles changed).
                Ok(id) if id <= 0 => continue,
                Ok(id) => {
                    let found = core.payment_by_id(id);
                    if let Ok(Some(view)) = found {
                        self.payment_changed(&view);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            }
        }
    }
}

/// Checks the address the LAN page is to listen on ("0.0.0.0:8790", "192.168.1.20:8790").
pub fn parse_lan_bind(bind: &str) -> Result<SocketAddr, AppError> {
    bind.trim().parse().map_err(|_| {
        AppError::invalid("lan_display", format!("must be ADDR:PORT, e.g. 0.0.0.0:8790 (got '{bind}')"))
            .because(RuleId::AddressAndPort)
    })
}

/// The read-only customer display page on the local network: `GET /` (the page) and
/// `GET /sale` (the current sale, waiting up to 25 s for a change when asked with
/// `?after=SEQ`). Nothing else is served: no ledger, no history, no actions.
pub async fn serve_lan(display: Arc<CustomerDisplay>, bind: SocketAddr) -> Result<crate::listener::Server, AppError> {
    use axum::extract::{Query, State};
    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;

    #[derive(serde::Deserialize)]
    struct After {
        after: Option<u64>,
    }

    async fn page() -> impl IntoResponse {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_FRAME_OPTIONS, "DENY"),
            ],
            include_str!("display_page.html"),
        )
    }

    async fn sale(State(display): State<Arc<CustomerDisplay>>, Query(q): Query<After>) -> impl IntoResponse {
        let mut changes = display.subscribe();
        if let Some(seen) = q.after {
            if changes.borrow().seq == seen {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(25), changes.changed()).await;
            }
        }
        let state = changes.borrow().for_lan();
        ([(header::CACHE_CONTROL, "no-store")], axum::Json(state))
    }

    let app = axum::Router::new().route("/", get(page)).route("/sale", get(sale)).with_state(display);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| AppError::invalid("lan_display", format!("cannot listen on {bind} ({e})")))?;
    let addr = listener.local_addr().map_err(|e| AppError::Internal { message: e.to_string() })?;
    Ok(crate::listener::Server::spawn(listener, addr, app, paydesk_doors::Limits::DISPLAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lan_page_never_carries_a_link_that_acts_on_the_sale() {
        let waiting = DisplayState {
            phase: Phase::Waiting,
            qr: Some("data:image/png;base64,AAAA".into()),
            reference: Some("PD-1".into()),
            note: "Scan with Alipay".into(),
            ..Default::default()
        };
        let own = waiting.for_lan();
        assert_eq!((own.qr.as_deref(), own.reference.as_deref()), (Some("data:image/png;base64,AAAA"), None));
        let emulated = DisplayState { lan_note: Some("Scan the QR on the counter's screen".into()), ..waiting };
        let lan = emulated.for_lan();
        assert_eq!((lan.qr, lan.reference), (None, None));
        assert_eq!(lan.note, "Scan the QR on the counter's screen");
        assert!(!serde_json::to_string(&emulated).unwrap().contains("lan_note"), "never sent to a window either");
    }

    #[test]
    fn groups_amounts() {
        assert_eq!(grouped_amount("1234567.50", "USD"), "1,234,567.50 USD");
        assert_eq!(grouped_amount("500", "TWD"), "500 TWD");
        assert_eq!(grouped_amount("1000", "TWD"), "1,000 TWD");
        assert_eq!(grouped_amount("0.50", "USD"), "0.50 USD");
    }
}
