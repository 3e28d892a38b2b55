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
        .dns_resolver(std::sync::Arc::new(SystemResolver))
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
    match fault_of(e) {
        WireFault::NoConnectionInTime => format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()),
        WireFault::NoAnswerInTime => format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
        WireFault::Refused => "the connection was refused".into(),
        WireFault::NameNotFound => "its address could not be found".into(),
        WireFault::ClosedEarly => "the connection closed before the answer came".into(),
        WireFault::Cut => "the connection was cut".into(),
        WireFault::Other => {
            let root = root_cause(e);
            if e.is_connect() {
                format!("the connection could not be made: {root}")
            } else {
                root
            }
        }
    }
}

/// What happened on the wire, told by the error's types (io kinds, hyper's own tests, our
/// resolver's failure), never by its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WireFault {
    NoConnectionInTime,
    NoAnswerInTime,
    Refused,
    NameNotFound,
    ClosedEarly,
    Cut,
    Other,
}

fn fault_of(e: &reqwest::Error) -> WireFault {
    use std::io::ErrorKind;
    if e.is_timeout() {
        return if e.is_connect() { WireFault::NoConnectionInTime } else { WireFault::NoAnswerInTime };
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<NameNotFound>() {
            return WireFault::NameNotFound;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused => return WireFault::Refused,
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                    return WireFault::Cut
                }
                ErrorKind::UnexpectedEof => return WireFault::ClosedEarly,
                _ => {}
            }
        }
        if s.downcast_ref::<hyper::Error>().is_some_and(|h| h.is_incomplete_message()) {
            return WireFault::ClosedEarly;
        }
        source = s.source();
    }
    WireFault::Other
}

/// The innermost error's own words, which carry no URL.
fn root_cause(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(s) = root.source() {
        root = s;
    }
    root.to_string()
}

/// The system's own name lookup (getaddrinfo, as reqwest's default resolver), with its
/// failure typed so that "address not found" is told apart without reading words.
struct SystemResolver;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NameNotFound(std::io::Error);

impl reqwest::dns::Resolve for SystemResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // The port is set by the connector afterwards.
            match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(addrs) => Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as reqwest::dns::Addrs),
                Err(e) => Err(Box::new(NameNotFound(e)) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
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
mod wire_fault_tests {
    //! Real failures on loopback sockets, told apart by type.
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A server on 127.0.0.1 that reads one request and then does `then` to the connection.
    async fn server<F, Fut>(then: F) -> String
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            then(stream).await;
        });
        url
    }

    async fn fault(client: &reqwest::Client, url: &str) -> (WireFault, String) {
        let e = client.get(url).send().await.expect_err("the request must fail");
        (fault_of(&e), describe(&e))
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let (kind, words) = fault(&client(), &url).await;
        assert_eq!(kind, WireFault::Refused);
        assert_eq!(words, "the connection was refused");
    }

    #[tokio::test]
    async fn a_connection_closed_without_an_answer_is_closed_early() {
        let url = server(|stream| async move { drop(stream) }).await;
        let (kind, words) = fault(&client(), &url).await;
        assert_eq!(kind, WireFault::ClosedEarly);
        assert_eq!(words, "the connection closed before the answer came");
    }

    #[tokio::test]
    async fn a_reset_connection_is_cut() {
        let url = server(|stream| async move {
            // Deprecated because a lingering close may block; a zero linger never does, and
            // it is how a reset is sent.
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO)).unwrap();
            drop(stream)
        })
        .await;
        let (kind, words) = fault(&client(), &url).await;
        assert_eq!(kind, WireFault::Cut);
        assert_eq!(words, "the connection was cut");
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_closed_early_and_its_fate_unknown() {
        let url = server(|mut stream| async move {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort").await;
        })
        .await;
        let mut exchange = crate::gateway::Exchange::default();
        let e = send(client().get(&url), "Test", &mut exchange).await.err().expect("cut short");
        assert!(
            matches!(&e, GatewayError::Unreachable { message, .. }
            if message == "its answer broke off: the connection closed before the answer came"),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn no_answer_in_time_is_a_timeout() {
        let url = server(|stream| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(stream)
        })
        .await;
        let impatient = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
        let (kind, words) = fault(&impatient, &url).await;
        assert_eq!(kind, WireFault::NoAnswerInTime);
        assert_eq!(words, "no answer within 20 s");
    }

    /// A failed lookup cannot be made here without asking a name server off this machine,
    /// so the resolver's failure is stood in for; what is tested is that its type survives
    /// reqwest's wrapping.
    #[tokio::test]
    async fn a_name_not_found_is_told_by_its_type() {
        struct NoNames;
        impl reqwest::dns::Resolve for NoNames {
            fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
                Box::pin(async {
                    Err(Box::new(NameNotFound(std::io::Error::other("no such name")))
                        as Box<dyn std::error::Error + Send + Sync>)
                })
            }
        }
        let client = reqwest::Client::builder().dns_resolver(std::sync::Arc::new(NoNames)).build().unwrap();
        let (kind, words) = fault(&client, "http://shop.example/").await;
        assert_eq!(kind, WireFault::NameNotFound);
        assert_eq!(words, "its address could not be found");
    }

    #[tokio::test]
    async fn the_system_resolver_finds_localhost() {
        let url = server(|mut stream| async move {
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await;
        })
        .await;
        let url = url.replace("127.0.0.1", "localhost");
        // localhost may also be ::1, where nobody listens; the connector then tries 127.0.0.1.
        let answer = client().get(&url).send().await.expect("localhost is found");
        assert_eq!(answer.status().as_u16(), 204);
    }
}
