//! `profile …` and `secret …`: where sales go, with the secret in the OS keyring.

use crate::*;

#[derive(Subcommand)]
pub(crate) enum ProfileCommand {
    Add {
        name: String,
        /// The provider's id; default: the first Paydesk offers.
        #[arg(long, default_value = paydesk_core::providers::default_provider())]
        provider: String,
        /// "sandbox", "production" or a URL.
        #[arg(long)]
        base_url: String,
        /// One of the provider's settings, by the key it declares (repeat for each;
        /// `KEY=@FILE` reads the value from a file). The flags under "Provider settings" are
        /// the same settings under names of their own.
        #[arg(long = "setting", value_name = "KEY=VALUE")]
        setting: Vec<String>,
        #[command(flatten)]
        declared: crate::declared::DeclaredSettings,
        #[arg(long)]
        ipn_url: Option<String>,
        #[arg(long)]
        callback_url: Option<String>,
        /// The shop it sells for (several shops may share one ledger); default "main", and
        /// the same shop when replacing.
        #[arg(long)]
        shop: Option<String>,
        /// Run the notification listener for this profile on ADDR:PORT (`paydesk ipn listen`, the app).
        #[arg(long)]
        ipn_listen: Option<String>,
        /// Allow addresses on the shop's private network (10/8, 172.16/12, 192.168/16, fc00::/7)
        /// for the base URL, notification and return URLs and the provider's links.
        #[arg(long)]
        private_network: bool,
        /// Replace the profile of this name (refused otherwise; changing where its sales go
        /// needs the profile's secret on this computer).
        #[arg(long)]
        replace: bool,
        /// Read the profile's secret (API token, app secret or private key) from standard
        /// input and save it in the OS keyring in the same step (production profiles need it).
        #[arg(long)]
        secret_stdin: bool,
    },
    List,
    Show {
        name: String,
    },
    /// Removes the profile and its saved API secret; its payments stay in the ledger.
    Remove {
        name: String,
    },
    /// Every change of profiles (or of one), newest first: what changed, when, by which process.
    History {
        name: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Checks the URL, merchant and API secret with a harmless query.
    Test {
        name: String,
        /// Also each request and answer (signatures removed), the clock skew to the
        /// provider, and a plain diagnosis: what to send the provider's support.
        #[arg(long)]
        verbose: bool,
    },
    /// Writes the last exchanges of this profile with its provider (payments' requests and
    /// answers, connection tests), signatures removed, for the provider's support.
    Transcript {
        name: String,
        #[arg(long, default_value_t = 20)]
        last: usize,
        /// A file to write (0600) instead of standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum SecretCommand {
    /// Reads the API secret from standard input and saves it in the OS keyring.
    Set { profile: String },
    /// Deletes the saved API secret.
    Delete { profile: String },
}

/// A secret typed or piped on standard input (`secret set`, `profile add --secret-stdin`).
pub(crate) fn read_secret_from_stdin() -> Result<ApiSecret, AppError> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| AppError::Internal { message: format!("cannot read standard input: {e}") })?;
    Ok(ApiSecret::new(input))
}

