//! The one error type that crosses to the UI and the CLI: a stable `kind` and a human message.

use paydesk_gateways::{GatewayError, RuleId, ValidationError};
use serde::Serialize;

use crate::i18n::{self, Locale};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    /// Bad input, refused before any network call; `field` names what to fix (the first
    /// problem); `problems` lists every field's problem when a form was checked whole.
    #[error("{message}")]
    InvalidInput {
        field: String,
        message: String,
        /// The rule broken, as a message id.
        rule: RuleId,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        problems: Vec<FieldProblem>,
        #[serde(skip)]
        said: Said,
    },
    #[error("{message}")]
    ProfileNotFound { profile: String, message: String },
    #[error("{message}")]
    PaymentNotFound { reference: String, message: String },
    /// The profile's API secret is not in the keyring.
    #[error("{message}")]
    SecretMissing { profile: String, message: String },
    /// No usable OS keyring (no Secret Service, or it is locked).
    #[error("{message}")]
    KeyringUnavailable { message: String },
    /// The provider answered and refused.
    #[error("{message}")]
    ProviderRejected { code: String, message: String },
    /// The provider could not be reached (or failed on its side); the payment is kept
    /// and `reference` can be retried as it is.
    #[error("{message}")]
    ProviderUnreachable {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// An answer we could not read or will not apply; `reference` names the payment it
    /// concerned, which is kept.
    #[error("{message}")]
    ProviderProtocol {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The action is not allowed in the payment's current state.
    #[error("{message}")]
    NotAllowed { message: String },
    /// The ledger could not be read or written. `reference` names a payment that exists
    /// (at the provider too) when the failure came after it was sent.
    #[error("{message}")]
    Storage {
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// The person stopped a long job (an export, a bulk refresh) before its end.
    #[error("{message}")]
    Cancelled { message: String },
    #[error("{message}")]
    Internal { message: String },
}

/// One field's problem in a form checked whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
    pub rule: RuleId,
    #[serde(skip)]
    pub said: Said,
}

/// The parts a field's message is made of, so each reader is told in its own words: the
/// CLI the option to give, the window where in Settings, another language the rule's id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Said {
    /// The rule in English words, without the field or any command line.
    pub words: String,
    /// The command-line option that gives the field ("--ipn-url").
    pub option: Option<String>,
    /// The profile whose setting the field is.
    pub on_profile: Option<String>,
}

impl Said {
    /// As the CLI and the logs read it: the field's name and the option to give.
    fn for_cli(&self, field: &str) -> String {
        let mut m = format!("{field}: {}", self.words);
        if let Some(profile) = &self.on_profile {
            m.push_str(&format!(". Set it on profile '{profile}'"));
        }
        if let Some(option) = &self.option {
            m.push_str(&format!(" ({option})"));
        }
        if self.on_profile.is_some() {
            m.push('.');
        }
        m
    }

    /// As the window reads it in English: the field's label and where to fix it.
    fn for_window(&self, field: &str) -> String {
        let mut m = format!("{}: {}", field_label(field), self.words);
        if let Some(profile) = &self.on_profile {
            m.push_str(&format!(". Open Settings → {profile} and fill it in."));
        }
        m
    }
}

/// The first problem's message, with how many more there are.
fn and_more(first: String, problems: usize) -> String {
    if problems > 1 {
        format!("{first} (and {} more to fix)", problems - 1)
    } else {
        first
    }
}

