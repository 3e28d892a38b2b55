//! Merchant profiles: which provider, where, and as whom. The token is in the keyring.

use crate::AppError;
use paydesk_gateways::RuleId;
use paydesk_ledger::ProfileRow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The built-in profile that talks to the embedded sandbox; needs no set-up. Further demo
/// profiles (one per provider) are named `demo-…`.
pub const DEMO_PROFILE: &str = "demo";

/// Whether a name is one demo mode may use (so no saved profile may take it).
pub fn is_demo_name(name: &str) -> bool {
    name == DEMO_PROFILE || name.starts_with("demo-")
}

/// Demo mode as the host switched it on: the sandbox's address, the demo merchants and
/// the local listener (if any).
pub struct DemoContext {
    /// The sandbox's address: loopback, or its network door's while phones may pay.
    pub(crate) base_url: std::sync::RwLock<String>,
    /// The embedded sandbox's own address (what `base_url` returns to when the door closes).
    pub(crate) own_url: String,
    pub(crate) network_door: Option<std::sync::Arc<dyn paydesk_gateways::demo::NetworkDoor>>,
    pub(crate) merchants: Vec<paydesk_gateways::demo::DemoMerchant>,
    pub listener: Option<crate::listener::NotificationListener>,
    /// What the host asked to keep alive with demo mode (its embedded sandbox).
    pub(crate) keep_alive: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl DemoContext {
    /// The sandbox demo mode sells against.
    pub fn base_url(&self) -> String {
        self.base_url.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_base_url(&self, url: String) {
        *self.base_url.write().unwrap_or_else(|p| p.into_inner()) = url;
    }

    /// What the host handed over to keep alive, if it is a `T` (tests reach the embedded
    /// sandbox this way).
    pub fn kept<T: 'static>(&self) -> Option<&T> {
        self.keep_alive.as_ref()?.downcast_ref::<T>()
    }

    /// Every demo profile, the default one first.
    pub fn profiles(&self) -> Vec<Profile> {
        self.merchants.iter().map(|m| self.profile_of(m)).collect()
    }

    pub fn profile(&self, name: &str) -> Option<Profile> {
        self.merchants.iter().find(|m| m.profile == name).map(|m| self.profile_of(m))
    }

    pub(crate) fn secret_for(&self, name: &str) -> Option<paydesk_gateways::ApiSecret> {
        self.merchants.iter().find(|m| m.profile == name).map(|m| m.secret.clone())
    }

    fn profile_of(&self, m: &paydesk_gateways::demo::DemoMerchant) -> Profile {
        let root = &self.base_url();
        Profile {
            name: m.profile.clone(),
            provider: m.provider.clone(),
            environment: Environment::Demo,
            ipn_url: Some(match &self.listener {
                Some(l) => l.url_for(&m.provider, &m.profile),
                None => format!("{root}{}", m.notify_sink),
            }),
            callback_url: Some(format!("{root}/return")),
            base_url: format!("{root}{}", m.path),
            settings: m.settings.clone(),
            ipn_listen: self.listener.as_ref().map(|l| l.addr().to_string()),
            // The demo's sandbox may be on the shop's network (paying from a phone).
            private_network: true,
            shop: paydesk_ledger::MAIN_SHOP.into(),
            warnings: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Demo,
    Sandbox,
    Production,
    Custom,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Demo => "demo",
            Self::Sandbox => "sandbox",
            Self::Production => "production",
            Self::Custom => "custom",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "demo" => Self::Demo,
            "sandbox" => Self::Sandbox,
            "production" => Self::Production,
            _ => Self::Custom,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub provider: String,
    pub environment: Environment,
    pub base_url: String,
    /// Provider-specific settings (merchant_no, store_no...), shown beside the
    /// common fields in JSON.
    #[serde(flatten)]
    pub settings: BTreeMap<String, String>,
    pub ipn_url: Option<String>,
    pub callback_url: Option<String>,
    /// Where this profile wants the local notification listener (None: off).
    pub ipn_listen: Option<String>,
    /// Its provider, links and notification URLs may be on the shop's private network.
    #[serde(default)]
    pub private_network: bool,
    /// The shop it sells for ("main" where there is one).
    pub shop: String,
    /// What saving it found worth a second look (a listener on every interface).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl From<ProfileRow> for Profile {
    fn from(r: ProfileRow) -> Self {
        Profile {
            environment: Environment::parse(&r.environment),
            name: r.name,
            provider: r.provider,
            base_url: r.base_url,
            settings: r.settings,
            ipn_url: r.ipn_url,
            callback_url: r.callback_url,
            ipn_listen: r.ipn_listen,
            private_network: r.private_network,
            shop: r.shop,
            warnings: Vec::new(),
        }
    }
}

impl Profile {
    /// The provider's name as people write it.
    pub fn provider_label(&self) -> &'static str {
        paydesk_gateways::registry::capabilities_of(&self.provider).map(|c| c.label).unwrap_or("The provider")
    }

    /// Who the profile sells as, for messages ("merchant number 200043"): the provider's
    /// first setting.
    pub fn account_label(&self) -> String {
        let first = paydesk_gateways::registry::capabilities_of(&self.provider).and_then(|c| c.settings.first());
        match first {
            Some(spec) => format!("{} {}", spec.label, self.settings.get(spec.key).map(String::as_str).unwrap_or("?")),
            None => self.name.clone(),
        }
    }
}

/// What a person gives to add a profile. `base_url` may be "sandbox"/"production" or a URL;
/// every other field is a provider setting (`merchant_no`, `store_no`...).
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileInput {
    pub name: String,
    pub provider: String,
    pub base_url: String,
    pub ipn_url: Option<String>,
    pub callback_url: Option<String>,
    /// ADDR:PORT to run the local notification listener on for this profile; None leaves it off.
    #[serde(default)]
    pub ipn_listen: Option<String>,
    /// Allows addresses on the shop's private network (RFC 1918, unique local) for the
    /// base URL, the notification and return URLs and the provider's links.
    #[serde(default)]
    pub private_network: bool,
    /// Replaces a profile of the same name (without it, an existing name is refused).
    #[serde(default)]
    pub replace: bool,
    /// The shop it sells for; None: "main" for a new profile, the same shop when replacing.
    #[serde(default)]
    pub shop: Option<String>,
    /// The provider's own settings; empty or null values count as not given.
    #[serde(flatten)]
    pub settings: BTreeMap<String, serde_json::Value>,
}

impl ProfileInput {
    /// Checks the whole form and names every problem at once (`AppError::InvalidInput`
    /// with `problems`), so a person fixes them in one go.
    pub fn validate(self) -> Result<ProfileRow, AppError> {
        let name = self.name.trim().to_string();
        let mut problems = Vec::new();
        if name.is_empty() || name.len() > 40 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
            // The name is a keyring key and part of a notification path: nothing that
            // could be read as a path (`.`, `..`), a separator or an invisible character.
            problems
                .push(AppError::invalid("name", "1 to 40 letters, digits, '-' or '_'").because(RuleId::ProfileName));
        } else if is_demo_name(&name) {
            problems.push(
                AppError::invalid(
                    "name",
                    format!("'{name}' is kept for the built-in demo profiles ('demo', 'demo-…'); choose another name"),
                )
                .because(RuleId::DemoName),
            );
        }
        let Some(caps) = paydesk_gateways::registry::capabilities_of(&self.provider) else {
            let known: Vec<_> =
                paydesk_gateways::registry::PROVIDERS.iter().map(|p| p.capabilities().provider).collect();
            return Err(AppError::invalid(
                "provider",
                format!("'{}' is not one Paydesk speaks; use {}", self.provider, known.join(", ")),
            ));
        };
        let (environment, base_url) = match self.base_url.trim() {
            "sandbox" => (Environment::Sandbox, caps.sandbox_url.to_string()),
            "production" => (Environment::Production, caps.production_url.to_string()),
            url => {
                if let Err(e) = paydesk_gateways::links::check_base_url("base_url", url, self.private_network) {
                    problems.push(e.into());
                }
                let url = url.trim_end_matches('/').to_string();
                let env = if url == caps.production_url {
                    Environment::Production
                } else if url == caps.sandbox_url {
                    Environment::Sandbox
                } else {
                    Environment::Custom
                };
                (env, url)
            }
        };
        let given: BTreeMap<String, String> = self
            .settings
            .iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                _ => None,
            })
            .collect();
        let settings = caps.check_all_settings(&given).unwrap_or_else(|found| {
            problems.extend(found.into_iter().map(AppError::from));
            BTreeMap::new()
        });
        // Every provider sends notifications and returns the customer somewhere: a profile
        // without both could not sell, so it is not saved.
        for (field, value, what) in [
            ("ipn_url", &self.ipn_url, "where the provider sends its payment notifications"),
            ("callback_url", &self.callback_url, "where the customer returns after paying"),
        ] {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => problems.push(
                    AppError::invalid(field, format!("is required ({what}), or the counter cannot sell"))
                        .because(RuleId::Required),
                ),
                Some(v) => {
                    let checked = paydesk_gateways::links::check_http_url(field, v)
                        .and_then(|_| {
                            paydesk_gateways::text::check_line(field, v, paydesk_gateways::links::MAX_LINK_LEN)
                        })
                        .and_then(|_| {
                            paydesk_gateways::links::check_callback_url(field, v, &base_url, self.private_network)
                        })
                        .and_then(|_| {
                            // Real money: the provider posts payment results there and the
                            // customer returns through it, never in the clear.
                            if environment == Environment::Production && !v.starts_with("https://") {
                                Err(paydesk_gateways::ValidationError::new(
                                    field,
                                    "must be https for a production profile",
                                )
                                .because(RuleId::WebAddress))
                            } else {
                                Ok(())
                            }
                        });
                    if let Err(e) = checked {
                        problems.push(e.into());
                    }
                }
            }
        }
        let ipn_listen = self.ipn_listen.map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
        if let Some(addr) = &ipn_listen {
            if addr.parse::<std::net::SocketAddr>().is_err() {
                problems.push(
                    AppError::invalid("ipn_listen", format!("must be ADDR:PORT, e.g. 127.0.0.1:8788 (got '{addr}')"))
                        .because(RuleId::AddressAndPort),
                );
            }
        }
        let shop = self.shop.as_deref().map(str::trim).unwrap_or(paydesk_ledger::MAIN_SHOP).to_string();
        if shop.is_empty()
            || shop.chars().count() > 40
            || !shop.chars().all(|c| c.is_alphanumeric() || " -_".contains(c))
        {
            problems.push(
                AppError::invalid("shop", "1 to 40 letters, digits, spaces, '-' or '_' (e.g. Taipei-101)".to_string())
                    .because(RuleId::ProfileName),
            );
        }
        if let Some(all) = AppError::invalid_all(problems) {
            return Err(all);
        }
        Ok(ProfileRow {
            shop,
            ipn_listen,
            name,
            provider: self.provider,
            environment: environment.as_str().into(),
            base_url,
            settings,
            ipn_url: self.ipn_url,
            callback_url: self.callback_url,
            private_network: self.private_network,
        })
    }
}
