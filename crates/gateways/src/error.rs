pub use paydesk_types::ValidationError;

/// What can go wrong talking to a provider.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The provider answered and refused: its own code and message. `transient` when the
    /// fault is on the provider's side and the same request may be sent again.
    #[error("{provider} refused the request ({code}): {message}")]
    Rejected { provider: &'static str, code: String, message: String, transient: bool },
    /// No answer (connection refused, timeout). The request may or may not have arrived.
    #[error("{provider} did not answer ({message})")]
    Unreachable { provider: &'static str, message: String },
    /// An answer we could not understand.
    #[error("unexpected answer from {provider}: {message}")]
    Protocol { provider: &'static str, message: String },
    /// The provider does not offer this flow (capture where it takes the money at once).
    #[error("{provider} does not offer {flow}")]
    Unsupported { provider: &'static str, flow: &'static str },
}

impl GatewayError {
    /// A refusal of who asked (signature, merchant, key, secret, IP) rather than of what
    /// was asked. A provider that documents no error codes says whether it accepted our
    /// signature only by what its message is about.
    pub fn refuses_the_caller(&self) -> bool {
        let GatewayError::Rejected { message, .. } = self else { return false };
        let message = message.to_lowercase();
        ["sign", "merchant", "secret", "key", "auth", "permission", "forbidden", "denied", "whitelist", "ip "]
            .iter()
            .any(|word| message.contains(word))
    }
}