impl AppError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::Cancelled { .. } => "cancelled",
            Self::ProfileNotFound { .. } => "profile_not_found",
            Self::PaymentNotFound { .. } => "payment_not_found",
            Self::SecretMissing { .. } => "secret_missing",
            Self::KeyringUnavailable { .. } => "keyring_unavailable",
            Self::ProviderRejected { .. } => "provider_rejected",
            Self::ProviderUnreachable { .. } => "provider_unreachable",
            Self::ProviderProtocol { .. } => "provider_protocol",
            Self::NotAllowed { .. } => "not_allowed",
            Self::Storage { .. } => "storage",
            Self::Internal { .. } => "internal",
        }
    }

    /// Bad input: `field` broke a rule, said in `words` (without the field's name).
    pub fn invalid(field: &str, words: impl Into<String>) -> Self {
        Self::invalid_said(field, RuleId::Other, Said { words: words.into(), ..Said::default() })
    }

    fn invalid_said(field: &str, rule: RuleId, said: Said) -> Self {
        Self::InvalidInput { field: field.into(), message: said.for_cli(field), rule, problems: Vec::new(), said }
    }

    /// Names the rule an invalid input broke, as a message id.
    pub fn because(self, id: RuleId) -> Self {
        match self {
            Self::InvalidInput { field, message, problems, said, .. } => {
                Self::InvalidInput { field, message, rule: id, problems, said }
            }
            other => other,
        }
    }

    /// Says that an invalid input is a setting of `profile`, given with `option`.
    pub fn on_profile(self, profile: &str, option: String) -> Self {
        match self {
            Self::InvalidInput { field, rule, said, .. } => Self::invalid_said(
                &field,
                rule,
                Said { on_profile: Some(profile.to_string()), option: Some(option), ..said },
            ),
            other => other,
        }
    }

    /// Every problem a form has, at once; the first is the error's own field and message.
    /// `None` when there is none.
    pub fn invalid_all(problems: Vec<AppError>) -> Option<Self> {
        let problems: Vec<FieldProblem> = problems
            .into_iter()
            .filter_map(|e| match e {
                Self::InvalidInput { field, message, rule, said, .. } => {
                    Some(FieldProblem { field, message, rule, said })
                }
                _ => None,
            })
            .collect();
        let first = problems.first()?.clone();
        let message = and_more(first.message, problems.len());
        Some(Self::InvalidInput { field: first.field, message, rule: first.rule, problems, said: first.said })
    }

    /// Names the payment an error concerns, when it exists in the ledger already, so the
    /// person (or script) can look it up, retry or cancel it rather than sell again.
    pub fn with_reference(self, payment: &str) -> Self {
        let named = Some(payment.to_string());
        match self {
            Self::ProviderUnreachable { message, reference: None } => {
                Self::ProviderUnreachable { message, reference: named }
            }
            Self::ProviderProtocol { message, reference: None } => Self::ProviderProtocol { message, reference: named },
            Self::Storage { message, reference: None } => Self::Storage {
                message: format!(
                    "{message}. Payment {payment} was recorded before the failure; check it with `tx status`."
                ),
                reference: named,
            },
            other => other,
        }
    }

    pub fn payment_not_found(reference: &str) -> Self {
        Self::PaymentNotFound {
            reference: reference.into(),
            message: format!("No payment with reference {reference} in the ledger"),
        }
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        let said = Said { words: e.rule, option: e.option.map(String::from), on_profile: None };
        Self::invalid_said(e.field, e.id, said)
    }
}

impl From<GatewayError> for AppError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Invalid(v) => v.into(),
            GatewayError::Rejected { provider, code, message, transient: true } => Self::ProviderUnreachable {
                message: format!(
                    "{provider} failed on its side ({code}: {message}); the payment is kept, so try again."
                ),
                reference: None,
            },
            GatewayError::Rejected { provider, code, message, transient: false } => {
                Self::ProviderRejected { message: format!("{provider} refused ({code}): {message}"), code }
            }
            GatewayError::Unreachable { .. } => Self::ProviderUnreachable {
                message: format!("{e}; the payment is kept, so try again."),
                reference: None,
            },
            GatewayError::Unsupported { .. } => Self::NotAllowed { message: format!("{e}.") },
            GatewayError::Protocol { .. } => Self::ProviderProtocol {
                message: format!("{e}; the payment is kept, so check its status or try again."),
                reference: None,
            },
        }
    }
}

