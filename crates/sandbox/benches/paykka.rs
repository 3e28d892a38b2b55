//! PayKKa's costs per request, printed: signing and verifying `x-paykka-sign` (RSA-2048),
//! and a hosted session created against the loopback sandbox plus its QR PNG.
//! Run: `cargo bench -p paydesk-sandbox --bench paykka`. Asserts nothing.

mod common;
use paydesk_gateways::gateway::{Checkout, Gateway, PayMethod};
use paydesk_gateways::paykka::client::PaykkaClient;
use paydesk_gateways::paykka::gateway::PaykkaGateway;
use paydesk_gateways::paykka::signing::{self, MerchantKey};
use paydesk_gateways::{Currency, Money};
use paydesk_sandbox::{paykka, Sandbox, SandboxConfig};
use std::time::Instant;

const PRIVATE: &str = include_str!("../../gateways/test-vectors/paykka-test-merchant-private.pem");
const PUBLIC: &str = include_str!("../../gateways/test-vectors/paykka-test-merchant-public.pem");

fn main() {
    let n = common::iterations();
    let key = MerchantKey::from_pem(PRIVATE).unwrap();
    let body = r#"{"merchant_id":"18356675194960","trans_id":"PD20261122-ABCDEF","amount":1300,"currency":"USD"}"#;
    let message = signing::string_to_sign("POST", "/v3/payment/acq/session", "1763780000000", "0123456789abcdef", body);
    let (mut sign, mut verify) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t0 = Instant::now();
        let header = key.sign_header(&message);
        let t1 = Instant::now();
        assert!(signing::verify_header(PUBLIC, &message, &header).unwrap());
        sign.push(t1 - t0);
        verify.push(t1.elapsed());
    }
    println!(
        "PayKKa x-paykka-sign (RSA-2048, SHA-256), n={n}: sign median {:.3} ms, verify median {:.3} ms",
        common::median(sign),
        common::median(verify)
    );

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sandbox = rt.block_on(Sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxConfig::default())).unwrap();
    let client = PaykkaClient::new(
        paydesk_gateways::http::client(),
        &format!("{}/paykka", sandbox.base_url()),
        paykka::DEMO_MERCHANT_ID,
        paykka::DEMO_APP_ID,
        MerchantKey::from_pem(PRIVATE).unwrap(),
        Some(paykka::PLATFORM_PUBLIC_KEY.to_string()),
    );
    let gateway = PaykkaGateway::new(client, "/notify/paykka/bench".into());
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let checkout = Checkout {
            reference: format!("PD-BENCH-{i}"),
            amount: Money::new(1300, Currency::from_code("USD").unwrap()),
            method: PayMethod::CounterQr,
            wallet: None,
            terminal: None,
            os_type: None,
            description: None,
            customer_no: None,
            notify_url: "https://shop.example/notify/paykka/bench".into(),
            return_url: "https://shop.example/done".into(),
            manual_capture: false,
            shopper_reference: None,
            save_card: false,
            payer: None,
        };
        let t0 = Instant::now();
        let answer = rt.block_on(gateway.checkout(&checkout)).result.unwrap();
        std::hint::black_box(common::qr_png(&answer.link));
        if i >= 5 {
            samples.push(t0.elapsed());
        }
    }
    println!(
        "PayKKa create session -> QR PNG (480 px) against the loopback sandbox (signed request, verified signed answer), n={n}: median {:.3} ms",
        common::median(samples)
    );
}
