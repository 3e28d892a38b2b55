use std::path::PathBuf;

/// Where Paydesk keeps its ledger: `$PAYDESK_HOME`, else the user's local data folder as the
/// desktop keeps it (`$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application
/// Support` on macOS, the local, not roaming, `AppData` on Windows), in `paydesk`.
pub fn home() -> PathBuf {
    if let Some(h) = std::env::var_os("PAYDESK_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    match dirs::data_local_dir() {
        Some(data) => data.join("paydesk"),
        None => PathBuf::from(".paydesk"),
    }
}
