//! One behaviour, every provider: the same sale, payment, refunds and refusals through the
//! same CLI and core against Pockyt, PayKKa and Vexora (each played by the sandbox over
//! HTTP, each profile's secret in the real Secret Service). Where flows overlap, they must
//! agree; where a provider lacks one (Vexora's refunds), it is refused before anything moves.

use paydesk_e2e::{paydesk, run, unique_name, Run, SandboxProcess};
use std::path::Path;

const POCKYT_TOKEN: &str = "5cbfb079f15b150122261c8537086d77a";
const PAYKKA_KEY: &str = include_str!("../../crates/gateways/test-vectors/paykka-test-merchant-private.pem");

fn cli(home: &Path, args: &[&str]) -> Run {
    let mut c = paydesk(home);
    c.arg("--json").args(args);
    run(c, None)
}

struct Provider {
    name: &'static str,
    /// Profile add arguments after `--base-url URL`.
    settings: fn(&str) -> Vec<String>,
    /// The API base inside the sandbox.
    prefix: &'static str,
    secret: &'static str,
    /// Sale arguments beyond amount and currency.
    sale: &'static [&'static str],
    currency: &'static str,
    /// A sale, the part refunded first, one unit more than the rest, and a small sale.
    amounts: [&'static str; 4],
    refunds: bool,
}

fn providers() -> Vec<Provider> {
    vec![
        Provider {
            name: "pockyt",
            settings: |_| ["--merchant-no", "200043", "--store-no", "300014"].map(String::from).to_vec(),
            prefix: "",
            secret: POCKYT_TOKEN,
            sale: &["--vendor", "alipay"],
            currency: "USD",
            amounts: ["10.00", "4.00", "6.01", "3.00"],
            refunds: true,
        },
        Provider {
            name: "paykka",
            settings: |_| ["--merchant-id", "18356675194960", "--app-id", "paydesk-demo"].map(String::from).to_vec(),
            prefix: "/paykka",
            secret: PAYKKA_KEY,
            sale: &[],
            currency: "USD",
            amounts: ["10.00", "4.00", "6.01", "3.00"],
            refunds: true,
        },
        Provider {
            name: "vexora",
            settings: |_| ["--merchant-no", "VX0001"].map(String::from).to_vec(),
            prefix: "/vexora",
            secret: "vx_test_secret_7f3a",
            sale: &[
                "--channel",
                "STORE",
                "--mobile",
                "0912345678",
                "--first-name",
                "Mei",
                "--last-name",
                "Lin",
                "--email",
                "mei@example.com",
                "--payer-ip",
                "203.0.113.7",
                "--postcode",
                "100",
                "--address",
                "1 Road",
            ],
            currency: "TWD",
            amounts: ["300", "100", "201", "50"],
            refunds: false,
        },
    ]
}

fn settle(sandbox: &SandboxProcess, p: &Provider, reference: &str, transaction_no: Option<&str>, outcome: &str) {
    // Pockyt's hook takes its transaction number, PayKKa's and Vexora's the merchant's reference.
    let id = if p.prefix.is_empty() { transaction_no.unwrap_or(reference) } else { reference };
    let r = reqwest::blocking::Client::new()
        .post(format!("{}{}/sandbox/settle/{id}", sandbox.base_url, p.prefix))
        .json(&serde_json::json!({ "outcome": outcome }))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}: settle {}", p.name, r.status());
}

#[test]
fn the_same_sale_refund_and_refusals_with_every_provider() {
    for p in providers() {
        let home = tempfile::tempdir().unwrap();
        let sandbox = SandboxProcess::start(home.path(), "127.0.0.1:0");
        let base = format!("{}{}", sandbox.base_url, p.prefix);
        let name = unique_name(p.name);
        let mut add: Vec<String> =
            ["profile", "add", &name, "--provider", p.name, "--base-url", &base].map(String::from).to_vec();
        add.extend((p.settings)(&base));
        add.extend(
            ["--ipn-url", &format!("{base}/sandbox/ipn-sink"), "--callback-url", "https://shop.example/done"]
                .map(String::from),
        );
        let added = cli(home.path(), &add.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(added.code, 0, "{}: {}", p.name, added.stdout);
        let mut c = paydesk(home.path());
        c.args(["--json", "secret", "set", &name]);
        assert_eq!(run(c, Some(p.secret)).code, 0, "{}: the secret is saved", p.name);

        let sell = |amount: &str| {
            let mut args = vec!["pay", "qr", "--profile", &name, "--amount", amount, "--currency", p.currency];
            args.extend(p.sale);
            let r = cli(home.path(), &args);
            assert_eq!(r.code, 0, "{}: {}\n{}", p.name, r.stdout, r.stderr);
            r.json()
        };

        // Bad input is refused before the network, whatever the provider.
        let mut bad = vec!["pay", "qr", "--profile", &name, "--amount", "1.234", "--currency", p.currency];
        bad.extend(p.sale);
        assert_eq!(cli(home.path(), &bad).json()["error"]["field"], "amount", "{}", p.name);

        // Sale, payment, status.
        let [amount, part, over_rest, small] = p.amounts;
        let sale = sell(amount);
        assert_eq!(sale["status"], "pending", "{}", p.name);
        let reference = sale["reference"].as_str().unwrap().to_string();
        settle(&sandbox, &p, &reference, sale["transaction_no"].as_str(), "pay");
        let status = cli(home.path(), &["tx", "status", &reference]).json();
        assert_eq!(status["status"], "paid", "{}: {status}", p.name);

        if p.refunds {
            // Refunds: part, never above the remainder (refused before the network), the rest.
            let r = cli(home.path(), &["tx", "refund", &reference, "--amount", part]).json();
            assert_eq!(r["payment"]["status"], "partially_refunded", "{}: {r}", p.name);
            let over = cli(home.path(), &["tx", "refund", &reference, "--amount", over_rest]).json();
            assert_eq!(over["error"]["field"], "amount", "{}: {over}", p.name);
            let rest = cli(home.path(), &["tx", "refund", &reference]).json();
            assert_eq!(rest["payment"]["status"], "refunded", "{}: {rest}", p.name);
            assert_eq!(cli(home.path(), &["tx", "status", &reference]).json()["status"], "refunded", "{}", p.name);
        } else {
            // No refund through the API: refused in words, nothing recorded, still paid.
            let r = cli(home.path(), &["tx", "refund", &reference, "--amount", part]).json();
            assert_eq!(r["error"]["kind"], "not_allowed", "{}: {r}", p.name);
            assert!(r["error"]["message"].as_str().unwrap().contains("does not offer refund"), "{}: {r}", p.name);
            let shown = cli(home.path(), &["tx", "show", &reference]).json();
            assert_eq!(shown["refunds"].as_array().map(Vec::len), Some(0), "{}: {shown}", p.name);
            assert_eq!(shown["payment"]["status"], "paid", "{}", p.name);
        }

        // A declined sale is failed, and stays so.
        let declined = sell(small);
        let declined_ref = declined["reference"].as_str().unwrap().to_string();
        settle(&sandbox, &p, &declined_ref, declined["transaction_no"].as_str(), "decline");
        assert_eq!(cli(home.path(), &["tx", "status", &declined_ref]).json()["status"], "failed", "{}", p.name);
        let refund = cli(home.path(), &["tx", "refund", &declined_ref]).json();
        assert_eq!(refund["error"]["kind"], "not_allowed", "{}", p.name);

        let _ = cli(home.path(), &["secret", "delete", &name]);
    }
}
