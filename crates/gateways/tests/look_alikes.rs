//! The clients against minimal look-alike providers written here from the documents, not
//! the sandbox: each answers the way the documents allow but the emulator does not — no
//! answer body ("No content"), answers that are not signed, a proxy in front of the
//! notification listener, Vexora without an "unknown trade" code — and each client must
//! take it as a real provider's answer.

use paydesk_gateways::gateway::{CaptureOrder, IncomingNotification, PaymentRef};
use paydesk_gateways::registry::{AnyGateway, GatewaySetup};
use paydesk_gateways::{ApiSecret, Currency, GatewayError, Money, PaymentStatus};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A request as the look-alike read it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    /// Every header line as sent (a name may come twice).
    headers: Vec<(String, String)>,
}

/// What the look-alike answers: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, String);

/// A one-file HTTP/1.1 server on loopback: reads each request whole, answers with `answer`,
/// and keeps what it saw.
async fn look_alike(answer: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (kept, answer) = (seen.clone(), Arc::new(answer));
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let (kept, answer) = (kept.clone(), answer.clone());
            tokio::spawn(async move {
                let mut reader = BufReader::new(socket);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).await.unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                    let length: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .map(|(_, v)| v.parse().unwrap())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    let request = Seen { path, headers };
                    let (status, extra, text) = answer(&request);
                    kept.lock().unwrap().push(request);
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                        text.len()
                    );
                    for (k, v) in extra {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&text);
                    if reader.get_mut().write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, seen)
}

fn ok(body: &str) -> Answer {
    (200, Vec::new(), body.to_string())
}

