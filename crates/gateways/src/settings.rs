//! What a provider declares a profile needs: its settings (the form and the command line
//! are made from them) and its secret.

/// One provider-specific profile setting (a merchant number, an app id...).
#[derive(Debug, Clone)]
pub struct Setting {
    /// The key stored with the profile and used on the command line (`--merchant-no`).
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// Digits only (as the provider assigned them), or free text of at most this length.
    pub digits_only: bool,
    pub max_chars: usize,
    /// An RSA public key in PEM (several lines), checked by parsing it.
    pub public_key_pem: bool,
    /// An IPv4 or IPv6 address.
    pub ip_address: bool,
    /// A yes/no setting: "true", or not given.
    pub flag: bool,
    /// What the profile form calls it ("Merchant no.").
    pub form_label: &'static str,
    /// The word before its value in a profile's one-line summary ("merchant"); empty: not
    /// in the summary.
    pub summary: &'static str,
}

/// The secret a provider's profile needs, as the form and the summary name it.
#[derive(Debug, Clone)]
pub struct SecretSpec {
    /// "API token", "Merchant private key (PEM)".
    pub form_label: &'static str,
    /// Several lines (a PEM key): a text area.
    pub multiline: bool,
    /// The word before "saved" in a profile's summary ("token", "key").
    pub summary: &'static str,
}
