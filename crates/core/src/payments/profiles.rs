//! Profiles as the core keeps them: the demo's and the ledger's, saved with their secret
//! checked, and the one reused gateway each sells through.

use super::*;

impl Paydesk {
    pub fn profile(&self, name: &str) -> Result<Profile, AppError> {
        crate::blocking(|| {
            if is_demo_name(name) {
                let demo = self.demo().ok_or_else(|| AppError::ProfileNotFound {
                    profile: name.into(),
                    message: "Demo mode is not running in this process".into(),
                })?;
                return demo.profile(name).ok_or_else(|| AppError::ProfileNotFound {
                    profile: name.into(),
                    message: format!("No demo profile named '{name}'"),
                });
            }
            self.ledger().profile(name)?.map(Profile::from).ok_or_else(|| AppError::ProfileNotFound {
                profile: name.into(),
                message: format!("No profile named '{name}'. Add it with `paydesk profile add` or in Settings."),
            })
        })
    }

    pub fn profiles(&self) -> Result<Vec<Profile>, AppError> {
        let mut all: Vec<Profile> = self.demo().map(|d| d.profiles()).unwrap_or_default();
        all.extend(self.ledger().profiles()?.into_iter().map(Profile::from));
        Ok(all)
    }

    /// Saves a profile. An existing name is replaced only when asked (`replace`); where it
    /// would send sales elsewhere (another provider, base URL or merchant ids), only a
    /// counter holding the profile's secret may (one without it can only read, so a home
    /// without the secret cannot redirect another counter's sales). Every change is an
    /// event in the ledger's sealed history.
    pub fn save_profile(&self, input: ProfileInput) -> Result<Profile, AppError> {
        let (replace, shop_given) = (input.replace, input.shop.is_some());
        let mut row: ProfileRow = input.validate()?;
        crate::blocking(|| {
            let before = self.ledger().profile(&row.name)?;
            // Edited without naming a shop (the window's form): it stays where it was.
            if let (Some(before), false) = (&before, shop_given) {
                row.shop = before.shop.clone();
            }
            // A production profile sells for real: its secret is here (or saved in the same
            // step, which the app and `profile add --secret-stdin` do first).
            if row.environment == crate::Environment::Production.as_str() && secrets::load_secret(&row.name).is_err() {
                return Err(AppError::SecretMissing {
                    profile: row.name.clone(),
                    message: format!(
                        "Profile '{}' is a production profile: save its secret in the same step (Settings, or \
                         `paydesk profile add … --secret-stdin`), so it is never saved unable to sell.",
                        row.name
                    ),
                });
            }
            if let Some(before) = &before {
                if !replace {
                    return Err(AppError::invalid(
                        "name",
                        format!(
                            "a profile named '{}' exists; add --replace (or edit it in Settings) to change it",
                            row.name
                        ),
                    ));
                }
                let redirects = before.provider != row.provider
                    || before.base_url != row.base_url
                    || before.private_network != row.private_network
                    || before.settings != row.settings;
                if redirects && secrets::load_secret(&row.name).is_err() {
                    return Err(AppError::SecretMissing {
                        profile: row.name.clone(),
                        message: format!(
                            "This counter has no secret for profile '{}', so it cannot change where its sales go \
                             (provider, base URL, merchant settings). Change it from a counter that has the secret, \
                             or save the secret here first.",
                            row.name
                        ),
                    });
                }
            }
            let changed: Vec<&str> = match &before {
                None => vec!["created"],
                Some(b) => [
                    ("provider", b.provider != row.provider),
                    ("base_url", b.base_url != row.base_url),
                    ("settings", b.settings != row.settings),
                    ("ipn_url", b.ipn_url != row.ipn_url),
                    ("callback_url", b.callback_url != row.callback_url),
                    ("ipn_listen", b.ipn_listen != row.ipn_listen),
                    ("private_network", b.private_network != row.private_network),
                ]
                .into_iter()
                .filter_map(|(f, c)| c.then_some(f))
                .collect(),
            };
            let ledger = self.ledger();
            ledger.batch(|l| {
                l.save_profile(&row)?;
                l.append_event(
                    None,
                    "profile_saved",
                    &serde_json::json!({"profile": row.name, "changed": changed, "provider": row.provider,
                                        "base_url": row.base_url, "by": paydesk_ledger::this_process()}),
                )
            })?;
            self.remember_shared_profiles(&ledger);
            let mut saved: Profile = row.into();
            if let Some(addr) = saved.ipn_listen.as_deref().and_then(|a| a.parse::<std::net::SocketAddr>().ok()) {
                if addr.ip().is_unspecified() {
                    saved.warnings.push(format!(
                        "The notification listener for '{}' listens on every network interface ({addr}): anyone who \
                         can reach this computer can post to it. Notifications are verified, but bind it to the one \
                         address your tunnel or router forwards to if you can.",
                        saved.name
                    ));
                }
            }
            Ok(saved)
        })
    }

