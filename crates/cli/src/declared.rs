//! `profile add`'s flags for provider settings, made from what the providers declare: a
//! setting a provider declares gets its own flag (`merchant_no` → `--merchant-no`), a PEM key
//! is read from the file named, a yes/no setting is a bare flag. `--setting KEY=VALUE` names
//! the same settings by key.

use clap::{Arg, ArgAction, ArgMatches, Command};
use paydesk_core::AppError;
use paydesk_gateways::gateway::Capabilities;
use serde_json::Value;
use std::collections::BTreeMap;

/// The settings `profile add` was given by their own flags.
#[derive(Debug, Default)]
pub(crate) struct DeclaredSettings {
    given: Vec<(&'static str, String)>,
    /// The declarations they were made from: what each flag means.
    declared: Vec<&'static paydesk_gateways::settings::Setting>,
}

/// Every setting key once, in the order declared, with the providers that declare it.
fn settings_of(
    declared: &[&'static Capabilities],
) -> Vec<(&'static paydesk_gateways::settings::Setting, Vec<&'static str>)> {
    let mut keys: Vec<(&'static paydesk_gateways::settings::Setting, Vec<&'static str>)> = Vec::new();
    for caps in declared {
        for setting in caps.settings {
            match keys.iter_mut().find(|(s, _)| s.key == setting.key) {
                Some((_, by)) => by.push(caps.label),
                None => keys.push((setting, vec![caps.label])),
            }
        }
    }
    keys
}

fn flag_name(key: &str) -> &'static str {
    // Once per declared setting per run: clap keeps flag names for the program's life.
    Box::leak(key.replace('_', "-").into_boxed_str())
}

/// `command` with one flag per setting the providers in `declared` declare.
pub(crate) fn with_setting_flags(mut command: Command, declared: &[&'static Capabilities]) -> Command {
    for (setting, by) in settings_of(declared) {
        let help = format!("{} ({})", setting.label, by.join(", "));
        let arg = Arg::new(setting.key).long(flag_name(setting.key)).help_heading("Provider settings");
        let arg = if setting.flag {
            arg.action(ArgAction::SetTrue).help(help)
        } else if setting.public_key_pem {
            arg.value_name("FILE").help(format!("{help}: a PEM file"))
        } else {
            arg.value_name("VALUE").help(help)
        };
        command = command.arg(arg);
    }
    command
}

fn every_provider() -> Vec<&'static Capabilities> {
    paydesk_gateways::PROVIDERS.iter().map(|p| p.capabilities()).collect()
}

impl clap::Args for DeclaredSettings {
    fn augment_args(command: Command) -> Command {
        with_setting_flags(command, &every_provider())
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl clap::FromArgMatches for DeclaredSettings {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self::from_matches(matches, &every_provider()))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl DeclaredSettings {
    pub(crate) fn from_matches(matches: &ArgMatches, declared: &[&'static Capabilities]) -> Self {
        let mut settings = DeclaredSettings::default();
        for (setting, _) in settings_of(declared) {
            settings.declared.push(setting);
            if setting.flag {
                if matches.get_flag(setting.key) {
                    settings.given.push((setting.key, "true".into()));
                }
            } else if let Some(value) = matches.get_one::<String>(setting.key) {
                settings.given.push((setting.key, value.clone()));
            }
        }
        settings
    }

    /// The settings as the profile takes them: a PEM setting's file read.
    pub(crate) fn into_values(self) -> Result<BTreeMap<String, Value>, AppError> {
        let mut values = BTreeMap::new();
        for (key, given) in self.given {
            let pem = self.declared.iter().any(|s| s.key == key && s.public_key_pem);
            let value = if pem {
                std::fs::read_to_string(&given)
                    .map_err(|e| AppError::invalid(key, format!("cannot read {given} ({e})")))?
            } else {
                given
            };
            values.insert(key.to_string(), Value::String(value));
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_gateways::settings::Setting;

    /// A provider that declares one setting more than the first provider does.
    fn with_a_new_setting() -> &'static Capabilities {
        let first = paydesk_gateways::PROVIDERS[0].capabilities();
        let mut settings: Vec<Setting> = first.settings.to_vec();
        settings.push(Setting {
            key: "terminal_colour",
            label: "the counter's colour",
            required: false,
            digits_only: false,
            max_chars: 20,
            public_key_pem: false,
            ip_address: false,
            flag: false,
            form_label: "Counter colour",
            summary: "",
        });
        Box::leak(Box::new(Capabilities { settings: Box::leak(settings.into_boxed_slice()), ..first.clone() }))
    }

    #[test]
    fn a_setting_a_provider_declares_is_a_flag_and_a_field_of_the_form() {
        let caps = with_a_new_setting();
        let command = with_setting_flags(Command::new("add").no_binary_name(true), &[caps]);
        let help = command.clone().render_help().to_string();
        assert!(help.contains("--terminal-colour <VALUE>") && help.contains("the counter's colour"), "{help}");
        let matches = command.try_get_matches_from(["--terminal-colour", "teal", "--merchant-no", "200043"]).unwrap();
        let values = DeclaredSettings::from_matches(&matches, &[caps]).into_values().unwrap();
        assert_eq!(values["terminal_colour"], "teal");
        assert_eq!(values["merchant_no"], "200043");

        // The Settings form is made from the same declaration.
        let form = paydesk_core::providers::ProviderInfo::from(caps);
        let field = form.settings.iter().find(|s| s.key == "terminal_colour").expect("a field of the form");
        assert_eq!((field.label, field.kind, field.max_chars), ("Counter colour", "text", 20));
    }

    #[test]
    fn every_declared_setting_has_its_flag_once() {
        let command = with_setting_flags(Command::new("add"), &every_provider());
        let longs: Vec<&str> = command.get_arguments().filter_map(|a| a.get_long()).collect();
        for caps in every_provider() {
            for setting in caps.settings {
                let long = setting.key.replace('_', "-");
                assert_eq!(longs.iter().filter(|l| **l == long).count(), 1, "--{long}");
            }
        }
        for kept in ["merchant-no", "store-no", "merchant-id", "app-id", "platform-public-key", "public-ip"] {
            assert!(longs.contains(&kept), "--{kept}, kept for the scripts that use it");
        }
        assert!(longs.contains(&"require-signed-answers"));
    }
}
