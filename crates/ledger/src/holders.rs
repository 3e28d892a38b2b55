//! Who holds a ledger file. Every process that has a ledger file open holds a shared lock
//! on a side file beside it (`ledger.sqlite3.lock`) for as long as it does; a restore takes
//! that lock alone, so it never replaces the books under a running counter or CLI, and it
//! names who holds them when it cannot.
//!
//! One open side file per process and ledger, counted: `flock` locks belong to the open
//! file, so all of a process's ledgers share one, and the restore's own process converts
//! its lock instead of waiting on itself.

use crate::{LedgerError, Result};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each lock file this process holds: its one open handle and how many ledgers share it.
type Held = HashMap<PathBuf, (Arc<File>, usize)>;
static HELD: Mutex<Option<Held>> = Mutex::new(None);

/// How long an opening process waits for a restore under way to finish.
const RESTORE_WAIT: Duration = Duration::from_secs(15);

/// The side file of a ledger file.
pub fn lock_file_of(ledger: &Path) -> PathBuf {
    let name = ledger.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    ledger.with_file_name(format!("{name}.lock"))
}

/// A process's share in a ledger file, for as long as it lives.
#[derive(Debug)]
pub(crate) struct Hold {
    lock: PathBuf,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(map) = held.as_mut() {
            if let Some((_, count)) = map.get_mut(&self.lock) {
                *count -= 1;
                if *count == 0 {
                    // Closing the last handle lets the lock go.
                    map.remove(&self.lock);
                }
            }
        }
    }
}

/// Holds `ledger` shared (waiting while a restore has it alone).
pub(crate) fn hold(ledger: &Path) -> Result<Hold> {
    let lock = lock_file_of(ledger);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let map = held.get_or_insert_with(HashMap::new);
    if let Some((_, count)) = map.get_mut(&lock) {
        *count += 1;
        return Ok(Hold { lock });
    }
    let file = crate::open_private_file(&lock).map_err(|e| lock_error(&lock, e))?;
    let deadline = Instant::now() + RESTORE_WAIT;
    loop {
        match file.try_lock_shared() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LedgerError::Conflict(format!(
                    "the ledger is being restored{}; try again when it has finished",
                    who_else(&file).map(|w| format!(" by {w}")).unwrap_or_default()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(lock_error(&lock, e)),
        }
    }
    map.insert(lock.clone(), (Arc::new(file), 1));
    Ok(Hold { lock })
}

/// This process's lock on `ledger` taken alone, until dropped (then shared again).
pub(crate) struct Alone {
    file: Arc<File>,
    _hold: Hold,
}

impl Drop for Alone {
    fn drop(&mut self) {
        let _ = self.file.lock_shared();
    }
}

/// Takes `ledger` alone, or says who else holds it.
pub(crate) fn alone(ledger: &Path) -> Result<Alone> {
    let hold = hold(ledger)?;
    let file = {
        let held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref().and_then(|m| m.get(&hold.lock)).map(|(f, _)| f.clone()).expect("held above")
    };
    // A holder nobody can name has just let go: it is asked again a few times.
    for attempt in 0.. {
        match file.try_lock() {
            Ok(()) => return Ok(Alone { file, _hold: hold }),
            Err(e) => {
                // A refused conversion has let the shared lock go: take it back.
                let _ = file.lock_shared();
                match e {
                    std::fs::TryLockError::WouldBlock => match who_else(&file) {
                        None if attempt < 5 => std::thread::sleep(Duration::from_millis(50)),
                        who => {
                            let who = who.unwrap_or_else(|| "another process".into());
                            return Err(LedgerError::Conflict(format!(
                                "the ledger is open in {who}; close it (the app, a listener or another command) first"
                            )));
                        }
                    },
                    std::fs::TryLockError::Error(e) => return Err(lock_error(&hold.lock, e)),
                }
            }
        }
    }
    unreachable!("the loop returns")
}

fn lock_error(lock: &Path, e: std::io::Error) -> LedgerError {
    LedgerError::Database(format!("cannot hold the ledger's lock file {}: {e}", lock.display()))
}

/// The other processes holding the side file, as "pid 4242 (paydesk-app)": those /proc/locks
/// names (Linux), else those that have it open (where /proc/locks is empty or its inode numbers
/// are not stat's, as under some container runtimes); None where neither can be read.
fn who_else(file: &File) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().ok()?;
    let me = std::process::id();
    let mut pids = locking_pids(meta.ino(), me);
    if pids.is_empty() {
        pids = pids_with_open(meta.dev(), meta.ino(), me);
    }
    pids.sort_unstable();
    pids.dedup();
    if pids.is_empty() {
        return None;
    }
    let named: Vec<String> = pids
        .iter()
        .map(|pid| match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
            Ok(name) => format!("pid {pid} ({})", name.trim()),
            Err(_) => format!("pid {pid}"),
        })
        .collect();
    Some(named.join(", "))
}

/// Processes other than `me` with a flock on inode `ino`, from /proc/locks.
fn locking_pids(ino: u64, me: u32) -> Vec<u32> {
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else { return Vec::new() };
    locks
        .lines()
        .filter_map(|line| {
            // "1: FLOCK  ADVISORY  READ  4242 08:01:123456 0 EOF" (a "->" marks a waiter).
            let fields: Vec<&str> = line.split_whitespace().filter(|f| *f != "->").collect();
            if fields.get(1) != Some(&"FLOCK") {
                return None;
            }
            let pid: u32 = fields.get(4)?.parse().ok()?;
            let locked: u64 = fields.get(5)?.rsplit(':').next()?.parse().ok()?;
            (locked == ino && pid != me).then_some(pid)
        })
        .collect()
}

/// Processes other than `me` (of this user: others' fds cannot be read) with the file of
/// `dev`/`ino` open, from /proc/PID/fd.
fn pids_with_open(dev: u64, ino: u64, me: u32) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let Ok(procs) = std::fs::read_dir("/proc") else { return Vec::new() };
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
            fds.flatten().any(|fd| std::fs::metadata(fd.path()).is_ok_and(|m| m.dev() == dev && m.ino() == ino))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// The fallback names a process that merely has the file open (here as its stdin).
    #[test]
    fn a_process_with_the_file_open_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite3.lock");
        std::fs::write(&path, b"").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let mut child =
            std::process::Command::new("sleep").arg("30").stdin(File::open(&path).unwrap()).spawn().unwrap();
        let found = pids_with_open(meta.dev(), meta.ino(), std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(found, vec![child.id()]);
    }
}
