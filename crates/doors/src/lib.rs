//! Doors with locks: every HTTP server Paydesk runs (the notification listener, the LAN
//! customer display, the demo sandbox) is served through `serve`, which bounds what a
//! noisy network or a hostile neighbour can hold open:
//!
//! - at most `max_connections` at once; more are closed at once, never queued, so the
//!   process keeps descriptors for its own work (the ledger, the window, the providers);
//! - a request's headers must arrive within `header_timeout`;
//! - a request (its body read and its answer made) ends within `request_timeout`;
//! - a connection is closed after `idle_timeout` without a request (after `PRESSED_IDLE`
//!   while half the connections or more are taken: silent sockets make room for real
//!   requests within a second or two), and after `connection_lifetime` whatever it does.
//!
//! `raise_open_files_limit` lifts the soft descriptor limit to the hard one at start.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The bounds of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub connection_lifetime: Duration,
}

impl Limits {
    /// A notification listener: providers post a few KB and wait for an answer.
    pub const NOTIFICATIONS: Limits = Limits {
        max_connections: 256,
        header_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(10),
        connection_lifetime: Duration::from_secs(120),
    };
    /// The LAN customer display: one or two tablets asking every few seconds (a request
    /// may wait for the next change up to its own long poll).
    pub const DISPLAY: Limits = Limits {
        max_connections: 64,
        header_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(40),
        idle_timeout: Duration::from_secs(30),
        connection_lifetime: Duration::from_secs(300),
    };
    /// The demo sandbox: the app itself, tests and a phone paying.
    pub const SANDBOX: Limits = Limits {
        max_connections: 512,
        header_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(30),
        connection_lifetime: Duration::from_secs(300),
    };
}

/// How long a connection may sit without a request while the server is pressed.
pub const PRESSED_IDLE: Duration = Duration::from_secs(1);

/// How many connections a server holds now (for tests and diagnostics).
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicUsize>);

impl Gauge {
    pub fn open_connections(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> Gauge {
    let gauge = Gauge::default();
    let open = gauge.clone();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors (or another passing error): wait instead of spinning;
                // the connections we hold end within their bounds.
                tracing::warn!(error = %e, "cannot accept a connection now");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if open.0.fetch_add(1, Ordering::AcqRel) >= limits.max_connections {
            open.0.fetch_sub(1, Ordering::AcqRel);
            // Closed at once: a flood costs it one descriptor for an instant.
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (app, open) = (app.clone(), open.clone());
        tokio::spawn(async move {
            serve_connection(stream, peer, app, limits, &open).await;
            open.0.fetch_sub(1, Ordering::AcqRel);
        });
    }
    gauge
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: axum::Router,
    limits: Limits,
    open: &Gauge,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    // Requests answered so far, and when the last one ended: the idle watch reads them.
    let served = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let service = {
        let (served, busy) = (served.clone(), busy.clone());
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let app = app.clone();
            let (served, busy) = (served.clone(), busy.clone());
            async move {
                busy.fetch_add(1, Ordering::AcqRel);
                let answer =
                    tokio::time::timeout(limits.request_timeout, tower::ServiceExt::oneshot(app, request)).await;
                busy.fetch_sub(1, Ordering::AcqRel);
                served.fetch_add(1, Ordering::AcqRel);
                Ok::<_, std::convert::Infallible>(match answer {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => {
                        let mut late = axum::response::Response::new(axum::body::Body::from("request timed out"));
                        *late.status_mut() = axum::http::StatusCode::REQUEST_TIMEOUT;
                        late
                    }
                })
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(64 * 1024);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let lifetime = tokio::time::sleep(limits.connection_lifetime);
    let mut lifetime = std::pin::pin!(lifetime);
    let mut last_seen = served.load(Ordering::Acquire);
    let mut idle_since = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250).min(limits.idle_timeout));
    loop {
        tokio::select! {
            _ = &mut connection => return,
            _ = &mut lifetime => break,
            _ = tick.tick() => {
                let now_served = served.load(Ordering::Acquire);
                if now_served != last_seen || busy.load(Ordering::Acquire) > 0 {
                    last_seen = now_served;
                    idle_since = tokio::time::Instant::now();
                } else {
                    let pressed = open.open_connections() * 2 >= limits.max_connections;
                    let allowed = if pressed { PRESSED_IDLE.min(limits.idle_timeout) } else { limits.idle_timeout };
                    if idle_since.elapsed() >= allowed {
                        break;
                    }
                }
            }
        }
    }
    // Out of time: a graceful end lets an answer being written finish, then closes.
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(2), connection).await;
    tracing::debug!(%peer, "connection closed at its bound");
}

/// Lifts the soft limit of open descriptors to the hard one (commonly 1,024 → 524,288), so
/// WebKit, SQLite and the providers' connections never starve because a server is busy.
/// Returns the limit now in force.
#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return Some(raised.rlim_cur as u64);
            }
        }
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}
