//! The sandbox's door to the shop's network: the same sandbox served on a second address
//! while open, so a phone on the same network can pay a demo sale.

use crate::state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// The sandbox's door to the shop's network (see [`paydesk_gateways::demo::NetworkDoor`]):
/// the same sandbox served on a second address while open.
pub struct Door {
    pub(crate) shared: Arc<Shared>,
    /// What links point at while the door is closed.
    pub(crate) own_base: String,
    pub(crate) open: std::sync::Mutex<Option<OpenDoor>>,
}

pub(crate) struct OpenDoor {
    addr: SocketAddr,
    /// Cleared at closing: connections a phone still holds are answered "closed" from then.
    serving: Arc<std::sync::atomic::AtomicBool>,
    _stop: oneshot::Sender<()>,
}

impl Drop for OpenDoor {
    fn drop(&mut self) {
        self.serving.store(false, std::sync::atomic::Ordering::Release);
    }
}

impl Door {
    fn opened(&self) -> std::sync::MutexGuard<'_, Option<OpenDoor>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the door is open, if it is.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.opened().as_ref().map(|door| door.addr)
    }
}

async fn while_open(
    axum::extract::State(serving): axum::extract::State<Arc<std::sync::atomic::AtomicBool>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if serving.load(std::sync::atomic::Ordering::Acquire) {
        next.run(request).await
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::CONNECTION, "close")],
            "closed to the network",
        )
            .into_response()
    }
}

impl paydesk_gateways::demo::NetworkDoor for Door {
    fn open(
        &self,
        ip: std::net::IpAddr,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move {
            if let Some(addr) = self.addr().filter(|addr| addr.ip() == ip) {
                return Ok(format!("http://{addr}"));
            }
            let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, 0))
                .await
                .map_err(|e| format!("cannot listen on {ip}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let (tx, rx) = oneshot::channel::<()>();
            let serving = Arc::new(std::sync::atomic::AtomicBool::new(true));
            let app = crate::router(self.shared.clone())
                .layer(axum::middleware::from_fn_with_state(serving.clone(), while_open));
            tokio::spawn(paydesk_doors::serve(listener, app, paydesk_doors::Limits::SANDBOX, async {
                let _ = rx.await;
            }));
            let url = format!("http://{addr}");
            self.shared.set_link_base(url.clone());
            // A door open elsewhere before closes as this one replaces it.
            *self.opened() = Some(OpenDoor { addr, serving, _stop: tx });
            tracing::info!(%addr, "sandbox open to the network");
            Ok(url)
        })
    }

    fn close(&self) {
        self.shared.set_link_base(self.own_base.clone());
        *self.opened() = None;
    }
}
