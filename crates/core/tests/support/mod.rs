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

/// The core on the engine this run tests: the SQLite file in `dir`, or with
/// `PAYDESK_TEST_ENGINE=postgres` a fresh database of its own on the test server
/// (`PAYDESK_TEST_POSTGRES`, which scripts/test starts). The same tests run on both.
#[allow(dead_code)]
pub fn open_paydesk(dir: &tempfile::TempDir) -> Paydesk {
    match std::env::var("PAYDESK_TEST_ENGINE").as_deref() {
        Ok("postgres") => {
            let server = std::env::var("PAYDESK_TEST_POSTGRES").expect("PAYDESK_TEST_POSTGRES names the test server");
            let name = format!("core_{}", rand_suffix());
            let url = paydesk_ledger::postgres::create_database(&server, &name).unwrap();
            Paydesk::open_at(dir.path(), &paydesk_ledger::Location::Shared(url)).unwrap()
        }
        _ => Paydesk::open(dir.path()).unwrap(),
    }
}

fn rand_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    format!("{:016x}", h.finish())
}

async fn demo_paydesk_with(dir: &tempfile::TempDir, listener: bool) -> Arc<Paydesk> {
    let paydesk = Arc::new(open_paydesk(dir));
    let mut setup = paydesk_sandbox::demo::start(dir.path(), &Default::default()).await.unwrap();
    if listener {
        setup = setup.with_listener("127.0.0.1:0".parse().unwrap());
    }
    demo::enable(&paydesk, setup).await.unwrap();
    paydesk
}

/// The embedded sandbox demo mode sells against.
#[allow(dead_code)]
pub fn sandbox(paydesk: &Paydesk) -> &Sandbox {
    paydesk.demo().unwrap().kept::<Sandbox>().unwrap()
}

/// A second counter on the first one's ledger (its file, or its shared database), selling
/// against the first one's sandbox: two machines, one ledger.
#[allow(dead_code)]
pub async fn second_counter(dir: &tempfile::TempDir, first: &Paydesk) -> Arc<Paydesk> {
    let paydesk = Arc::new(Paydesk::open_at(dir.path(), &first.ledger_location()).unwrap());
    let options = paydesk_sandbox::demo::DemoSandboxOptions {
        external_url: Some(first.demo().unwrap().base_url().to_string()),
        ..Default::default()
    };
    let setup = paydesk_sandbox::demo::start(dir.path(), &options).await.unwrap();
    demo::enable(&paydesk, setup).await.unwrap();
    paydesk
}
