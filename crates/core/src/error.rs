//! The one error type that crosses to the UI and the CLI: a stable `kind` and a human message.

use paydesk_gateways::{GatewayError, ValidationError};
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
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        problems: Vec<FieldProblem>,
    },
    #[error("{message}")]
    ProfileNotFound { profile: String, message: String },
    #[error("{message}")]
    PaymentNotFound { reference: String, message: String },
    /// The profile's API token is not in the keyring.
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

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidInput { field: field.into(), message: message.into(), problems: Vec::new() }
    }

    /// Every problem a form has, at once; the first is the error's own field and message.
    /// `None` when there is none.
    pub fn invalid_all(problems: Vec<AppError>) -> Option<Self> {
        let problems: Vec<FieldProblem> = problems
            .into_iter()
            .filter_map(|e| match e {
                Self::InvalidInput { field, message, .. } => Some(FieldProblem { field, message }),
                _ => None,
            })
            .collect();
        let first = problems.first()?.clone();
        let message = if problems.len() == 1 {
            first.message
        } else {
            format!("{} (and {} more to fix)", first.message, problems.len() - 1)
        };
        Some(Self::InvalidInput { field: first.field, message, problems })
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
        Self::invalid(e.field, e.to_string())
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
];

impl AppError {
    /// The same error as a person at the window reads it: field labels instead of the
    /// core's field names, and where to fix it in the window instead of a command line.
    /// The `kind` and `field` stay as they are, for code.
    pub fn for_people(self) -> Self {
        fn words(message: &str) -> String {
            let mut m = message.to_string();
            // Command-line hints: "(--ipn-url)", "(--method link)" and the like.
            while let Some(start) = m.find(" (--") {
                match m[start..].find(')') {
                    Some(end) => m.replace_range(start..start + end + 1, ""),
                    None => break,
                }
            }
            m = m.replace(" Add it with `paydesk profile add` or in Settings.", " Add it in Settings.");
            if let Some(start) = m.find("Save it with `paydesk secret set") {
                let end =
                    m[start..].find("or in Settings.").map(|e| start + e + "or in Settings.".len()).unwrap_or(m.len());
                m.replace_range(start..end, "Open Settings, choose the profile and paste its secret.");
            }
            if let Some(start) = m.find(". Set it on profile '") {
                let rest = &m[start + ". Set it on profile '".len()..];
                if let Some(q) = rest.find('\'') {
                    let profile = rest[..q].to_string();
                    let end = start + ". Set it on profile '".len() + q + 1;
                    let end = m[end..].find('.').map(|e| end + e + 1).unwrap_or(m.len());
                    m.replace_range(start..end, &format!(". Open Settings → {profile} and fill it in."));
                }
            }
            for (name, label) in labelled_fields() {
                if let Some(rest) = m.strip_prefix(&format!("{name}:")) {
                    m = format!("{label}:{rest}");
                }
                m = m.replace(&format!("'{name}'"), &format!("'{label}'"));
            }
            // Any other leading field name ("amount:", "paper:") reads as a word.
            if let Some((head, rest)) = m.split_once(':') {
                if !head.is_empty() && head.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    m = format!("{}:{rest}", field_label(head));
                }
            }
            m
        }
        match self {
            Self::InvalidInput { field, message, problems } => Self::InvalidInput {
                field,
                message: words(&message),
                problems: problems
                    .into_iter()
                    .map(|p| FieldProblem { message: words(&p.message), field: p.field })
                    .collect(),
            },
            Self::ProfileNotFound { profile, message } => Self::ProfileNotFound { profile, message: words(&message) },
            Self::SecretMissing { profile, message } => Self::SecretMissing { profile, message: words(&message) },
            Self::NotAllowed { message } => Self::NotAllowed { message: words(&message) },
            other => other,
        }
    }
}

/// How the rules the core states read in another language: (a phrase of the English
/// rule, the English text looked up in the catalog). Unlisted rules read as "not valid".
const RULES: &[(&str, &str)] = &[
    ("is required", "is required"),
    ("is not an email address", "is not an email address"),
    ("must be 2 letters", "must be 2 letters (a country code such as US or TW)"),
    ("must be ADDR:PORT", "must be an address and port, such as 127.0.0.1:8788"),
    ("plain decimal number", "must be an amount such as 13.00"),
    ("decimal places", "has too many decimal places for this currency"),
    ("still refundable", "is more than what is left to refund"),
    ("can still be captured", "is more than what can still be captured"),
    ("1 to 40 letters", "1 to 40 letters, digits, spaces, '-', '_' or '.'"),
    ("kept for the built-in demo", "is kept for the built-in demo profiles; choose another name"),
    ("digits only", "digits only"),
    ("https", "must be a web address starting with https://"),
    ("RSA public key", "must be an RSA public key in PEM (BEGIN PUBLIC KEY)"),
    ("too long", "is too long"),
    ("characters", "is too long or holds characters that are not allowed"),
];

