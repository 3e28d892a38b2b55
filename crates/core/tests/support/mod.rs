//! Demo mode for the core's tests, as a host starts it: the embedded sandbox on loopback
//! (state in the test's home), the demo merchant, and the local notification listener.

use paydesk_core::demo;
use paydesk_core::Paydesk;
use paydesk_sandbox::Sandbox;
use std::sync::Arc;

/// With the local notification listener, as the window runs it.
#[allow(dead_code)]
pub async fn demo_paydesk(dir: &tempfile::TempDir) -> Arc<Paydesk> {
    demo_paydesk_with(dir, true).await
}

/// Without a listener (as the CLI runs it): status comes only from queries.
#[allow(dead_code)]
pub async fn demo_paydesk_quiet(dir: &tempfile::TempDir) -> Arc<Paydesk> {
    demo_paydesk_with(dir, false).await
}

async fn demo_paydesk_with(dir: &tempfile::TempDir, listener: bool) -> Arc<Paydesk> {
    let paydesk = Arc::new(Paydesk::open(dir.path()).unwrap());
    let mut setup = paydesk_sandbox::demo::start(dir.path(), &Default::default()).await.unwrap();
    if listener {
        setup = setup.with_listener("127.0.0.1:0".parse().unwrap());
    }
    demo::enable(&paydesk, setup).await.unwrap();
    paydesk
}

/// The embedded sandbox demo mode sells against.
pub fn sandbox(paydesk: &Paydesk) -> &Sandbox {
    paydesk.demo().unwrap().kept::<Sandbox>().unwrap()
}
