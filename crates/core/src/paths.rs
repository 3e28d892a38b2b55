use std::path::PathBuf;

/// Where Paydesk keeps its ledger: `$PAYDESK_HOME`, else the user's data directory.
pub fn home() -> PathBuf {
    if let Some(h) = std::env::var_os("PAYDESK_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("paydesk");
    }
    if cfg!(target_os = "macos") {
        if let Some(h) = std::env::var_os("HOME") {
            return PathBuf::from(h).join("Library/Application Support/paydesk");
        }
    }
    if let Some(a) = std::env::var_os("APPDATA") {
        return PathBuf::from(a).join("paydesk");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/paydesk"),
        None => PathBuf::from(".paydesk"),
    }
}
