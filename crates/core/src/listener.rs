//! A running local HTTP server (a notification listener, the LAN customer display): its
//! address, and its shutdown when dropped. Kept apart from the handlers so the core's state
//! can hold servers without depending on them.

use std::net::SocketAddr;
use tokio::sync::oneshot;

pub struct Server {
    addr: SocketAddr,
    _shutdown: oneshot::Sender<()>,
}

/// A notification listener is such a server.
pub type NotificationListener = Server;

impl Server {
    /// Serves `app` on `listener`, within `limits`, until the returned handle is dropped.
    pub(crate) fn spawn(
        listener: tokio::net::TcpListener,
        addr: SocketAddr,
        app: axum::Router,
        limits: paydesk_doors::Limits,
    ) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(paydesk_doors::serve(listener, app, limits, async {
            let _ = rx.await;
        }));
        Server { addr, _shutdown: tx }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where a provider posts its notifications for `profile` to this listener.
    pub fn url_for(&self, provider: &str, profile: &str) -> String {
        format!("http://{}/notify/{provider}/{profile}", self.addr)
    }
}