/// The names people see for the fields the core names in its messages; a provider's own
/// settings are labelled as it declares them (see [`labelled_fields`]).
const FIELD_LABELS: &[(&str, &str)] = &[
    ("ipn_url", "Notification (IPN) URL"),
    ("callback_url", "Return (callback) URL"),
    ("ipn_listen", "Listen for notifications on"),
    ("base_url", "Custom base URL"),
    ("shopper_reference", "Shopper reference"),
    ("save_card", "Save the card"),
    ("customer_no", "Customer"),
    ("payer_ip", "Payer's IP address"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("bank_number", "Bank account(s)"),
    ("way_code", "Store chain or e-wallet"),
    ("agreement_id", "Agreement id"),
    ("min_amount", "Minimum amount"),
    ("max_amount", "Maximum amount"),
    ("display_name", "Display name"),
    ("country_code", "Country code"),
    ("customer_code", "Your customer code"),
    // The request's key keeps its first name; people call it the wallet.
    ("vendor", "Wallet"),
];

impl AppError {
    /// The same error as a person at the window reads it: field labels instead of the
    /// core's field names, and where to fix it in the window instead of a command line.
    /// The `kind` and `field` stay as they are, for code.
    pub fn for_people(self) -> Self {
        match self {
            Self::InvalidInput { field, rule, problems, said, .. } => {
                let problems: Vec<FieldProblem> =
                    problems.into_iter().map(|p| FieldProblem { message: p.said.for_window(&p.field), ..p }).collect();
                let message = and_more(said.for_window(&field), problems.len());
                Self::InvalidInput { field, message, rule, problems, said }
            }
            Self::ProfileNotFound { profile, .. } => Self::ProfileNotFound {
                message: format!("There is no profile named {profile}. Add it in Settings."),
                profile,
            },
            Self::SecretMissing { profile, .. } => Self::SecretMissing {
                message: format!(
                    "The secret of {profile} is not saved. Open Settings, choose the profile and paste its secret."
                ),
                profile,
            },
            other => other,
        }
    }
}

/// Field names the core uses that have no label of their own: their label is the name in
/// words ("amount" → "Amount"), and each is translated.
pub const PLAIN_FIELDS: &[&str] = &[
    "amount",
    "currency",
    "method",
    "name",
    "provider",
    "email",
    "phone",
    "street",
    "city",
    "state",
    "zip",
    "reference",
    "profile",
    "capture",
    "payer",
    "mobile",
    "channel",
    "postcode",
    "address",
    "settings",
    "paper",
    "format",
    "output",
    "changes",
    "token",
    "from",
    "to",
    "period",
    "status",
    "search",
    "limit",
    "after",
];

/// Every field with a label: the core's own, then each provider's declared settings as its
/// profile form names them (the first provider to declare a key names it).
fn labelled_fields() -> impl Iterator<Item = (&'static str, &'static str)> {
    let declared = paydesk_gateways::PROVIDERS
        .iter()
        .flat_map(|provider| provider.capabilities().settings.iter())
        .map(|setting| (setting.key, setting.form_label));
    FIELD_LABELS.iter().copied().chain(declared)
}

/// A field as people call it: its label, or its name in words.
pub fn field_label(field: &str) -> String {
    if let Some((_, label)) = labelled_fields().find(|(name, _)| *name == field) {
        return label.to_string();
    }
    let words = field.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Every label a message may name, for the catalogs' test.
pub fn all_field_labels() -> Vec<String> {
    labelled_fields().map(|(_, l)| l.to_string()).chain(PLAIN_FIELDS.iter().map(|f| field_label(f))).collect()
}

/// Every rule text a message may use, for the catalogs' test.
pub fn all_rule_texts() -> Vec<&'static str> {
    RuleId::ALL.iter().map(|id| id.words()).collect()
}

/// One field's problem in `locale`: its label and the rule, from the rule's id.
fn field_words(locale: Locale, field: &str, rule: RuleId) -> String {
    let rule = rule.words();
    i18n::tr_with(
        locale,
        "{field}: {rule}",
        &[("field", &i18n::tr(locale, &field_label(field))), ("rule", &i18n::tr(locale, rule))],
    )
}

impl AppError {
    /// [`Self::for_people`] in `locale`. The English messages are the core's own; other
    /// languages say what happened and what to do from the `kind` and the fields named (a
    /// provider's own words are quoted as they came).
    pub fn for_people_in(self, locale: Locale) -> Self {
        let plain = self.for_people();
        if locale == Locale::En {
            return plain;
        }
        let say = |english: &str, values: &[(&str, &str)]| i18n::tr_with(locale, english, values);
        match plain {
            Self::InvalidInput { field, rule, problems, said, .. } => {
                let problems: Vec<FieldProblem> = problems
                    .into_iter()
                    .map(|p| FieldProblem { message: field_words(locale, &p.field, p.rule), ..p })
                    .collect();
                let first = field_words(locale, &field, rule);
                let message = if problems.len() > 1 {
                    say("{first} (and {n} more to fix)", &[("first", &first), ("n", &(problems.len() - 1).to_string())])
                } else {
                    first
                };
                Self::InvalidInput { field, message, rule, problems, said }
            }
            Self::ProfileNotFound { profile, .. } => Self::ProfileNotFound {
                message: say("There is no profile named {profile}. Add it in Settings.", &[("profile", &profile)]),
                profile,
            },
            Self::PaymentNotFound { reference, .. } => Self::PaymentNotFound {
                message: say("There is no payment {reference} in the ledger.", &[("reference", &reference)]),
                reference,
            },
            Self::SecretMissing { profile, .. } => Self::SecretMissing {
                message: say(
                    "The secret of {profile} is not saved. Open Settings, choose the profile and paste its secret.",
                    &[("profile", &profile)],
                ),
                profile,
            },
            Self::KeyringUnavailable { .. } => Self::KeyringUnavailable {
                message: say("The system keyring cannot be used. Unlock it (or start it) and try again.", &[]),
            },
            Self::ProviderRejected { code, message } => {
                Self::ProviderRejected { message: say("The provider refused: {detail}", &[("detail", &message)]), code }
            }
            Self::ProviderUnreachable { reference, .. } => Self::ProviderUnreachable {
                message: say("The provider could not be reached. The payment is kept; try again.", &[]),
                reference,
            },
            Self::ProviderProtocol { reference, .. } => Self::ProviderProtocol {
                message: say(
                    "The provider's answer could not be used. The payment is kept; check its status or try again.",
                    &[],
                ),
                reference,
            },
            Self::NotAllowed { message } => {
                Self::NotAllowed { message: say("Not possible now: {detail}", &[("detail", &message)]) }
            }
            Self::Storage { reference, .. } => Self::Storage {
                message: say(
                    "The ledger could not be read or written. Try again; if it keeps failing, check the disk.",
                    &[],
                ),
                reference,
            },
            Self::Cancelled { .. } => {
                Self::Cancelled { message: say("Stopped before the end; nothing half-written was kept.", &[]) }
            }
            Self::Internal { message } => Self::Internal {
                message: say("Something went wrong inside Paydesk: {detail}", &[("detail", &message)]),
            },
        }
    }

    /// Every English sentence [`Self::for_people_in`] may use, for the catalogs' test.
    pub fn sentences() -> &'static [&'static str] {
        &[
            "{field}: {rule}",
            "{first} (and {n} more to fix)",
            "There is no profile named {profile}. Add it in Settings.",
            "There is no payment {reference} in the ledger.",
            "The secret of {profile} is not saved. Open Settings, choose the profile and paste its secret.",
            "The system keyring cannot be used. Unlock it (or start it) and try again.",
            "The provider refused: {detail}",
            "The provider could not be reached. The payment is kept; try again.",
            "The provider's answer could not be used. The payment is kept; check its status or try again.",
            "Not possible now: {detail}",
            "The ledger could not be read or written. Try again; if it keeps failing, check the disk.",
            "Stopped before the end; nothing half-written was kept.",
            "Something went wrong inside Paydesk: {detail}",
        ]
    }
}

