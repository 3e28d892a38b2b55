//! What every provider client shares on the wire: timeouts, the cap on an answer's size,
//! and error texts without URLs.

use crate::GatewayError;
use std::time::Duration;

/// Connecting may take this long before the provider counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole request (connect, send, wait, read) may take this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest answer read; a larger one is refused and nothing past this is kept.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// An HTTP client with Paydesk's timeouts. Build one per profile and reuse it.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        // A provider's answer is never a redirect we should follow with our signed body.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client with static settings")
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the answer is larger than {} bytes and was refused", MAX_ANSWER_BYTES)]
    TooLarge,
    #[error("its answer broke off: {0}")]
    Broken(String),
}

impl ReadError {
    pub fn into_gateway(self, provider: &'static str) -> GatewayError {
        match self {
            ReadError::TooLarge => GatewayError::Protocol { provider, message: self.to_string() },
            // A body cut short may mean the provider did act: the request's fate is unknown.
            ReadError::Broken(_) => GatewayError::Unreachable { provider, message: self.to_string() },
        }
    }
}

/// Reads the body, refusing (and dropping) it as soon as it passes `max` bytes.
pub async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(ReadError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(ReadError::Broken(describe(&e))),
        }
    }
}

/// An answer's JSON, kept in the exchange; an answer that is not JSON is kept as a short
/// excerpt and refused as a protocol fault.
pub fn json_answer(
    bytes: &[u8],
    provider: &'static str,
    exchange: &mut crate::gateway::Exchange,
) -> Result<serde_json::Value, GatewayError> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => {
            exchange.response = Some(v.clone());
            Ok(v)
        }
        Err(e) => {
            exchange.response = Some(excerpt_of(bytes));
            Err(GatewayError::Protocol { provider, message: format!("the answer is not JSON ({e})") })
        }
    }
}

/// A short, printable excerpt of an answer that is not what we expected, for the ledger.
pub fn excerpt_of(bytes: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    let clean: String = text.chars().map(|c| if crate::text::is_forbidden(c) { '?' } else { c }).collect();
    serde_json::json!({"not_json": clean, "bytes": bytes.len()})
}

/// The cause of a transport error, without the URL reqwest puts in its Display.
pub fn describe(e: &reqwest::Error) -> String {
    let mut root = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    in_words(e.is_timeout(), e.is_connect(), &root)
}

/// What happened on the wire, as a cashier reads it (no URL, no library's jargon).
fn in_words(timeout: bool, connect: bool, root: &str) -> String {
    let root_lower = root.to_ascii_lowercase();
    if timeout && connect {
        format!("no connection within {} s", CONNECT_TIMEOUT.as_secs())
    } else if timeout {
        format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())
    } else if root_lower.contains("refused") {
        "the connection was refused".into()
    } else if root_lower.contains("dns") || root_lower.contains("lookup") || root_lower.contains("name or service") {
        "its address could not be found".into()
    } else if root_lower.contains("closed before message completed") || root_lower.contains("incomplete") {
        "the connection closed before the answer came".into()
    } else if root_lower.contains("reset") {
        "the connection was cut".into()
    } else if connect {
        format!("the connection could not be made: {root}")
    } else {
        root.to_string()
    }
}
/// What came back for a sent request: its headers (names lower-case) and its body, read
/// within [`MAX_ANSWER_BYTES`].
pub struct Answer {
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Sends `request` and reads the answer into `exchange` (its HTTP status, or what was
/// unread), in one shape for every provider: no answer is `Unreachable`, an answer too
/// large a `Protocol` fault, one cut short `Unreachable` (the request's fate is unknown).
pub async fn send(
    request: reqwest::RequestBuilder,
    provider: &'static str,
    exchange: &mut crate::gateway::Exchange,
) -> Result<Answer, GatewayError> {
    let response = request.send().await.map_err(|e| GatewayError::Unreachable { provider, message: describe(&e) })?;
    exchange.http_status = Some(response.status().as_u16());
    exchange.server_date = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .map(|d| d.chars().take(64).collect());
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string())))
        .collect();
    match read_capped(response, MAX_ANSWER_BYTES).await {
        Ok(body) => Ok(Answer { headers, body }),
        Err(e) => {
            exchange.response = Some(serde_json::json!({"unread": e.to_string()}));
            Err(e.into_gateway(provider))
        }
    }
}

#[cfg(test)]
mod words_tests {
    use super::in_words;

    #[test]
    fn what_happened_on_the_wire_is_said_in_words() {
        assert_eq!(
            in_words(false, false, "connection closed before message completed"),
            "the connection closed before the answer came"
        );
        assert_eq!(in_words(false, true, "Connection refused (os error 111)"), "the connection was refused");
        assert_eq!(in_words(true, false, "operation timed out"), "no answer within 20 s");
        assert_eq!(in_words(true, true, "operation timed out"), "no connection within 5 s");
    }
}
