//! The providers Paydesk speaks and what each offers (wallets, currencies, flows), as the
//! screens read it: a counter shows a provider's choices only where it has them.

pub use paydesk_gateways::gateway::{Capabilities, Flow, PayMethod, PayerChannel, Wallet};
pub use paydesk_gateways::registry::{capabilities_of, PROVIDERS};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ProviderInfo {
    pub provider: &'static str,
    pub label: &'static str,
    /// The flows it offers ("checkout", "capture", "tokens", …).
    pub flows: Vec<&'static str>,
    /// "qr" and/or "link".
    pub methods: Vec<&'static str>,
    /// Wallets for a counter QR and for a link (empty: its page offers the choice).
    pub counter_wallets: Vec<Wallet>,
    pub link_wallets: Vec<Wallet>,
    pub currencies: Vec<CurrencyInfo>,
    /// The payer's fields every sale asks for, and the channels with what each adds.
    pub payer_fields: Vec<&'static str>,
    pub payer_channels: Vec<PayerChannel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrencyInfo {
    pub code: &'static str,
    /// Digits after the decimal point, so the keypad can refuse a third decimal.
    pub exponent: u8,
}

impl From<&Capabilities> for ProviderInfo {
    fn from(c: &Capabilities) -> Self {
        ProviderInfo {
            provider: c.provider,
            label: c.label,
            flows: c.flows.iter().map(|f| f.as_str()).collect(),
            methods: c
                .methods
                .iter()
                .map(|m| match m {
                    PayMethod::CounterQr => "qr",
                    PayMethod::Link => "link",
                })
                .collect(),
            counter_wallets: c.counter_wallets.to_vec(),
            link_wallets: c.link_wallets.to_vec(),
            currencies: c
                .currencies
                .iter()
                .filter_map(|code| paydesk_gateways::Currency::from_code(code).ok())
                .map(|c| CurrencyInfo { code: c.code(), exponent: c.exponent() })
                .collect(),
            payer_fields: c.payer_fields.to_vec(),
            payer_channels: c.payer_channels.to_vec(),
        }
    }
}

/// What every provider offers, for the screens.
pub fn provider_infos() -> Vec<ProviderInfo> {
    PROVIDERS.iter().map(|p| ProviderInfo::from(p.capabilities())).collect()
}
