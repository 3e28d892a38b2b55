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
    /// The profile settings it declares: the Settings form is made from them.
    pub settings: Vec<SettingInfo>,
    pub secret: SecretInfo,
}

/// One declared profile setting, as the form shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SettingInfo {
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// "text", "digits", "pem" (several lines), "ip" or "flag" (yes/no).
    pub kind: &'static str,
    pub max_chars: usize,
    /// The word before its value in a profile's summary; empty: not shown there.
    pub summary: &'static str,
}

/// The secret a profile needs, as the form and the summary name it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretInfo {
    pub label: &'static str,
    pub multiline: bool,
    pub summary: &'static str,
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
            settings: c
                .settings
                .iter()
                .map(|s| SettingInfo {
                    key: s.key,
                    label: s.form_label,
                    required: s.required,
                    kind: if s.flag {
                        "flag"
                    } else if s.public_key_pem {
                        "pem"
                    } else if s.ip_address {
                        "ip"
                    } else if s.digits_only {
                        "digits"
                    } else {
                        "text"
                    },
                    max_chars: s.max_chars,
                    summary: s.summary,
                })
                .collect(),
            secret: SecretInfo { label: c.secret.form_label, multiline: c.secret.multiline, summary: c.secret.summary },
        }
    }
}

/// Every payment status's word for people, by its stored name ("failed" → "Declined"): the
/// screens show these (translated), never a table of their own.
/// In the state machine's order (a payment's life), as lists show them.
pub fn status_labels() -> Vec<(&'static str, &'static str)> {
    paydesk_gateways::PaymentStatus::ALL.into_iter().map(|s| (s.as_str(), s.label())).collect()
}

/// The provider a profile is for when none is named: the first the registry lists.
pub fn default_provider() -> &'static str {
    PROVIDERS[0].capabilities().provider
}

/// What every provider offers, for the screens.
pub fn provider_infos() -> Vec<ProviderInfo> {
    PROVIDERS.iter().map(|p| ProviderInfo::from(p.capabilities())).collect()
}