    /// Profiles saved and removed (of `name`, or all), newest first, from the sealed history.
    pub fn profile_history(&self, name: Option<&str>, limit: i64) -> Result<Vec<paydesk_ledger::EventRow>, AppError> {
        let limit = limit.clamp(1, 1000);
        crate::blocking(|| {
            // Read a generous window, then keep the named profile's (a handful of changes a year).
            let events = self.ledger().profile_events(if name.is_some() { 1000 } else { limit })?;
            Ok(events
                .into_iter()
                .filter(|e| name.is_none_or(|n| e.detail["profile"] == n))
                .take(limit as usize)
                .collect())
        })
    }

    pub fn remove_profile(&self, name: &str) -> Result<bool, AppError> {
        crate::blocking(|| {
            let ledger = self.ledger();
            Ok(ledger
                .batch(|l| {
                    let removed = l.remove_profile(name)?;
                    if removed {
                        l.append_event(
                            None,
                            "profile_removed",
                            &serde_json::json!({"profile": name, "by": paydesk_ledger::this_process()}),
                        )?;
                    }
                    Ok(removed)
                })
                .inspect(|_| self.remember_shared_profiles(&ledger))?)
        })
    }

    /// Keeps the shared ledger's profiles on this computer (for selling through an outage).
    pub(crate) fn remember_shared_profiles(&self, ledger: &Ledger) {
        if let (Some(url), true) = (self.shared_url(), ledger.is_shared()) {
            if let Err(e) = crate::journal::remember_profiles(&self.home, url, ledger) {
                tracing::warn!("{e}");
            }
        }
    }

    pub(crate) fn token_for(&self, profile: &Profile) -> Result<ApiSecret, AppError> {
        crate::blocking(|| {
            if profile.environment == Environment::Demo {
                if let Some(secret) = self.demo().and_then(|d| d.secret_for(&profile.name)) {
                    return Ok(secret);
                }
            }
            secrets::load_secret(&profile.name).map_err(|e| match e {
                // On a shared ledger the sales are everyone's, the secrets each machine's.
                AppError::SecretMissing { profile, .. } if self.ledger_is_shared() => AppError::SecretMissing {
                    message: format!(
                        "This counter has no API secret for profile '{profile}': it can see the profile's sales on the \
                         shared ledger but cannot act on them. Act from a counter that has the secret, or save it here \
                         with `paydesk secret set {profile}` or in Settings."
                    ),
                    profile,
                },
                other => other,
            })
        })
    }

    /// The profile's gateway, with its secret from the keyring and its reused HTTP client.
    pub(crate) fn gateway_for(&self, profile: &Profile) -> Result<AnyGateway, AppError> {
        let secret = self.token_for(profile)?;
        let http = self
            .http_clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(profile.name.clone())
            .or_insert_with(paydesk_gateways::http::client)
            .clone();
        Ok(AnyGateway::new(GatewaySetup {
            provider: &profile.provider,
            profile: &profile.name,
            notify_url: profile.ipn_url.as_deref(),
            base_url: &profile.base_url,
            settings: &profile.settings,
            secret,
            http,
        })?)
    }
}
