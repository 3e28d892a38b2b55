//! HTTP client for PayKKa: JSON bodies signed in `x-paykka-*` headers with the merchant's RSA
//! key. The documents never say that answers are signed: an answer that carries a signature
//! must verify with PayKKa's platform key, an unsigned one is accepted unless the profile
//! requires signed answers (`--require-signed-answers`).

use super::signing::{self, MerchantKey};
use super::transformers::parse_envelope;
use crate::gateway::{Exchange, Outcome};
use crate::GatewayError;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct PaykkaClient {
    http: reqwest::Client,
    base_url: String,
    pub(crate) merchant_id: String,
    app_id: String,
    key: Arc<MerchantKey>,
    platform_public_key: Option<String>,
    require_signed_answers: bool,
}

impl std::fmt::Debug for PaykkaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaykkaClient")
            .field("base_url", &self.base_url)
            .field("merchant_id", &self.merchant_id)
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .finish()
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub(crate) fn new_nonce() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl PaykkaClient {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        merchant_id: &str,
        app_id: &str,
        key: MerchantKey,
        platform_public_key: Option<String>,
    ) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            merchant_id: merchant_id.into(),
            app_id: app_id.into(),
            key: Arc::new(key),
            platform_public_key,
            require_signed_answers: false,
        }
    }

    /// Refuses every answer that does not carry a signature verifying with the platform key.
    pub fn requiring_signed_answers(mut self, required: bool) -> Self {
        self.require_signed_answers = required;
        self
    }

    pub fn platform_public_key(&self) -> Option<&str> {
        self.platform_public_key.as_deref()
    }

    /// Posts `body` (with merchant_id and timestamp added) to `path`, signed. `path` is the
    /// API path (`/v3/payment/acq/query`); a base URL's own path prefix is not signed.
    pub async fn call<T: for<'de> serde::Deserialize<'de>>(&self, path: &str, body: Value) -> Outcome<T> {
        self.send_signed(path, body, |bytes, exchange| {
            crate::http::json_answer(bytes, "PayKKa", exchange).and_then(|v| parse_envelope(&v))
        })
        .await
    }

    /// For the calls the document answers with "No content" (capture, void, token removal,
    /// recurring cancellation): an empty answer, or one without `ret_code`, is accepted with
    /// whatever order data it carries (`None` when it carries none) for the caller to
    /// confirm; a `ret_code` is read as usual. An answer that cannot be read is accepted
    /// too, as nothing: the money may have moved, and only a query can say.
    pub async fn call_no_content<T: for<'de> serde::Deserialize<'de>>(
        &self,
        path: &str,
        body: Value,
    ) -> Outcome<Option<T>> {
        self.send_signed(path, body, |bytes, exchange| {
            let accepted = exchange.http_status.is_some_and(|s| (200..300).contains(&s));
            if bytes.iter().all(u8::is_ascii_whitespace) {
                if accepted {
                    exchange.response = Some(Value::Null);
                    return Ok(None);
                }
                return Err(GatewayError::Protocol { provider: "PayKKa", message: "an empty answer, not 2xx".into() });
            }
            let v = crate::http::json_answer(bytes, "PayKKa", exchange)?;
            if v.get("ret_code").is_some() || !accepted {
                return parse_envelope::<Option<T>>(&v);
            }
            Ok(serde_json::from_value::<T>(v).ok())
        })
        .await
    }

    async fn send_signed<T>(
        &self,
        path: &str,
        mut body: Value,
        read: impl FnOnce(&[u8], &mut Exchange) -> Result<T, GatewayError>,
    ) -> Outcome<T> {
        body["merchant_id"] = Value::String(self.merchant_id.clone());
        body["timestamp"] = Value::from(now_ms());
        let text = body.to_string();
        let timestamp = now_ms().to_string();
        let nonce = new_nonce();
        let sign = self.key.sign_header(&signing::string_to_sign("POST", path, &timestamp, &nonce, &text));
        let headers: std::collections::BTreeMap<String, String> = [
            ("content-type", "application/json".to_string()),
            ("x-paykka-appid", self.app_id.clone()),
            ("x-paykka-timestamp", timestamp),
            ("x-paykka-nonce", nonce),
            ("x-paykka-sign-alg", signing::SIGN_ALG.to_string()),
            ("x-paykka-sign", sign),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut exchange = Exchange {
            method: "POST".into(),
            path: path.into(),
            headers: headers.clone(),
            body,
            http_status: None,
            response: None,
            server_date: None,
        };
        let mut request = self.http.post(format!("{}{}", self.base_url, path)).body(text);
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let (answer_headers, bytes) = match crate::http::send(request, "PayKKa", &mut exchange).await {
            Ok(answer) => (answer.headers, answer.body),
            Err(e) => return Outcome { exchange: Some(exchange), result: Err(e) },
        };
        if let Some(problem) = self.answer_signature_problem(path, &answer_headers, &bytes) {
            exchange.response = Some(crate::http::excerpt_of(&bytes));
            return Outcome {
                exchange: Some(exchange),
                result: Err(GatewayError::Protocol { provider: "PayKKa", message: problem.into() }),
            };
        }
        let result = read(&bytes, &mut exchange);
        Outcome { exchange: Some(exchange), result }
    }
}

impl PaykkaClient {
    /// Why an answer's signature cannot be trusted, if it cannot: one that is present must
    /// verify; one that is absent is a problem only where the profile requires it.
    fn answer_signature_problem(
        &self,
        path: &str,
        headers: &std::collections::BTreeMap<String, String>,
        body: &[u8],
    ) -> Option<&'static str> {
        let signed = headers.get("x-paykka-sign").is_some_and(|s| !s.is_empty());
        match (&self.platform_public_key, signed) {
            (Some(platform), true) if !answer_verifies(platform, path, headers, body) => {
                Some("the answer's signature does not verify with PayKKa's platform key")
            }
            (None, _) if self.require_signed_answers => {
                Some("this profile requires signed answers but has no PayKKa platform key to check them")
            }
            (_, false) if self.require_signed_answers => {
                Some("the answer is not signed, and this profile requires signed answers")
            }
            _ => None,
        }
    }
}

/// Whether a message PayKKa signed (an answer, or a webhook at `path`) verifies with its
/// platform key, over exactly the bytes received.
pub fn answer_verifies(
    platform_pem: &str,
    path: &str,
    headers: &std::collections::BTreeMap<String, String>,
    body: &[u8],
) -> bool {
    let get = |k: &str| headers.get(k).map(String::as_str).unwrap_or("");
    let Ok(text) = std::str::from_utf8(body) else { return false };
    let message = signing::string_to_sign("POST", path, get("x-paykka-timestamp"), get("x-paykka-nonce"), text);
    signing::verify_header(platform_pem, &message, get("x-paykka-sign")).unwrap_or(false)
}
