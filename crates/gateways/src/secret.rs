use std::fmt;

/// An API token or key. Its `Debug` and `Display` never show the bytes, so a secret
/// cannot leak through a log line, an error message or a `{:?}`; its memory is wiped when
/// it is dropped (zeroize), and two are compared in constant time.
#[derive(Clone)]
pub struct ApiSecret(String);

impl Drop for ApiSecret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl PartialEq for ApiSecret {
    fn eq(&self, other: &Self) -> bool {
        subtle::ConstantTimeEq::ct_eq(self.0.as_bytes(), other.0.as_bytes()).into()
    }
}

impl Eq for ApiSecret {}

impl ApiSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw secret, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiSecret(<redacted>)")
    }
}

impl fmt::Display for ApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = ApiSecret::new("5cbfb079f15b150122261c8537086d77a");
        assert_eq!(format!("{s:?}"), "ApiSecret(<redacted>)");
        assert!(!format!("{s}").contains("5cbf"));
    }
}