impl From<paydesk_ledger::LedgerError> for AppError {
    fn from(e: paydesk_ledger::LedgerError) -> Self {
        if let paydesk_ledger::LedgerError::Cancelled = e {
            return Self::Cancelled { message: "Stopped before the end; nothing half-written was kept.".into() };
        }
        let message = match &e {
            paydesk_ledger::LedgerError::Busy
            | paydesk_ledger::LedgerError::Conflict(_)
            | paydesk_ledger::LedgerError::Unreachable(_)
            | paydesk_ledger::LedgerError::NotHere(_) => e.to_string(),
            other => format!("The ledger could not be read or written ({other})"),
        };
        Self::Storage { message, reference: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No message a person reads names an internal field or shows a command line.
    #[test]
    fn messages_for_people_use_their_words() {
        let ipn_url_on_profile = || {
            AppError::from(ValidationError::new("ipn_url", "is required by Pockyt").because(RuleId::Required))
                .on_profile("Store 2", "--ipn-url".into())
        };
        let cases = [
            ipn_url_on_profile(),
            ValidationError::new("shopper_reference", "is required to save the card")
                .option("--shopper-reference")
                .into(),
            ValidationError::new("payer_ip", "is required by Vexora: the payer's own IP address").option("--payer-ip").into(),
            ValidationError::new("bank_number", "is required for NET_BANKING: the payer's account, e.g. 808-0368988888888")
                .option("--bank-number")
                .into(),
            ValidationError::new("customer_no", "attach customers to payment links").option("--method link").into(),
            AppError::ProfileNotFound {
                profile: "x".into(),
                message: "No profile named 'x'. Add it with `paydesk profile add` or in Settings.".into(),
            },
            AppError::SecretMissing {
                profile: "Store 2".into(),
                message: "The API secret for profile 'Store 2' is not saved. Save it with `paydesk secret set Store 2` or in Settings.".into(),
            },
        ];
        for e in cases {
            let field = match &e {
                AppError::InvalidInput { field, .. } => Some(field.clone()),
                _ => None,
            };
            let shown = e.for_people();
            let text = shown.to_string();
            assert!(!text.contains("--") && !text.contains("paydesk ") && !text.contains('`'), "{text}");
            for (name, _) in labelled_fields() {
                assert!(!text.contains(name), "{text} names {name}");
            }
            if let (Some(f), AppError::InvalidInput { field, .. }) = (field, &shown) {
                assert_eq!(&f, field, "the field stays for code");
            }
        }
        assert_eq!(
            ipn_url_on_profile().to_string(),
            "ipn_url: is required by Pockyt. Set it on profile 'Store 2' (--ipn-url).",
            "the CLI's words"
        );
        let e = ipn_url_on_profile().for_people();
        assert_eq!(
            e.to_string(),
            "Notification (IPN) URL: is required by Pockyt. Open Settings → Store 2 and fill it in."
        );
    }

    #[test]
    fn json_shape_is_pinned() {
        let e = AppError::invalid("amount", "must be greater than zero (got 0)");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"invalid_input","field":"amount","message":"amount: must be greater than zero (got 0)","rule":"other"}"#
        );
        let e = AppError::KeyringUnavailable { message: "x".into() };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"kind":"keyring_unavailable","message":"x"}"#);
        assert_eq!(e.kind(), "keyring_unavailable");
        // A form checked whole: the first problem as before, and every one in `problems`.
        let e = AppError::invalid_all(vec![
            AppError::invalid("name", "1 to 40 letters, digits, spaces, '-', '_' or '.'").because(RuleId::ProfileName),
            AppError::invalid("ipn_url", "is required (where the provider sends its payment notifications)")
                .because(RuleId::Required),
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"invalid_input","field":"name","message":"name: 1 to 40 letters, digits, spaces, '-', '_' or '.' (and 1 more to fix)","rule":"profile_name","problems":[{"field":"name","message":"name: 1 to 40 letters, digits, spaces, '-', '_' or '.'","rule":"profile_name"},{"field":"ipn_url","message":"ipn_url: is required (where the provider sends its payment notifications)","rule":"required"}]}"#
        );
        assert!(AppError::invalid_all(Vec::new()).is_none());
    }

    /// In Chinese, the same error says what happened and what to do from its kind and
    /// fields; `kind`, `field` and the reference stay for code.
    #[test]
    fn messages_in_chinese_keep_kind_and_field() {
        let e = AppError::invalid_all(vec![
            AppError::invalid("merchant_no", "is required by Pockyt (Merchant no.)").because(RuleId::Required),
            AppError::invalid("email", "is not an email address (got 'x')").because(RuleId::Email),
        ])
        .unwrap()
        .for_people_in(Locale::ZhHant);
        let AppError::InvalidInput { field, message, problems, .. } = &e else { panic!("{e:?}") };
        assert_eq!(field, "merchant_no");
        assert_eq!(message, "商店編號：為必填（另有 1 項需要修正）");
        assert_eq!(problems[1].message, "電子郵件：不是有效的電子郵件地址");
        let e = AppError::payment_not_found("PD-1").for_people_in(Locale::ZhHans);
        assert_eq!(e.to_string(), "账本中没有付款 PD-1。");
        assert_eq!(serde_json::to_value(&e).unwrap()["reference"], "PD-1");
        let e = AppError::ProviderUnreachable { message: "x".into(), reference: Some("PD-2".into()) }
            .for_people_in(Locale::ZhHant);
        assert_eq!(e.to_string(), "無法連線到服務商。付款已保留；請再試一次。");
        assert_eq!(e.kind(), "provider_unreachable");
    }
}
