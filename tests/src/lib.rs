//! Helpers for the end-to-end tests: locating the built binaries and running them.

pub mod webdriver;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// `target/debug` (or wherever cargo put this test), where `paydesk` and `paydesk-app` are.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> -> target/debug
    exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
}

pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace --bins` first (scripts/test does)",
        path.display()
    );
    path
}

/// A `paydesk` command with its own ledger folder.
pub fn paydesk(home: &Path) -> Command {
    let mut c = Command::new(binary("paydesk"));
    c.env("PAYDESK_HOME", home).env("RUST_LOG", "warn");
    if let Some(url) = test_ledger_for(home) {
        c.env("PAYDESK_LEDGER", url);
    }
    c
}

/// With `PAYDESK_TEST_ENGINE=postgres` (the suite's second pass) each home sells into a
/// shared ledger of its own on the test server (`PAYDESK_TEST_POSTGRES`), made on first use.
pub fn test_ledger_for(home: &Path) -> Option<String> {
    if std::env::var("PAYDESK_TEST_ENGINE").as_deref() != Ok("postgres") {
        return None;
    }
    let marker = home.join(".test-shared-ledger");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return Some(url);
    }
    let url = fresh_shared_ledger("e2e");
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(&marker, &url).unwrap();
    Some(url)
}

/// A new, empty database on the test server, by URL.
pub fn fresh_shared_ledger(prefix: &str) -> String {
    let server = std::env::var("PAYDESK_TEST_POSTGRES")
        .expect("PAYDESK_TEST_POSTGRES is not set: scripts/test starts a throwaway PostgreSQL for these tests");
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("{prefix}_{}_{}", std::process::id(), stamp % 1_000_000_000_000);
    paydesk_ledger::postgres::create_database(&server, &name).unwrap()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not one JSON document ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

pub fn run(mut cmd: Command, stdin: Option<&str>) -> Run {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

/// A `paydesk sandbox` process; killed on drop.
pub struct SandboxProcess {
    child: Child,
    pub base_url: String,
}

impl SandboxProcess {
    pub fn start(home: &Path, bind: &str) -> Self {
        Self::start_with(home, bind, &[])
    }

    pub fn start_with(home: &Path, bind: &str, extra: &[&str]) -> Self {
        let mut cmd = paydesk(home);
        cmd.args(["--json", "sandbox", "--bind", bind]).args(extra);
        let (child, doc) = spawn_announcing(cmd, "sandbox");
        SandboxProcess { child, base_url: doc["base_url"].as_str().unwrap().to_string() }
    }

    pub fn settle(&self, transaction_no: &str, outcome: &str) {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{}/sandbox/settle/{transaction_no}", self.base_url))
            .json(&serde_json::json!({ "outcome": outcome }))
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "settle: {}", resp.status());
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `paydesk ipn listen` process (with `args` after `listen`), once it has announced
/// where it listens; killed on drop.
pub struct NotificationListenerProcess {
    child: Child,
    /// Its first line: `{"listening": …, "notify": […]}`.
    pub announced: serde_json::Value,
}

impl NotificationListenerProcess {
    pub fn start(home: &Path, args: &[&str]) -> Self {
        let mut cmd = paydesk(home);
        cmd.args(["--json", "ipn", "listen"]).args(args);
        let (child, announced) = spawn_announcing(cmd, "listener");
        NotificationListenerProcess { child, announced }
    }
}

/// Starts a long-running `paydesk` command and reads the one JSON line it announces itself
/// with (its address), before anything else.
fn spawn_announcing(mut cmd: Command, what: &str) -> (std::process::Child, serde_json::Value) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn paydesk");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let doc = serde_json::from_str(&line).unwrap_or_else(|e| panic!("the {what} announced {line:?}: {e}"));
    (child, doc)
}

impl Drop for NotificationListenerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free now, for another process to listen on, taken below the range the kernel
/// hands out for port 0 (32768 and up here): a server of a test running beside that binds
/// port 0 can otherwise be given it between this check and the other process's bind, as a
/// WebKitWebDriver inspector once was ("Address already in use", and no session for 60 s).
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    // Each process starts somewhere else (std's hasher keys are random per process).
    let start = std::collections::hash_map::RandomState::new().build_hasher().finish() % u64::from(SPAN);
    (0..SPAN)
        .map(|i| FIRST + ((start as u16 + i) % SPAN))
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port below 32000")
}

/// A profile name no other test uses, so keyring entries never collide.
pub fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Status questions the ledger shows were sent to the provider after the payment's
/// notification arrived (0 when the notification alone settled it, pushed to the windows).
pub fn queries_after_notification(home: &Path, reference: &str) -> usize {
    let shown = run(
        {
            let mut c = paydesk(home);
            c.args(["--json", "tx", "show", reference]);
            c
        },
        None,
    )
    .json();
    let events = shown["events"].as_array().unwrap();
    let ipn = events.iter().position(|e| e["kind"] == "ipn").expect("the notification is recorded");
    events[ipn..]
        .iter()
        .filter(|e| e["kind"] == "request" && e["detail"]["path"].as_str().unwrap_or("").contains("query"))
        .count()
}

/// The customer pays (or declines) a demo sale: the sandbox's hook stands in for the phone.
pub fn settle(link: &str, outcome: &str) {
    let settle = link.replace("/cashier/", "/sandbox/settle/");
    let resp =
        reqwest::blocking::Client::new().post(&settle).json(&serde_json::json!({"outcome": outcome})).send().unwrap();
    assert!(resp.status().is_success(), "settle: {}", resp.status());
}

/// A throwaway cluster of this test's own (scripts/lib/postgres.sh), so stopping it
/// disturbs no other test.
pub struct OwnServer {
    dir: tempfile::TempDir,
    pub url: String,
}

impl OwnServer {
    fn script(call: &str, dir: &Path) -> String {
        let lib = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/lib/postgres.sh");
        let out = std::process::Command::new("bash")
            .args(["-c", &format!(". '{lib}' && {call} \"$1\" && echo \"${{PAYDESK_TEST_POSTGRES:-}}\""), "_"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{call}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    pub fn start() -> Self {
        Self::start_with("start_test_postgres")
    }

    pub fn start_with(how: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = Self::script(how, &dir.path().join("pg"));
        Self { dir, url }
    }

    pub fn stop(&self) {
        Self::script("stop_test_postgres", &self.dir.path().join("pg"));
    }

    pub fn resume(&self) {
        Self::script("resume_test_postgres", &self.dir.path().join("pg"));
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `PATH` whose `lpstat` lists no printer (CUPS with none added), ahead of the real one:
/// the window says so instead of opening a print dialog, on any machine the tests run on.
pub fn path_without_printers(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("no-printers");
    std::fs::create_dir_all(&bin).unwrap();
    let lpstat = bin.join("lpstat");
    std::fs::write(&lpstat, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&lpstat, std::fs::Permissions::from_mode(0o700)).unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}
