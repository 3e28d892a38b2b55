//! Vexora's costs per request, printed: the MD5 `sign`, and a checkout link created against
//! the loopback sandbox plus its QR PNG. Run: `cargo bench -p paydesk-sandbox --bench vexora`.
//! Asserts nothing.

mod common;
use paydesk_gateways::gateway::{Checkout, Gateway, PayMethod, Payer};
use paydesk_gateways::vexora::gateway::VexoraGateway;
use paydesk_gateways::vexora::{signing, VexoraClient};
use paydesk_gateways::{ApiSecret, Currency, Money};
use paydesk_sandbox::{vexora, Sandbox, SandboxConfig};
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let n = common::iterations();
    let secret = ApiSecret::new(vexora::DEMO_APP_SECRET);
    let fields: BTreeMap<String, String> = [
        ("amount", "300"),
        ("channelCode", "STORE"),
        ("email", "mei@example.com"),
        ("firstname", "Mei"),
        ("ipAddress", "203.0.113.7"),
        ("lastname", "Lin"),
        ("mobile", "0912345678"),
        ("notifyUrl", "https://shop.example/n"),
        ("returnUrl", "https://shop.example/d"),
        ("timestamp", "1763780000000"),
        ("tradeNo", "PD20261122-ABCDEF"),
        ("wayCode", "711"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut sign = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        std::hint::black_box(signing::sign(&fields, &secret));
        sign.push(t0.elapsed());
    }
    println!("Vexora sign (MD5 over sorted fields), n={n}: median {:.4} ms", common::median(sign));

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sandbox = rt.block_on(Sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxConfig::default())).unwrap();
    let gateway = VexoraGateway::new(VexoraClient::new(
        paydesk_gateways::http::client(),
        &format!("{}/vexora", sandbox.base_url()),
        vexora::DEMO_MERCHANT_NO,
        secret,
    ));
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let checkout = Checkout {
            reference: format!("PD-BENCH-{i}"),
            amount: Money::new(30000, Currency::from_code("TWD").unwrap()),
            method: PayMethod::CounterQr,
            wallet: None,
            terminal: None,
            os_type: None,
            description: None,
            customer_no: None,
            notify_url: "https://shop.example/notify/vexora/bench".into(),
            return_url: "https://shop.example/done".into(),
            manual_capture: false,
            shopper_reference: None,
            save_card: false,
            // A payer per address: the sandbox allows ten attempts per IP a day.
            payer: Some(Payer {
                channel: Some("STORE".into()),
                mobile: Some("0912345678".into()),
                first_name: Some("Mei".into()),
                last_name: Some("Lin".into()),
                email: Some("mei@example.com".into()),
                ip_address: Some(format!("198.18.{}.{}", i / 250, i % 250 + 1)),
                postcode: Some("100".into()),
                address: Some("1 Zhongshan Rd".into()),
                ..Payer::default()
            }),
        };
        let t0 = Instant::now();
        let answer = rt.block_on(gateway.checkout(&checkout)).result.unwrap();
        std::hint::black_box(common::qr_png(&answer.link));
        if i >= 5 {
            samples.push(t0.elapsed());
        }
    }
    println!(
        "Vexora checkout -> QR PNG (480 px) against the loopback sandbox (signed request), n={n}: median {:.3} ms",
        common::median(samples)
    );
}
