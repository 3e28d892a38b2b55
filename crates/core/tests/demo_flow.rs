//! The core against the embedded sandbox over real HTTP, with a real SQLite file.

mod support;
use paydesk_core::notifications::NotificationVerdict;
use paydesk_core::{AppError, CreatePayment, Paydesk};
use paydesk_gateways::pockyt::signing;
use paydesk_gateways::{ApiSecret, PaymentStatus};
use paydesk_sandbox::DEMO_TOKEN;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use support::{demo_paydesk, sandbox};

/// A Pockyt notification as it arrives at the older address (no profile in it).
fn ipn(paydesk: &Paydesk, fields: &BTreeMap<String, String>) -> Result<NotificationVerdict, AppError> {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    paydesk.apply_notification("pockyt", None, &BTreeMap::new(), body.as_bytes())
}

/// A Pockyt notification about `p`, signed with the demo token.
fn signed_notification(p: &paydesk_core::PaymentView, status: &str, amount: &str) -> BTreeMap<String, String> {
    let mut fields: BTreeMap<String, String> = [
        ("transactionNo", p.transaction_no.clone().unwrap()),
        ("reference", p.reference.clone()),
        ("status", status.into()),
        ("amount", amount.into()),
        ("currency", "USD".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let sign = signing::sign(&fields, &ApiSecret::new(DEMO_TOKEN));
    fields.insert("verifySign".into(), sign);
    fields
}

fn sale(amount: &str, currency: &str, wallet: &str) -> CreatePayment {
    CreatePayment {
        profile: "demo".into(),
        amount: amount.into(),
        currency: currency.into(),
        wallet: wallet.into(),
        terminal: None,
        os_type: None,
        description: None,
        method: Some("link".into()),
        customer_no: None,
        ..Default::default()
    }
}

fn counter(amount: &str, wallet: &str) -> CreatePayment {
    CreatePayment { method: None, ..sale(amount, "USD", wallet) }
}

async fn paid(paydesk: &Paydesk, req: &CreatePayment) -> String {
    let p = paydesk.create_payment(req).await.unwrap();
    sandbox(paydesk).settle(&p.reference, true).unwrap();
    assert_eq!(paydesk.refresh(&p.reference).await.unwrap().status, PaymentStatus::Paid);
    p.reference
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_settle_and_the_ipn_turns_it_paid() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let created = paydesk.create_payment(&sale("13.00", "USD", "alipay")).await.unwrap();
    assert_eq!(created.status, PaymentStatus::Pending);
    assert_eq!((created.amount_minor, created.amount.as_str()), (1300, "13.00"));
    let link = created.link.clone().unwrap();
    assert!(link.contains("/cashier/"));
    assert!(paydesk.qr_png(&created.reference, 300).unwrap().starts_with(b"\x89PNG"));

    let sandbox = &sandbox(&paydesk);
    sandbox.settle(&created.reference, true).unwrap();
    // The IPN lands in the ledger by itself: read only the ledger (no query) until it does.
    let mut status = PaymentStatus::Pending;
    for _ in 0..100 {
        status = paydesk.payment(&created.reference).unwrap().status;
        if status == PaymentStatus::Paid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, PaymentStatus::Paid, "IPN applied");
    let detail = paydesk.payment_detail(&created.reference).unwrap();
    let kinds: Vec<_> = detail.events.iter().map(|e| e.kind.as_str()).collect();
    for k in ["created", "request", "response", "status_changed", "ipn"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let text = serde_json::to_string(&detail.events).unwrap();
    assert!(!text.contains(DEMO_TOKEN), "no token in events");

    // tran-query agrees.
    assert_eq!(paydesk.refresh(&created.reference).await.unwrap().raw_status.as_deref(), Some("success"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_before_the_network_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let cases = [
        (sale("0", "USD", "alipay"), "amount", "greater than zero"),
        (sale("-1", "USD", "alipay"), "amount", "greater than zero"),
        (sale("1.234", "USD", "alipay"), "amount", "at most 2 decimal places"),
        (sale("10e3", "USD", "alipay"), "amount", "plain decimal number"),
        (sale("", "USD", "alipay"), "amount", "required"),
        (sale("5.00", "XYZ", "alipay"), "currency", "not a known ISO 4217"),
        (sale("5.00", "EUR", "alipay"), "currency", "Pockyt does not accept EUR"),
        (sale("5.00", "GBP", "wechatpay"), "currency", "wechatpay does not take GBP"),
        (sale("5.00", "USD", "bitcoin"), "vendor", "not a Pockyt vendor"),
        (
            CreatePayment { description: Some("x".repeat(100_000)), ..sale("5.00", "USD", "alipay") },
            "description",
            "at most 127 characters",
        ),
        (
            CreatePayment { description: Some("tea\u{202E}".into()), ..sale("5.00", "USD", "alipay") },
            "description",
            "control or text-direction",
        ),
        (
            CreatePayment { customer_no: Some("12\u{1b}[2J".into()), ..sale("5.00", "USD", "alipay") },
            "customer_no",
            "letters and digits",
        ),
    ];
    for (req, field, needle) in cases {
        match paydesk.create_payment(&req).await {
            Err(AppError::InvalidInput { field: f, message, .. }) => {
                assert_eq!(f, field, "{message}");
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("{:?}: {other:?}", req.amount),
        }
    }
    assert!(paydesk.payments(&Default::default()).unwrap().is_empty(), "no payment left behind");

    use paydesk_core::ProfileInput;
    let profile = |base_url: &str| ProfileInput {
        name: "shop".into(),
        provider: "pockyt".into(),
        base_url: base_url.into(),
        settings: [("merchant_no", "200043"), ("store_no", "300014")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.into())))
            .collect(),
        ipn_url: None,
        callback_url: None,
        ipn_listen: None,
        private_network: false,
        shop: None,
        replace: true,
    };
    for bad in ["https://user:secret@mapi.yuansfer.com", "http://169.254.169.254", "javascript:alert(1)"] {
        match paydesk.save_profile(profile(bad)) {
            Err(AppError::InvalidInput { field, .. }) => assert_eq!(field, "base_url", "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipn_verification_rules() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let p = paydesk.create_payment(&sale("2.50", "USD", "wechatpay")).await.unwrap();
    let token = ApiSecret::new(DEMO_TOKEN);
    let signed = |mut f: BTreeMap<String, String>| {
        let s = signing::sign(&f, &token);
        f.insert("verifySign".into(), s);
        f
    };
    let base: BTreeMap<String, String> = [
        ("transactionNo", p.transaction_no.clone().unwrap()),
        ("reference", p.reference.clone()),
        ("status", "success".into()),
        ("amount", "2.50".into()),
        ("currency", "USD".into()),
        ("settleCurrency", "USD".into()),
        ("time", "20261122080000".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    let mut tampered = signed(base.clone());
    tampered.insert("status".into(), "failed".into());
    assert!(matches!(ipn(&paydesk, &tampered).unwrap(), NotificationVerdict::Rejected { .. }));

    let mut wrong_amount = base.clone();
    wrong_amount.insert("amount".into(), "0.01".into());
    assert!(matches!(ipn(&paydesk, &signed(wrong_amount)).unwrap(), NotificationVerdict::Rejected { .. }));

    let mut unknown = base.clone();
    unknown.insert("reference".into(), "PD-NOPE".into());
    assert!(matches!(ipn(&paydesk, &signed(unknown)).unwrap(), NotificationVerdict::Rejected { .. }));
    assert_eq!(paydesk.payment(&p.reference).unwrap().status, PaymentStatus::Pending, "nothing applied yet");

    // Extra fields Pockyt may add are signed too, and still verify.
    let mut extra = base.clone();
    extra.insert("completedAt".into(), "2026-11-22T00:00:00Z".into());
    let extra = signed(extra);
    assert_eq!(ipn(&paydesk, &extra).unwrap(), NotificationVerdict::Applied { changed: true });
    assert_eq!(
        ipn(&paydesk, &extra).unwrap(),
        NotificationVerdict::Applied { changed: false },
        "a replay changes nothing"
    );
    assert_eq!(paydesk.payment(&p.reference).unwrap().status, PaymentStatus::Paid);
    let events = paydesk.payment_detail(&p.reference).unwrap().events;
    assert_eq!(events.iter().filter(|e| e.kind == "status_changed" && e.detail["to"] == "paid").count(), 1);
    assert_eq!(events.iter().filter(|e| e.kind == "ipn_rejected").count(), 2);

    // Correctly signed notifications that would move a paid payment backwards are refused
    // by the state machine and kept as evidence; the payment stays paid.
    for raw in ["init", "closed", "failed", "SOMETHING_NEW"] {
        let mut back = base.clone();
        back.insert("status".into(), raw.into());
        ipn(&paydesk, &signed(back)).unwrap();
        assert_eq!(paydesk.payment(&p.reference).unwrap().status, PaymentStatus::Paid, "{raw}");
    }
    let events = paydesk.payment_detail(&p.reference).unwrap().events;
    assert_eq!(events.iter().filter(|e| e.kind == "suspicious").count(), 3);
    // A status nobody knows is kept as the provider's word and moves nothing.
    let unknown: Vec<_> = events.iter().filter(|e| e.kind == "unknown_status").collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].detail["says"], "the provider says SOMETHING_NEW");
    // Another currency for the same number is another payment.
    let mut other_currency = base.clone();
    other_currency.insert("currency".into(), "CNY".into());
    assert!(matches!(ipn(&paydesk, &signed(other_currency)).unwrap(), NotificationVerdict::Rejected { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_partial_refund_a_late_pending_or_closed_answer_keeps_the_remainder() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let reference = paid(&paydesk, &sale("10.00", "USD", "alipay")).await;
    paydesk.refund(&reference, Some("4.00")).await.unwrap();
    let p = paydesk.payment(&reference).unwrap();
    for raw in ["init", "closed"] {
        ipn(&paydesk, &signed_notification(&p, raw, "10.00")).unwrap();
        let detail = paydesk.payment_detail(&reference).unwrap();
        assert_eq!(detail.payment.status, PaymentStatus::PartiallyRefunded, "{raw}");
        assert_eq!((detail.refunded.as_str(), detail.refundable.as_str()), ("4.00", "6.00"), "{raw}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unsigned_notifications_is_counted_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    // The file's growth is SQLite's figure; on both engines the bounded excerpts are
    // checked by the events they leave.
    let ledger_file = paydesk.ledger_path();
    let before = ledger_file.as_ref().map(|f| std::fs::metadata(f).unwrap().len()).unwrap_or(0);
    let big = "x".repeat(1024 * 1024);
    for i in 0..40 {
        let f: BTreeMap<String, String> =
            [("reference".to_string(), format!("PD-NOPE-{i}")), ("note".to_string(), big.clone())].into();
        assert!(matches!(ipn(&paydesk, &f).unwrap(), NotificationVerdict::Rejected { .. }));
    }
    // 40 MB arrived; the ledger keeps a sample of bounded excerpts (and a count), on
    // either engine: the first ten, then the powers of two (16, 32).
    assert!(paydesk.payments(&Default::default()).unwrap().is_empty(), "nothing was recorded as a payment");
    let ledger = paydesk_ledger::Ledger::open_at(&paydesk.ledger_location()).unwrap();
    let kept: Vec<_> =
        ledger.events_without_payment(100).unwrap().into_iter().filter(|e| e.kind == "ipn_rejected").collect();
    let seen: Vec<i64> = kept.iter().map(|e| e.detail["seen"].as_i64().unwrap()).collect();
    assert_eq!(seen.len(), 12, "a sample, not every one: {seen:?}");
    assert!(seen.contains(&32) && !seen.contains(&33), "{seen:?}");
    let stored = serde_json::to_string(&kept).unwrap().len();
    assert!(stored < 64 * 1024, "the sample is bounded excerpts: {stored} bytes kept of 40 MB sent");
    if let Some(ledger_file) = ledger_file {
        // SQLite's own figure: the file (and its journal) barely grew.
        let wal = ledger_file.with_extension("sqlite3-wal");
        let grown = std::fs::metadata(&ledger_file).unwrap().len()
            + std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0)
            - before;
        assert!(grown < 1024 * 1024, "ledger grew by {grown} bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_qr_is_the_default_method() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let p = paydesk.create_payment(&counter("2.50", "wechatpay")).await.unwrap();
    assert_eq!(p.method, "qr");
    assert!(p.link.as_deref().unwrap().contains("/cashier/"), "the deepLink is what the QR shows");
    let events = paydesk.payment_detail(&p.reference).unwrap().events;
    let request = events.iter().find(|e| e.kind == "request").unwrap();
    assert_eq!(request.detail["path"], "/app-instore/v3/create-trans-qrcode");
    assert_eq!(request.detail["body"]["needQrcode"], "false");
    match paydesk.create_payment(&counter("2.50", "creditcard")).await {
        Err(AppError::InvalidInput { field, .. }) => assert_eq!(field, "vendor"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_partial_full_and_never_above_the_remainder() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let reference = paid(&paydesk, &counter("13.00", "alipay")).await;

    let r = paydesk.refund(&reference, Some("4.00")).await.unwrap();
    assert_eq!(r.payment.status, PaymentStatus::PartiallyRefunded);
    assert_eq!(r.refund.status, "succeeded");
    assert_eq!(paydesk.payment_detail(&reference).unwrap().refundable, "9.00");
    // Pockyt still says `success`; the ledger keeps the refund in view.
    assert_eq!(paydesk.refresh(&reference).await.unwrap().status, PaymentStatus::PartiallyRefunded);

    match paydesk.refund(&reference, Some("9.01")).await {
        Err(AppError::InvalidInput { field, message, .. }) => {
            assert_eq!(field, "amount");
            assert!(message.contains("9.00 USD still refundable"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let r = paydesk.refund(&reference, None).await.unwrap();
    assert_eq!(r.refund.amount_minor, 900);
    assert_eq!(r.payment.status, PaymentStatus::Refunded);
    assert_eq!(paydesk.refresh(&reference).await.unwrap().status, PaymentStatus::Refunded);
    assert!(matches!(paydesk.refund(&reference, Some("0.01")).await, Err(AppError::NotAllowed { .. })));
    let detail = paydesk.payment_detail(&reference).unwrap();
    assert_eq!(detail.refunds.len(), 2);
    assert!(!detail.actions.contains(&"refund"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_only_unpaid() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let open = paydesk.create_payment(&counter("5.00", "alipay")).await.unwrap();
    assert!(paydesk.payment_detail(&open.reference).unwrap().actions.contains(&"cancel"));
    let cancelled = paydesk.cancel(&open.reference).await.unwrap();
    assert_eq!(cancelled.status, PaymentStatus::Cancelled);
    // Pockyt then reports `closed`; it stays cancelled, not expired.
    assert_eq!(paydesk.refresh(&open.reference).await.unwrap().status, PaymentStatus::Cancelled);

    let reference = paid(&paydesk, &counter("6.00", "alipay")).await;
    match paydesk.cancel(&reference).await {
        Err(AppError::NotAllowed { message }) => assert!(message.contains("refund it instead"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_through_the_core_and_attached_to_a_link() {
    use paydesk_core::{CustomerFields, CustomerKey};
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let fields = CustomerFields {
        first_name: Some("Grace".into()),
        last_name: Some("Hopper".into()),
        email: Some("grace@example.com".into()),
        country_code: Some("us".into()),
        state: Some("NY".into()),
        customer_code: Some("CUST-7".into()),
        ..Default::default()
    };
    let created = paydesk.create_customer("demo", &fields).await.unwrap();
    assert_eq!(created.first_name.as_deref(), Some("Grace"));
    let mut no_state = fields.clone();
    no_state.state = None;
    match paydesk.create_customer("demo", &no_state).await {
        Err(AppError::InvalidInput { field, .. }) => assert_eq!(field, "state"),
        other => panic!("{other:?}"),
    }
    let changes = CustomerFields { city: Some("Arlington".into()), ..Default::default() };
    let updated = paydesk.update_customer("demo", &created.customer_no, &changes).await.unwrap();
    assert_eq!(updated.data["city"], "Arlington");
    let fetched = paydesk.get_customer("demo", &CustomerKey::CustomerCode("CUST-7".into())).await.unwrap();
    assert_eq!(fetched.customer_no, created.customer_no);
    assert_eq!(paydesk.customers(Some("demo"), Some("hopper")).unwrap().len(), 1);

    let mut link = sale("20.00", "USD", "alipay");
    link.customer_no = Some(created.customer_no.clone());
    let p = paydesk.create_payment(&link).await.unwrap();
    assert_eq!(p.customer_no.as_deref(), Some(created.customer_no.as_str()));
    let request =
        paydesk.payment_detail(&p.reference).unwrap().events.into_iter().find(|e| e.kind == "request").unwrap();
    assert_eq!(request.detail["body"]["customerNo"], created.customer_no.as_str());

    assert!(paydesk.test_connection("demo").await.unwrap().contains("signature accepted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notification_listener_runs_only_for_profiles_that_ask() {
    use paydesk_core::ProfileInput;
    let dir = tempfile::tempdir().unwrap();
    let paydesk = Arc::new(support::open_paydesk(&dir));
    let input = |name: &str, listen: Option<String>| ProfileInput {
        name: name.into(),
        provider: "pockyt".into(),
        base_url: "sandbox".into(),
        settings: [("merchant_no", "200043"), ("store_no", "300014")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.into())))
            .collect(),
        ipn_url: Some("https://shop.example/ipn/pockyt".into()),
        callback_url: Some("https://shop.example/done".into()),
        ipn_listen: listen,
        private_network: false,
        shop: None,
        replace: false,
    };
    // A profile that could not sell (no notification or return URL) is not saved.
    let mut unusable = input("unusable", None);
    unusable.ipn_url = None;
    let refused = paydesk.save_profile(unusable).unwrap_err();
    assert!(
        matches!(&refused, paydesk_core::AppError::InvalidInput { field, .. } if field == "ipn_url"),
        "{refused:?}"
    );
    assert!(refused.clone().for_people().to_string().starts_with("Notification (IPN) URL: is required"), "{refused}");
    paydesk.save_profile(input("quiet", None)).unwrap();
    assert!(paydesk_core::notifications::start_for_profiles(&paydesk).await.unwrap().is_empty(), "off unless asked");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    paydesk.save_profile(input("shop", Some(format!("127.0.0.1:{port}")))).unwrap();
    let addrs = paydesk_core::notifications::start_for_profiles(&paydesk).await.unwrap();
    assert_eq!(addrs, vec![format!("127.0.0.1:{port}").parse().unwrap()]);
    // Idempotent: a second call starts nothing new.
    assert_eq!(paydesk_core::notifications::start_for_profiles(&paydesk).await.unwrap().len(), 1);
    let answer = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/ipn/pockyt"))
        .form(&[("reference", "PD-NONE"), ("verifySign", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    // A body far larger than any notification is refused unread.
    let huge = "a=".to_string() + &"x".repeat(1024 * 1024);
    let answer = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/ipn/pockyt"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await;
    match answer {
        Ok(answer) => assert_eq!(answer.status().as_u16(), 413),
        // Refused before the sender finished writing: the listener answered 413 and closed,
        // and the sender's next write met the closed socket (the same refusal, seen late).
        Err(e) => {
            let cut = format!("{e:?}");
            assert!(cut.contains("BrokenPipe") || cut.contains("ConnectionReset"), "{cut}");
        }
    }
    assert!(matches!(
        paydesk.save_profile(input("bad", Some("localhost".into()))),
        Err(AppError::InvalidInput { field, .. }) if field == "ipn_listen"
    ));
    // On every interface: saved, with a warning to read.
    let wide = paydesk.save_profile(input("wide", Some("0.0.0.0:0".into()))).unwrap();
    assert!(wide.warnings[0].contains("every network interface"), "{:?}", wide.warnings);
    assert!(paydesk.remove_profile("wide").unwrap());

    // The listener closes the moment no profile asks for it.
    assert!(paydesk.remove_profile("shop").unwrap());
    assert!(paydesk_core::notifications::start_for_profiles(&paydesk).await.unwrap().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "the listener of a removed profile still answers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_reach_their_profile_at_notify_provider_profile() {
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    let p = paydesk.create_payment(&sale("3.10", "USD", "alipay")).await.unwrap();
    let listener = paydesk.demo().unwrap().listener.as_ref().unwrap().addr();
    assert!(paydesk.profile("demo").unwrap().ipn_url.unwrap().ends_with("/notify/pockyt/demo"));
    let fields = signed_notification(&p, "success", "3.10");
    let post = |path: &str, fields: &BTreeMap<String, String>| {
        let url = format!("http://{listener}{path}");
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let mut tampered = fields.clone();
    tampered.insert("amount".into(), "0.01".into());
    assert_eq!(post("/notify/pockyt/demo", &tampered).await, (400, "fail".into()));
    assert_eq!(post("/notify/pockyt/no-such-shop", &fields).await, (400, "fail".into()));
    assert_eq!(post("/notify/nope/demo", &fields).await.0, 404, "no such provider");
    assert_eq!(paydesk.payment(&p.reference).unwrap().status, PaymentStatus::Pending, "nothing applied yet");
    assert_eq!(post("/notify/pockyt/demo", &fields).await, (200, "success".into()));
    assert_eq!(paydesk.payment(&p.reference).unwrap().status, PaymentStatus::Paid);
    // The older address (no profile in it) still works.
    assert_eq!(post("/ipn/pockyt", &fields).await, (200, "success".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_reach_demo_sales_through_the_sandboxs_network_door_kept_across_starts() {
    // 127.0.0.3 stands for the shop's network address (each test is its own process).
    std::env::set_var("PAYDESK_LAN_ADDRESS", "127.0.0.3");
    let dir = tempfile::tempdir().unwrap();
    let paydesk = demo_paydesk(&dir).await;
    assert_eq!(paydesk.demo_phones(), paydesk_core::demo::DemoPhones { available: true, on: false, url: None });

    let phones = paydesk.set_demo_phones(true).await.unwrap();
    let url = phones.url.clone().unwrap();
    assert!(url.starts_with("http://127.0.0.3:") && phones.on, "{phones:?}");
    let p = paydesk.create_payment(&counter("2.50", "alipay")).await.unwrap();
    let link = p.link.clone().unwrap();
    assert!(link.starts_with(&format!("{url}/cashier/")), "{link}");
    // The phone pays on the page the QR opens; the counter hears it the usual way.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(http.post(format!("{link}/pay")).send().await.unwrap().status().is_success());
    assert_eq!(paydesk.refresh(&p.reference).await.unwrap().status, PaymentStatus::Paid);

    // Kept for the next start: a new process opens the door again.
    drop(paydesk);
    let again = demo_paydesk(&dir).await;
    let phones = again.demo_phones();
    assert!(phones.on && phones.url.as_deref().is_some_and(|u| u.starts_with("http://127.0.0.3:")), "{phones:?}");

    // Off: links point at loopback again and the door no longer answers.
    let door = phones.url.unwrap();
    assert!(http.get(format!("{door}/")).send().await.unwrap().status().is_success(), "a phone on the page");
    let off = again.set_demo_phones(false).await.unwrap();
    assert_eq!(off, paydesk_core::demo::DemoPhones { available: true, on: false, url: None });
    let p = again.create_payment(&counter("1.00", "alipay")).await.unwrap();
    assert!(p.link.unwrap().starts_with("http://127.0.0.1:"));
    // A phone still holding a connection is told so; a new one finds nobody there.
    let held = http.get(format!("{door}/")).send().await.unwrap();
    assert_eq!(held.status(), 503);
    let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(fresh.get(format!("{door}/")).send().await.is_err(), "closed to the network");

    // Nowhere to open it: said plainly, nothing changes.
    std::env::set_var("PAYDESK_LAN_ADDRESS", "not an address");
    let err = again.set_demo_phones(true).await.unwrap_err();
    assert!(matches!(err, AppError::InvalidInput { ref field, .. } if field == "PAYDESK_LAN_ADDRESS"), "{err:?}");
    assert_eq!(again.demo_phones().url, None);
}
