//! What a field broke, as a message id: each language says a rule from its id (the
//! catalogues translate [`RuleId::words`]), never by reading the English sentence a
//! check wrote.

use serde::Serialize;

/// A rule a field can break. `Other` is any rule without words of its own in the
/// catalogues: it reads "is not valid; check it and try again" in another language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    Required,
    Email,
    CountryCode,
    AddressAndPort,
    Amount,
    DecimalPlaces,
    OverRefundable,
    OverCapturable,
    ProfileName,
    DemoName,
    DigitsOnly,
    WebAddress,
    RsaPublicKey,
    TooLong,
    Characters,
    #[default]
    Other,
}

impl RuleId {
    pub const ALL: [RuleId; 16] = [
        Self::Required,
        Self::Email,
        Self::CountryCode,
        Self::AddressAndPort,
        Self::Amount,
        Self::DecimalPlaces,
        Self::OverRefundable,
        Self::OverCapturable,
        Self::ProfileName,
        Self::DemoName,
        Self::DigitsOnly,
        Self::WebAddress,
        Self::RsaPublicKey,
        Self::TooLong,
        Self::Characters,
        Self::Other,
    ];

    /// The rule in general English words: the key the catalogues translate. (The check's
    /// own sentence says more, for the CLI and for English.)
    pub fn words(self) -> &'static str {
        match self {
            Self::Required => "is required",
            Self::Email => "is not an email address",
            Self::CountryCode => "must be 2 letters (a country code such as US or TW)",
            Self::AddressAndPort => "must be an address and port, such as 127.0.0.1:8788",
            Self::Amount => "must be an amount such as 13.00",
            Self::DecimalPlaces => "has too many decimal places for this currency",
            Self::OverRefundable => "is more than what is left to refund",
            Self::OverCapturable => "is more than what can still be captured",
            Self::ProfileName => "1 to 40 letters, digits, spaces, '-', '_' or '.'",
            Self::DemoName => "is kept for the built-in demo profiles; choose another name",
            Self::DigitsOnly => "digits only",
            Self::WebAddress => "must be a web address starting with https://",
            Self::RsaPublicKey => "must be an RSA public key in PEM (BEGIN PUBLIC KEY)",
            Self::TooLong => "is too long",
            Self::Characters => "is too long or holds characters that are not allowed",
            Self::Other => "is not valid; check it and try again",
        }
    }
}
