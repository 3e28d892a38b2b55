//! An empty Tauri app: one window, one static page. The window benchmark measures it beside
//! Paydesk in the same run, so Paydesk's figures are read against what Tauri itself costs.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default().run(tauri::generate_context!()).expect("the empty app runs");
}