pub(crate) async fn profile(cmd: ProfileCommand) -> Result<Output, AppError> {
    let paydesk = open()?;
    match cmd {
        ProfileCommand::Add {
            name,
            provider,
            base_url,
            setting,
            declared,
            ipn_url,
            callback_url,
            ipn_listen,
            private_network,
            replace,
            secret_stdin,
            shop,
        } => {
            let settings = declared.into_values()?;
            let settings = with_settings_given(settings, &setting)?;
            let input = ProfileInput {
                name,
                provider,
                base_url,
                ipn_url,
                callback_url,
                ipn_listen,
                private_network,
                replace,
                shop,
                settings,
            };
            if secret_stdin {
                // Checked first, so a bad form never leaves a stray keyring entry.
                let profile: paydesk_core::Profile = input.clone().validate()?.into();
                let secret = read_secret_from_stdin()?;
                secrets::save_secret(&profile, &secret)?;
            }
            let p = paydesk.save_profile(input)?;
            for warning in &p.warnings {
                eprintln!("paydesk: warning: {warning}");
            }
            let text = say(
                "saved profile {profile} ({provider}, {url})",
                &[("profile", &p.name), ("provider", &p.provider), ("url", &p.base_url)],
            );
            out(to_json(&p), text)
        }
        ProfileCommand::List => {
            let list = paydesk.profiles()?;
            let text = list
                .iter()
                .map(|p| format!("{}\t{}\t{}\t{}", p.name, p.provider, p.environment.as_str(), p.base_url))
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&list), text)
        }
        ProfileCommand::History { name, limit } => {
            let changes = paydesk.profile_history(name.as_deref(), limit)?;
            let text = changes
                .iter()
                .map(|e| {
                    let changed = e.detail["changed"]
                        .as_array()
                        .map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "));
                    format!(
                        "{}\t{}\t{}\t{}",
                        e.at,
                        e.kind,
                        e.detail["profile"].as_str().unwrap_or(""),
                        changed.unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&changes), text)
        }
        ProfileCommand::Show { name } => {
            let p = paydesk.profile(&name)?;
            let saved = secrets::status_of(&p);
            let mut doc = to_json(&p);
            doc["token"] = json!(saved);
            let mut text = format!(
                "{}\nprovider {}\nenvironment {}\nbase_url {}\n",
                p.name,
                p.provider,
                p.environment.as_str(),
                p.base_url
            );
            for (key, value) in &p.settings {
                text.push_str(&format!("{key} {value}\n"));
            }
            text.push_str(&format!(
                "ipn_url {}\ncallback_url {}\ntoken {saved}",
                p.ipn_url.clone().unwrap_or_default(),
                p.callback_url.clone().unwrap_or_default()
            ));
            out(doc, text)
        }
        ProfileCommand::Test { name, verbose: false } => {
            paydesk.ensure_demo(&name).await?;
            let message = paydesk.test_connection(&name).await?;
            out(json!({"profile": name, "ok": true, "message": message}), message)
        }
        ProfileCommand::Test { name, verbose: true } => {
            paydesk.ensure_demo(&name).await?;
            let report = paydesk.diagnose_connection(&name).await?;
            let mut text = format!("{}: {}\n{}", report.diagnosis, report.profile, report.message);
            if let Some(skew) = report.clock_skew_ms {
                text.push_str(&format!("\nclock skew to the provider: {:+.1} s", skew as f64 / 1000.0));
            }
            for x in &report.exchanges {
                text.push_str(&format!("\n{}", serde_json::to_string_pretty(x).unwrap_or_default()));
            }
            let code = if report.ok { 0 } else { 1 };
            Ok(Output { json: to_json(&report), text, data_on_stdout: false, code })
        }
        ProfileCommand::Transcript { name, last, output } => {
            paydesk.ensure_demo(&name).await?;
            let exchanges = paydesk.transcript(&name, last)?;
            let doc = json!({"profile": name, "exchanges": exchanges});
            match output {
                Some(path) => {
                    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                    paydesk_ledger::create_private_file(&path)
                        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
                        .map_err(|e| AppError::invalid("output", format!("cannot write {} ({e})", path.display())))?;
                    let said = say("written to {file}", &[("file", &path.display())]);
                    out(json!({"profile": name, "exchanges": exchanges.len(), "file": path}), said)
                }
                None => {
                    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                    out(doc, text)
                }
            }
        }
        ProfileCommand::Remove { name } => {
            let removed = paydesk.remove_profile(&name)?;
            if !removed {
                return Err(AppError::ProfileNotFound { message: format!("No profile named '{name}'"), profile: name });
            }
            let token_deleted = secrets::delete_secret(&name).unwrap_or(false);
            out(
                json!({"removed": name, "token_deleted": token_deleted}),
                say("removed profile {profile}; its payments stay in the ledger", &[("profile", &name)]),
            )
        }
    }
}

pub(crate) async fn secret(cmd: SecretCommand) -> Result<Output, AppError> {
    match cmd {
        SecretCommand::Set { profile } => {
            // A secret for a profile that does not exist would sit in the keyring unused.
            let found = open()?.profile(&profile).map_err(|e| match e {
                AppError::ProfileNotFound { profile, .. } => AppError::ProfileNotFound {
                    message: format!(
                        "No profile named '{profile}'; add it first (`paydesk profile add`), then save its secret."
                    ),
                    profile,
                },
                other => other,
            })?;
            secrets::save_secret(&found, &read_secret_from_stdin()?)?;
            let text = say("secret for {profile} saved in the OS keyring", &[("profile", &profile)]);
            out(json!({"profile": profile, "token": "saved"}), text)
        }
        SecretCommand::Delete { profile } => {
            let deleted = secrets::delete_secret(&profile)?;
            out(
                json!({"profile": profile, "deleted": deleted}),
                if deleted { "deleted" } else { "no API secret was saved" },
            )
        }
    }
}

/// The provider's settings given as `--setting KEY=VALUE` over those given by their own
/// flags; the same key given twice with two values is refused. Which keys the provider
/// takes is its declaration's to say (`validate` names the ones it knows).
fn with_settings_given(
    mut settings: std::collections::BTreeMap<String, Value>,
    given: &[String],
) -> Result<std::collections::BTreeMap<String, Value>, AppError> {
    for pair in given {
        let Some((key, value)) = pair.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            return Err(AppError::invalid("setting", format!("KEY=VALUE, e.g. merchant_no=200043 (got '{pair}')")));
        };
        let key = key.trim();
        let value = match value.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| AppError::invalid("setting", format!("cannot read {path} for {key} ({e})")))?,
            None => value.to_string(),
        };
        match settings.get(key) {
            Some(Value::String(before)) if *before != value => {
                return Err(AppError::invalid(
                    "setting",
                    format!("{key} is given twice, as '{before}' and as '{value}'"),
                ));
            }
            _ => {
                settings.insert(key.to_string(), Value::String(value));
            }
        }
    }
    Ok(settings)
}
