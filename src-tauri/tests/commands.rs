//! The shell's commands through Tauri's mock runtime, with the app's real config and
//! capabilities (so a command the capability does not allow would fail here too).

use paydesk_app::{context, with_commands};
use paydesk_core::demo;
use paydesk_core::Paydesk;
use paydesk_sandbox::Sandbox;
use serde_json::{json, Value};
use std::sync::Arc;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::Manager;

fn invoke(webview: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn create_payment_command_and_its_pinned_error_json() {
    let home = tempfile::tempdir().unwrap();
    let core = Arc::new(Paydesk::open(home.path()).unwrap());
    tauri::async_runtime::block_on(async {
        let setup = paydesk_sandbox::demo::start(home.path(), &Default::default()).await.unwrap();
        let setup = setup.with_listener("127.0.0.1:0".parse().unwrap());
        demo::enable(&core, setup).await.unwrap();
    });
    let app = with_commands(mock_builder(), core.clone()).build(context()).unwrap();
    let webview = match app.get_webview_window("main") {
        Some(w) => w,
        None => tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap(),
    };

    let info = invoke(&webview, "app_info", json!({})).unwrap();
    assert_eq!(info["profile"]["name"], "demo");
    assert_eq!(info["profile"]["environment"], "demo");
    let pockyt = info["providers"].as_array().unwrap().iter().find(|p| p["provider"] == "pockyt").unwrap();
    assert!(pockyt["currencies"].as_array().unwrap().iter().any(|c| c["code"] == "KRW" && c["exponent"] == 0));
    let paykka = info["providers"].as_array().unwrap().iter().find(|p| p["provider"] == "paykka").unwrap();
    assert!(paykka["flows"].as_array().unwrap().iter().any(|f| f == "capture"));
    assert!(
        info["profiles"].as_array().unwrap().iter().any(|p| p["name"] == "demo-paykka" && p["provider"] == "paykka"),
        "demo mode offers PayKKa's demo profile too: {}",
        info["profiles"]
    );

    let bad = json!({"request": {"profile": "demo", "amount": "0", "currency": "USD", "vendor": "alipay"}});
    let err = invoke(&webview, "create_payment", bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"{"field":"amount","kind":"invalid_input","message":"Amount: must be greater than zero (got 0)","rule":"other"}"#
    );
    let err = invoke(
        &webview,
        "create_payment",
        json!({"request": {"profile": "demo", "amount": "5", "currency": "GBP", "vendor": "wechatpay"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    assert_eq!(err["field"], "currency");
    let err = invoke(&webview, "payment_detail", json!({"reference": "PD-NONE"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"{"kind":"payment_not_found","message":"No payment with reference PD-NONE in the ledger","reference":"PD-NONE"}"#
    );
    assert!(
        invoke(&webview, "list_payments", json!({})).unwrap().as_array().unwrap().is_empty(),
        "refusals left nothing"
    );

    let ok = invoke(
        &webview,
        "create_payment",
        json!({"request": {"profile": "demo", "amount": "13.00", "currency": "USD", "vendor": "alipay"}}),
    )
    .unwrap();
    assert_eq!(ok["payment"]["status"], "pending");
    assert_eq!(ok["payment"]["amount"], "13.00");
    assert!(ok["qr_png"].as_str().unwrap().starts_with("data:image/png;base64,"));
    let reference = ok["payment"]["reference"].as_str().unwrap().to_string();

    core.demo().unwrap().kept::<Sandbox>().unwrap().settle(&reference, true).unwrap();
    let mut status = Value::Null;
    for _ in 0..100 {
        status = invoke(&webview, "poll_payment", json!({"reference": reference})).unwrap()["status"].clone();
        if status == "paid" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
    assert_eq!(status, "paid");
    let listed = invoke(&webview, "list_payments", json!({"filter": {"status": "paid"}})).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn capture_and_void_are_commands_the_window_may_call() {
    let home = tempfile::tempdir().unwrap();
    let core = Arc::new(Paydesk::open(home.path()).unwrap());
    tauri::async_runtime::block_on(async {
        let setup = paydesk_sandbox::demo::start(home.path(), &Default::default()).await.unwrap();
        demo::enable(&core, setup).await.unwrap();
    });
    let app = with_commands(mock_builder(), core.clone()).build(context()).unwrap();
    let webview = match app.get_webview_window("main") {
        Some(w) => w,
        None => tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap(),
    };
    let sale = json!({"request": {"profile": "demo", "amount": "2.00", "currency": "USD", "vendor": "alipay"}});
    let reference =
        invoke(&webview, "create_payment", sale).unwrap()["payment"]["reference"].as_str().unwrap().to_string();
    let err = invoke(&webview, "capture_payment", json!({"reference": reference, "amount": null, "last": false}))
        .unwrap_err();
    assert_eq!(err["kind"], "not_allowed", "a waiting Pockyt sale has nothing to capture: {err}");
    let err = invoke(&webview, "void_payment", json!({"reference": reference})).unwrap_err();
    assert_eq!(err["kind"], "not_allowed", "{err}");

    // Printing and the desktop notification go through their commands.
    let err = invoke(&webview, "print_page", json!({"reference": reference, "what": "receipt", "paper": "58mm"}))
        .unwrap_err();
    assert_eq!(err["kind"], "not_allowed", "a waiting sale has no receipt yet: {err}");
    let qr = invoke(&webview, "print_page", json!({"reference": reference, "what": "qr", "paper": "80mm"})).unwrap();
    let html = qr.as_str().unwrap();
    assert!(html.contains("size: 80mm auto") && html.contains("<svg") && html.contains("2.00 USD"), "{html}");
    let err =
        invoke(&webview, "print_page", json!({"reference": reference, "what": "qr", "paper": "letter"})).unwrap_err();
    assert_eq!(err["field"], "paper", "{err}");
    assert!(!err["message"].as_str().unwrap().contains("paper:"), "in words, not a field name: {err}");
    let shown = invoke(&webview, "notify_paid", json!({"title": "Paid: 2.00 USD", "body": "Alipay"})).unwrap();
    assert!(shown.is_boolean(), "shown, or not where no notification service runs: {shown}");
}

#[test]
fn the_app_exposes_no_global_api_and_its_csp_closes_base_and_forms() {
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tauri.conf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["app"]["withGlobalTauri"], false, "no window.__TAURI__ for every script");
    let csp = config["app"]["security"]["csp"].as_str().unwrap();
    for directive in
        ["default-src 'self'", "script-src 'self'", "base-uri 'none'", "form-action 'none'", "object-src 'none'"]
    {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    // The release build carries no test features: tauri's "test" is only in the mock-runtime feature.
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    assert!(!deps.contains("\"test\""), "tauri's test feature in [dependencies]: {deps}");
}
