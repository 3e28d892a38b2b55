// The config sits at the workspace root (see DEVELOPERS.md); the app's own commands are
// declared here so the capability file can allow exactly them and nothing else.
fn main() {
    const COMMANDS: &[&str] = &[
        "app_info",
        "ui_ready",
        "create_payment",
        "poll_payment",
        "refresh_payment",
        "retry_payment",
        "list_payments",
        "payment_detail",
        "refund_payment",
        "cancel_payment",
        "capture_payment",
        "void_payment",
        "list_customers",
        "create_customer",
        "get_customer",
        "update_customer",
        "list_profiles",
        "save_profile",
        "delete_profile",
        "delete_token",
        "test_connection",
        "list_tokens",
        "saved_tokens",
        "remove_token",
        "cancel_recurring",
    ];
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=../ui");
    println!("cargo:rerun-if-changed=capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build");
}
