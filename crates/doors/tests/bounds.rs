//! The bounds on a real server on 127.0.0.1: silent sockets, a slow body and a flood beyond
//! the connection cap never keep a real request out for long.

use paydesk_doors::{serve, Limits};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn app() -> axum::Router {
    axum::Router::new()
        .route("/echo", axum::routing::post(|body: axum::body::Bytes| async move { format!("{} bytes", body.len()) }))
}

async fn start(limits: Limits) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app(), limits, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

const QUICK: Limits = Limits {
    max_connections: 64,
    header_timeout: Duration::from_secs(1),
    request_timeout: Duration::from_secs(1),
    idle_timeout: Duration::from_secs(2),
    connection_lifetime: Duration::from_secs(30),
};

/// Whether the server closed `socket` within `within` (a read returns end of file or fails).
fn closed_within(socket: &mut std::net::TcpStream, within: Duration) -> bool {
    socket.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_slow_connections_are_closed_at_their_bounds() {
    let (addr, _stop) = start(QUICK).await;
    tokio::task::spawn_blocking(move || {
        // Connected, never a byte: closed at the header timeout.
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        assert!(closed_within(&mut silent, Duration::from_secs(5)), "a silent socket stays open");
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        // Headers promise a body that never comes: answered 408 at the request timeout.
        let mut slow = std::net::TcpStream::connect(addr).unwrap();
        slow.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc").unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut answer = String::new();
        let _ = slow.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_sockets_never_keeps_a_real_request_out() {
    paydesk_doors::raise_open_files_limit();
    let (addr, _stop) = start(Limits::NOTIFICATIONS).await;
    let flood: Vec<std::net::TcpStream> = tokio::task::spawn_blocking(move || {
        (0..2000).filter_map(|_| std::net::TcpStream::connect(addr).ok()).collect()
    })
    .await
    .unwrap();
    assert!(flood.len() >= 1900, "the flood connected: {}", flood.len());
    // The sockets stay open on the flooder's side; the server sheds them while pressed.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let started = Instant::now();
        let answer = client.post(format!("http://{addr}/echo")).body("hello").send().await.unwrap();
        assert_eq!(answer.text().await.unwrap(), "5 bytes");
        assert!(started.elapsed() < Duration::from_secs(1), "a real request waited {:?}", started.elapsed());
    }
    drop(flood);
}
