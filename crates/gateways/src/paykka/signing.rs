//! `x-paykka-sign`: RSASSA-PKCS1-v1_5 over SHA-256 of
//! `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY`, standard base64, then percent-encoded.

use base64::{engine::general_purpose::STANDARD, Engine};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};

pub const SIGN_ALG: &str = "SHA256_WITH_RSA";

/// The five parts joined by `\n`, no trailing newline. The one place this format lives.
pub fn string_to_sign(method: &str, path: &str, timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body}")
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the PayKKa private key is not an RSA private key in PEM (PKCS#8 or PKCS#1)")]
    BadPrivateKey,
    #[error("the PayKKa public key is not a SPKI PEM RSA key")]
    BadPublicKey,
}

/// A merchant signing key. Debug never shows key material.
pub struct MerchantKey(SigningKey<Sha256>);

impl std::fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MerchantKey(<redacted>)")
    }
}

impl MerchantKey {
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| KeyError::BadPrivateKey)?;
        Ok(Self(SigningKey::new(key)))
    }

    /// A merchant's RSA private key as PEM, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`); anything else is refused.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let pem = pem.trim();
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError::BadPrivateKey)?;
        Ok(Self(SigningKey::new(key)))
    }

    /// Standard base64 of the signature (before percent-encoding).
    pub fn sign_base64(&self, message: &str) -> String {
        let signature: Signature = self.0.sign(message.as_bytes());
        STANDARD.encode(signature.to_bytes())
    }

    /// The header value: base64, percent-encoded.
    pub fn sign_header(&self, message: &str) -> String {
        utf8_percent_encode(&self.sign_base64(message), NON_ALPHANUMERIC).to_string()
    }
}

/// Verifies a percent-encoded `x-paykka-sign` header with a platform (or merchant) public key.
pub fn verify_header(public_pem: &str, message: &str, header: &str) -> Result<bool, KeyError> {
    let key = RsaPublicKey::from_public_key_pem(public_pem).map_err(|_| KeyError::BadPublicKey)?;
    let verifying = VerifyingKey::<Sha256>::new(key);
    let decoded = percent_decode_str(header).decode_utf8_lossy();
    let Ok(bytes) = STANDARD.decode(decoded.as_bytes()) else { return Ok(false) };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else { return Ok(false) };
    Ok(verifying.verify(message.as_bytes(), &signature).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = include_str!("../../test-vectors/paykka-test-merchant-private.pem");
    const PUBLIC: &str = include_str!("../../test-vectors/paykka-test-merchant-public.pem");
    const MESSAGE: &str = include_str!("../../test-vectors/paykka-string-to-sign.txt");
    const EXPECTED_B64: &str = "qFSLsN0sQdHgMdG+1D02x8s8RtEwx3areSumdTmG75oWwiD6ejIV5/0dXOiRPbe/ThnHBaV8tsEh4DF9ZDNzhOvXHbhUGMwtP3PQZggxSwdrdehsSk8D/tCCMjB9l4f92AEJIEO5tv4yAm7q5raXgrQSh8bRs4GrBpWxSKClsxaKx/0JQORPSkh1WZYR8BpYliCFcFmNl0kWbFecxP7GXAEH61zyOPS61oadi5IKr+TDWoDQrYRtiJ3BSJHAhEG4gYb1BzeVglULRpbbbp8gXVOitJhPp2/ELvXJMqn4SuofcgqTrHH1oM1TqYL2Aez5akqkf0aAVm/l+wBSrh2zew==";
    const EXPECTED_HEADER: &str = "qFSLsN0sQdHgMdG%2B1D02x8s8RtEwx3areSumdTmG75oWwiD6ejIV5%2F0dXOiRPbe%2FThnHBaV8tsEh4DF9ZDNzhOvXHbhUGMwtP3PQZggxSwdrdehsSk8D%2FtCCMjB9l4f92AEJIEO5tv4yAm7q5raXgrQSh8bRs4GrBpWxSKClsxaKx%2F0JQORPSkh1WZYR8BpYliCFcFmNl0kWbFecxP7GXAEH61zyOPS61oadi5IKr%2BTDWoDQrYRtiJ3BSJHAhEG4gYb1BzeVglULRpbbbp8gXVOitJhPp2%2FELvXJMqn4SuofcgqTrHH1oM1TqYL2Aez5akqkf0aAVm%2Fl%2BwBSrh2zew%3D%3D";

    #[test]
    fn string_to_sign_matches_the_vector_file() {
        let built = string_to_sign(
            "POST",
            "/v3/payment/acq/query",
            "1757387467986",
            "4326048250346354435",
            r#"{"merchant_id":"18356675194960","order_id":"GW20620xxxxx6999"}"#,
        );
        assert_eq!(built, MESSAGE);
    }

    #[test]
    fn reproduces_known_answer_vector() {
        let key = MerchantKey::from_pkcs8_pem(PRIVATE).unwrap();
        assert_eq!(key.sign_base64(MESSAGE), EXPECTED_B64);
        assert_eq!(key.sign_header(MESSAGE), EXPECTED_HEADER);
        assert_eq!(format!("{key:?}"), "MerchantKey(<redacted>)");
    }

    #[test]
    fn verifies_with_the_public_key_and_rejects_tampering() {
        assert!(verify_header(PUBLIC, MESSAGE, EXPECTED_HEADER).unwrap());
        assert!(!verify_header(PUBLIC, &MESSAGE.replace("6999", "7000"), EXPECTED_HEADER).unwrap());
    }
}
