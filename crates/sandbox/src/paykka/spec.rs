//! PayKKa v3 as `paykka-api-v3.txt` describes it: paths from its "Generated server url"
//! lines, and the `x-paykka-*` headers of its curl samples. The signature (SHA256withRSA,
//! PKCS#1 v1.5, over `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY`, base64 then percent-encoded)
//! follows the reference notes and reproduces the known-answer vector.

use base64::{engine::general_purpose::STANDARD, Engine};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};

pub const SESSION_PATH: &str = "/v3/payment/acq/session";
pub const QUERY_PATH: &str = "/v3/payment/acq/query";
pub const CAPTURE_PATH: &str = "/v3/payment/acq/capture";
pub const VOID_PATH: &str = "/v3/payment/acq/void";
pub const REFUND_PATH: &str = "/v3/payment/acq/refund";
pub const TOKEN_QUERY_PATH: &str = "/v3/payment/acq/token/query";
pub const TOKEN_REMOVE_PATH: &str = "/v3/payment/acq/token/remove";
pub const RECURRING_CANCEL_PATH: &str = "/v3/payment/acq/recurring/cancel";
pub const APPLE_PAY_PATH: &str = "/v3/payment/acq/apple-pay/create-session";

/// `x-paykka-sign-alg` of the samples.
pub const SIGN_ALG: &str = "SHA256_WITH_RSA";

pub fn string_to_sign(method: &str, path: &str, timestamp: &str, nonce: &str, body: &str) -> String {
    [method, path, timestamp, nonce, body].join("\n")
}

/// A private key that signs as PayKKa's platform (or a merchant) does.
pub struct Signer256(SigningKey<Sha256>);

impl Signer256 {
    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`), as the test vectors and the sandbox keys are.
    pub fn from_pem(pem: &str) -> Option<Self> {
        RsaPrivateKey::from_pkcs8_pem(pem.trim()).ok().map(|k| Self(SigningKey::new(k)))
    }

    /// The `x-paykka-sign` value: standard base64 of the signature, percent-encoded.
    pub fn header(&self, message: &str) -> String {
        let signature: Signature = self.0.sign(message.as_bytes());
        utf8_percent_encode(&STANDARD.encode(signature.to_bytes()), NON_ALPHANUMERIC).to_string()
    }
}

/// Whether a percent-encoded `x-paykka-sign` holds for `message` under a SPKI PEM key.
pub fn verify(public_pem: &str, message: &str, header: &str) -> bool {
    let Ok(key) = RsaPublicKey::from_public_key_pem(public_pem.trim()) else { return false };
    let decoded = percent_decode_str(header).decode_utf8_lossy();
    let Ok(bytes) = STANDARD.decode(decoded.as_bytes()) else { return false };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else { return false };
    VerifyingKey::<Sha256>::new(key).verify(message.as_bytes(), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = "../gateways/test-vectors";

    fn vector(name: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(VECTORS).join(name)).unwrap()
    }

    /// The known answer of `shared/reference/test-vectors/README.md`, byte for byte.
    #[test]
    fn reproduces_the_known_answer_signature() {
        let message = vector("paykka-string-to-sign.txt");
        let parts: Vec<&str> = message.splitn(5, '\n').collect();
        assert_eq!(string_to_sign(parts[0], parts[1], parts[2], parts[3], parts[4]), message);
        let signer = Signer256::from_pem(&vector("paykka-test-merchant-private.pem")).unwrap();
        let expected = "qFSLsN0sQdHgMdG%2B1D02x8s8RtEwx3areSumdTmG75oWwiD6ejIV5%2F0dXOiRPbe%2FThnHBaV8tsEh4DF9ZDNzhOvXHbhUGMwtP3PQZggxSwdrdehsSk8D%2FtCCMjB9l4f92AEJIEO5tv4yAm7q5raXgrQSh8bRs4GrBpWxSKClsxaKx%2F0JQORPSkh1WZYR8BpYliCFcFmNl0kWbFecxP7GXAEH61zyOPS61oadi5IKr%2BTDWoDQrYRtiJ3BSJHAhEG4gYb1BzeVglULRpbbbp8gXVOitJhPp2%2FELvXJMqn4SuofcgqTrHH1oM1TqYL2Aez5akqkf0aAVm%2Fl%2BwBSrh2zew%3D%3D";
        assert_eq!(signer.header(&message), expected);
        let public = vector("paykka-test-merchant-public.pem");
        assert!(verify(&public, &message, expected));
        assert!(!verify(&public, &format!("{message} "), expected));
    }
}