/// Field names the core uses that have no label of their own: their label is the name in
/// words ("amount" → "Amount"), and each is translated.
pub const PLAIN_FIELDS: &[&str] = &[
    "amount",
    "currency",
    "vendor",
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
    RULES.iter().map(|(_, text)| *text).chain(["is not valid; check it and try again"]).collect()
}

/// One field's problem in `locale`: its label and the rule, in words.
fn field_words(locale: Locale, field: &str, message: &str) -> String {
    let rule = RULES
        .iter()
        .find(|(phrase, _)| message.contains(phrase))
        .map(|(_, text)| *text)
        .unwrap_or("is not valid; check it and try again");
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
            Self::InvalidInput { field, message, problems } => {
                let problems: Vec<FieldProblem> = problems
                    .into_iter()
                    .map(|p| FieldProblem { message: field_words(locale, &p.field, &p.message), field: p.field })
                    .collect();
                let first = field_words(locale, &field, &message);
                let message = if problems.len() > 1 {
                    say("{first} (and {n} more to fix)", &[("first", &first), ("n", &(problems.len() - 1).to_string())])
                } else {
                    first
                };
                Self::InvalidInput { field, message, problems }
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
        let cases = [
            AppError::invalid("ipn_url", "ipn_url: is required by Pockyt. Set it on profile 'Store 2' (--ipn-url)."),
            AppError::invalid("shopper_reference", "shopper_reference: is required to save the card (--shopper-reference)"),
            AppError::invalid("payer_ip", "payer_ip: is required by Vexora: the payer's own IP address (--payer-ip)"),
            AppError::invalid("bank_number", "bank_number: is required for NET_BANKING: the payer's account, e.g. 808-0368988888888 (--bank-number)"),
            AppError::invalid("customer_no", "customer_no: attach customers to payment links (--method link)"),
            AppError::ProfileNotFound {
                profile: "x".into(),
                message: "No profile named 'x'. Add it with `paydesk profile add` or in Settings.".into(),
            },
            AppError::SecretMissing {
                profile: "Store 2".into(),
                message: "The API token for profile 'Store 2' is not saved. Save it with `paydesk secret set Store 2` or in Settings.".into(),
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
        let e =
            AppError::invalid("ipn_url", "ipn_url: is required by Pockyt. Set it on profile 'Store 2' (--ipn-url).")
                .for_people();
        assert_eq!(
            e.to_string(),
            "Notification (IPN) URL: is required by Pockyt. Open Settings → Store 2 and fill it in."
        );
    }

    #[test]
    fn json_shape_is_pinned() {
        let e = AppError::invalid("amount", "amount: must be greater than zero (got 0)");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"invalid_input","field":"amount","message":"amount: must be greater than zero (got 0)"}"#
        );
        let e = AppError::KeyringUnavailable { message: "x".into() };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"kind":"keyring_unavailable","message":"x"}"#);
        assert_eq!(e.kind(), "keyring_unavailable");
        // A form checked whole: the first problem as before, and every one in `problems`.
        let e = AppError::invalid_all(vec![
            AppError::invalid("name", "name: 1 to 40 letters, digits, spaces, '-', '_' or '.'"),
            AppError::invalid("ipn_url", "ipn_url: is required (where the provider sends its payment notifications)"),
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"invalid_input","field":"name","message":"name: 1 to 40 letters, digits, spaces, '-', '_' or '.' (and 1 more to fix)","problems":[{"field":"name","message":"name: 1 to 40 letters, digits, spaces, '-', '_' or '.'"},{"field":"ipn_url","message":"ipn_url: is required (where the provider sends its payment notifications)"}]}"#
        );
        assert!(AppError::invalid_all(Vec::new()).is_none());
    }

    /// In Chinese, the same error says what happened and what to do from its kind and
    /// fields; `kind`, `field` and the reference stay for code.
    #[test]
    fn messages_in_chinese_keep_kind_and_field() {
        let e = AppError::invalid_all(vec![
            AppError::invalid("merchant_no", "merchant_no: is required by Pockyt (Merchant no.)"),
            AppError::invalid("email", "email: is not an email address (got 'x')"),
        ])
        .unwrap()
        .for_people_in(Locale::ZhHant);
        let AppError::InvalidInput { field, message, problems } = &e else { panic!("{e:?}") };
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