fn vector(name: &str) -> String {
    std::fs::read_to_string(format!("{}/test-vectors/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A PayKKa profile; the test vectors' key pair stands for PayKKa's platform key too.
fn paykka(base: &str, extra: &[(&str, &str)], notify_url: Option<&str>) -> AnyGateway {
    let mut settings: BTreeMap<String, String> = [("merchant_id", "18356675194960"), ("app_id", "978594372956732")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    settings.insert("platform_public_key".into(), vector("paykka-test-merchant-public.pem"));
    for (k, v) in extra {
        settings.insert(k.to_string(), v.to_string());
    }
    AnyGateway::new(GatewaySetup {
        provider: "paykka",
        profile: "shop",
        notify_url,
        base_url: base,
        settings: &settings,
        secret: ApiSecret::new(vector("paykka-test-merchant-private.pem")),
        http: reqwest::Client::new(),
    })
    .unwrap()
}

const ORDER: PaymentRef<'static> = PaymentRef { reference: "PD-1", transaction_no: Some("GW1") };

fn usd(text: &str) -> Money {
    Money::parse(text, Currency::from_code("USD").unwrap()).unwrap()
}

/// Capture, void, token removal and recurring cancellation are documented with "No content":
/// an accepted answer without `data`, or with part of it, is a success to confirm (the core
/// then asks the query), never an "unexpected answer" after the money may have moved.
#[tokio::test]
async fn paykka_answers_without_content_are_accepted() {
    let (base, _) = look_alike(|seen| match seen.path.as_str() {
        "/v3/payment/acq/void" => ok(r#"{"status":"CANCELED","order_id":"GW1","amount":1300,"currency":"USD"}"#),
        // "No content", literally.
        "/v3/payment/acq/token/remove" => ok(""),
        _ => ok(r#"{"ret_code":"000000"}"#),
    })
    .await;
    let g = paykka(&base, &[], None);
    let captured = g.capture(&CaptureOrder { payment: ORDER, amount: usd("13.00"), last: true }).await.result;
    assert!(matches!(captured, Ok(None)), "no content: {captured:?}");
    let voided = g.void(ORDER, "REQUESTED_BY_CUSTOMER").await.result.unwrap();
    let partial = voided.expect("what came is read");
    assert_eq!(partial.reference, "", "it names no reference: the core will not take it as proof");
    assert!(partial.balances.is_none(), "and no balances: the core asks the query");
    assert!(g.remove_token("f4911bc8", "TK1").await.result.is_ok());
    assert!(g.cancel_recurring("f4911bc8", "RA1").await.result.is_ok());
}

/// The documents never say that answers are signed: an unsigned answer is accepted even
/// with the platform key set (for webhooks), unless the profile requires signed answers; a
/// signature that is there must verify.
#[tokio::test]
async fn paykka_answers_are_checked_only_when_signed_unless_required() {
    let query = r#"{"ret_code":"000000","data":{"trans_id":"PD-1","order_id":"GW1","status":"SUCCESS","amount":1300,"currency":"USD"}}"#;
    let (unsigned, _) = look_alike(move |_| ok(query)).await;
    let report = paykka(&unsigned, &[], None).query(ORDER).await.result.unwrap();
    assert_eq!(report.status, PaymentStatus::Paid, "unsigned, accepted");
    let refused = paykka(&unsigned, &[("require_signed_answers", "true")], None).query(ORDER).await.result;
    assert!(
        matches!(&refused, Err(GatewayError::Protocol { message, .. }) if message.contains("not signed")),
        "{refused:?}"
    );

    let (forged, _) = look_alike(move |_| {
        (200, vec![("x-paykka-sign".into(), "AAAA".into()), ("x-paykka-timestamp".into(), "1".into())], query.into())
    })
    .await;
    let refused = paykka(&forged, &[], None).query(ORDER).await.result;
    assert!(
        matches!(&refused, Err(GatewayError::Protocol { message, .. }) if message.contains("does not verify")),
        "a signature that is there must verify: {refused:?}"
    );
}

/// Behind a tunnel or proxy PayKKa posts to the public notification URL; the listener sees
/// another path. The webhook is verified over the public URL's path (the profile's
/// `--ipn-url`), which is what PayKKa signed.
#[test]
fn paykka_webhooks_are_verified_over_the_public_urls_path() {
    use base64::Engine;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let key = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(
        rsa::RsaPrivateKey::from_pkcs8_pem(&vector("paykka-test-merchant-private.pem")).unwrap(),
    );
    let body = r#"{"merchant_id":"18356675194960","trans_id":"PD-1","order_id":"GW1","status":"SUCCESS","amount":1300,"currency":"USD"}"#;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis().to_string();
    let signed_over = |path: &str| -> BTreeMap<String, String> {
        let message = format!("POST\n{path}\n{now}\nnonce-0123456789\n{body}");
        let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(message.as_bytes()).to_bytes());
        [
            ("x-paykka-timestamp", now.clone()),
            ("x-paykka-nonce", "nonce-0123456789".to_string()),
            (
                "x-paykka-sign",
                percent_encoding::utf8_percent_encode(&signature, percent_encoding::NON_ALPHANUMERIC).to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    };
    let public = paykka("http://127.0.0.1:9", &[], Some("https://shop.example/hooks/paykka"));
    let by_paykka = signed_over("/hooks/paykka");
    let verified = public.verify_notification(IncomingNotification { headers: &by_paykka, body: body.as_bytes() });
    assert_eq!(verified.unwrap().report.status, PaymentStatus::Paid);
    let over_local_route = signed_over("/notify/paykka/shop");
    assert!(public
        .verify_notification(IncomingNotification { headers: &over_local_route, body: body.as_bytes() })
        .is_err());
    // Without a public URL, the local route is what is signed (a listener reached directly).
    let direct = paykka("http://127.0.0.1:9", &[], None);
    assert!(direct
        .verify_notification(IncomingNotification { headers: &over_local_route, body: body.as_bytes() })
        .is_ok());
}

/// Vexora sends its JSON with exactly one Content-Type, and its answers to a query of a
/// trade it does not know carry whatever code it chooses (none is documented).
#[tokio::test]
async fn vexora_sends_one_content_type() {
    let (base, seen) =
        look_alike(|_| ok(r#"{"msg":"order does not exist","code":"1010","timestamp":1,"success":false,"data":null}"#))
            .await;
    let settings: BTreeMap<String, String> = [("merchant_no".to_string(), "VX0001".to_string())].into();
    let g = AnyGateway::new(GatewaySetup {
        provider: "vexora",
        profile: "tw",
        notify_url: None,
        base_url: &base,
        settings: &settings,
        secret: ApiSecret::new("vx_test_secret_7f3a"),
        http: reqwest::Client::new(),
    })
    .unwrap();
    let answer = g.query(PaymentRef { reference: "PAYDESK-CONNECTION-TEST", transaction_no: None }).await.result;
    let refusal = answer.unwrap_err();
    assert!(!refusal.refuses_the_caller(), "about the trade, not the caller: {refusal}");
    let request = seen.lock().unwrap()[0].clone();
    let types: Vec<_> = request.headers.iter().filter(|(k, _)| k == "content-type").collect();
    assert_eq!(types.len(), 1, "{:?}", request.headers);
    assert_eq!(request.headers.iter().find(|(k, _)| k == "merchantno").map(|(_, v)| v.as_str()), Some("VX0001"));
    let sign_refusal = GatewayError::Rejected {
        provider: "Vexora",
        code: "1003".into(),
        message: "sign error".into(),
        transient: false,
    };
    assert!(sign_refusal.refuses_the_caller());
}
