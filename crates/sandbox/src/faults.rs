//! Faults a test can switch on per endpoint, to prove the console keeps every payment
//! whatever the provider does: answers late, never, half, wrong or far too much.
//! Every fault but `delay` and `unreachable` lets the emulated provider act first, then spoils its answer:
//! the hardest case, where the provider did something the client never hears of.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "fault")]
pub enum Fault {
    /// Waits `ms` before handling the request (a slow provider).
    Delay { ms: u64 },
    /// Breaks the connection without acting: the provider never saw the request.
    Unreachable,
    /// Acts, then sends headers and breaks the connection before any body.
    NoAnswer,
    /// Acts, then answers HTTP 500 with an HTML-ish body.
    #[serde(rename = "http_500")]
    Http500,
    /// Acts, then answers with JSON cut in the middle of an object.
    MalformedJson,
    /// Acts, then sends half of the real answer and breaks the connection.
    Truncated,
    /// Acts, then answers 2 MB (streamed, no length given).
    Oversized,
    /// Acts, then answers about another transaction (reference, number, amount, currency).
    WrongTransaction,
    /// Acts, then answers with a payment link no phone should open (`javascript:`).
    HostileLink,
}

/// Which endpoint: the last part of its path (`tran-query`, `secure-pay`,
/// `create-trans-qrcode`, `refund`, `cancel`, ...) or `*` for every provider endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct FaultRequest {
    pub endpoint: String,
    #[serde(flatten)]
    pub fault: Fault,
    /// How many requests it spoils; none: until cleared.
    #[serde(default)]
    pub times: Option<u32>,
}

#[derive(Default)]
pub(crate) struct Faults {
    by_endpoint: std::sync::Mutex<HashMap<String, (Fault, Option<u32>)>>,
}

impl Faults {
    pub fn set(&self, endpoint: &str, fault: Fault, times: Option<u32>) {
        self.by_endpoint.lock().unwrap_or_else(|p| p.into_inner()).insert(endpoint.to_string(), (fault, times));
    }

    pub fn clear(&self) {
        self.by_endpoint.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The fault for this path, counting one use.
    fn take(&self, path: &str) -> Option<Fault> {
        if path.starts_with("/sandbox/") || path.starts_with("/cashier/") || path == "/" || path == "/return" {
            return None;
        }
        let endpoint = path.rsplit('/').next().unwrap_or("");
        let mut all = self.by_endpoint.lock().unwrap_or_else(|p| p.into_inner());
        let key = [endpoint, "*"].into_iter().find(|k| all.contains_key(*k))?.to_string();
        let (fault, times) = all.get_mut(&key)?;
        let fault = fault.clone();
        if let Some(n) = times {
            *n -= 1;
            if *n == 0 {
                all.remove(&key);
            }
        }
        Some(fault)
    }
}

pub(crate) async fn inject(State(faults): State<Arc<Faults>>, request: Request, next: Next) -> Response {
    let Some(fault) = faults.take(request.uri().path()) else {
        return next.run(request).await;
    };
    match fault {
        Fault::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return next.run(request).await;
        }
        Fault::Unreachable => return (StatusCode::OK, broken_body(Vec::new())).into_response(),
        _ => {}
    }
    let answer = next.run(request).await;
    let body = axum::body::to_bytes(answer.into_body(), 1 << 20).await.unwrap_or_default();
    let json = [(header::CONTENT_TYPE, "application/json")];
    match fault {
        Fault::Delay { .. } | Fault::Unreachable => unreachable!("handled above"),
        Fault::NoAnswer => (StatusCode::OK, json, broken_body(Vec::new())).into_response(),
        Fault::Http500 => {
            (StatusCode::INTERNAL_SERVER_ERROR, "<html><body>500 Internal Server Error</body></html>").into_response()
        }
        Fault::MalformedJson => {
            (StatusCode::OK, json, r#"{"ret_code":"000100","ret_msg":"ok","result":{"transactionNo":"#).into_response()
        }
        Fault::Truncated => {
            let half = body[..body.len() / 2].to_vec();
            let mut r = (StatusCode::OK, json, broken_body(half)).into_response();
            r.headers_mut().insert(header::CONTENT_LENGTH, body.len().into());
            r
        }
        Fault::Oversized => {
            let chunk = bytes_of_padding(64 * 1024);
            let stream = futures_stream(
                std::iter::once(br#"{"ret_code":"000100","ret_msg":"ok","result":{"pad":""#.to_vec())
                    .chain(std::iter::repeat_n(chunk, 32))
                    .chain(std::iter::once(br#""}}"#.to_vec())),
            );
            (StatusCode::OK, json, Body::from_stream(stream)).into_response()
        }
        Fault::HostileLink => {
            let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(result) = v.get_mut("result").and_then(serde_json::Value::as_object_mut) {
                for key in ["deepLink", "cashierUrl"] {
                    if result.contains_key(key) {
                        result.insert(key.into(), "javascript:alert(document.cookie)".into());
                    }
                }
            }
            (StatusCode::OK, Json(v)).into_response()
        }
        Fault::WrongTransaction => {
            let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(result) = v.get_mut("result").and_then(serde_json::Value::as_object_mut) {
                result.insert("reference".into(), "PD-SOMEONE-ELSE".into());
                result.insert("transactionNo".into(), "399999999999999999".into());
                result.insert("amount".into(), "0.01".into());
                result.insert("currency".into(), "CNY".into());
                result.insert("refundTransactionNo".into(), "399999999999999998".into());
                result.insert("refundReference".into(), "PD-SOMEONE-ELSE-R1".into());
                result.insert("refundAmount".into(), "0.01".into());
            }
            (StatusCode::OK, Json(v)).into_response()
        }
    }
}

fn bytes_of_padding(n: usize) -> Vec<u8> {
    vec![b'x'; n]
}

fn futures_stream(
    parts: impl Iterator<Item = Vec<u8>> + Send + Unpin + 'static,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    IterStream(parts.map(Ok))
}

/// Sends `first` then fails, which makes the server drop the connection mid-answer.
fn broken_body(first: Vec<u8>) -> Body {
    let parts: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(first), Err(std::io::Error::other("sandbox fault: connection broken"))];
    Body::from_stream(IterStream(parts.into_iter()))
}

/// A stream over an iterator, without pulling in a stream utility crate.
struct IterStream<I>(I);

impl<I: Iterator + Unpin> futures_core::Stream for IterStream<I> {
    type Item = I::Item;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.next())
    }
}

pub(crate) async fn set(State(faults): State<Arc<Faults>>, Json(req): Json<FaultRequest>) -> StatusCode {
    faults.set(&req.endpoint, req.fault, req.times);
    StatusCode::NO_CONTENT
}

pub(crate) async fn clear(State(faults): State<Arc<Faults>>) -> StatusCode {
    faults.clear();
    StatusCode::NO_CONTENT
}
