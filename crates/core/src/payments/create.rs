//! A new sale: its checks, its reference, recorded before it is sent; a retry resends the
//! same reference.

use super::*;
use paydesk_gateways::RuleId;

/// What the counter (or a script) asks for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreatePayment {
    pub profile: String,
    /// As typed: "13.00", "13", "0.5".
    pub amount: String,
    pub currency: String,
    /// The wallet, where the provider asks for one ("vendor" in JSON, as scripts know it;
    /// "wallet" read too).
    #[serde(default, rename = "vendor", alias = "wallet")]
    pub wallet: String,
    #[serde(default)]
    pub terminal: Option<String>,
    /// IOS or ANDROID, where the provider asks it of a WAP or APP terminal.
    #[serde(default)]
    pub os_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// "qr" (counter QR, the customer scans it) or "link" (hosted page). Default: qr.
    #[serde(default)]
    pub method: Option<String>,
    /// A registered customer to attach (payment links only).
    #[serde(default)]
    pub customer_no: Option<String>,
    /// "automatic" (default) or "manual": authorise now, capture later.
    #[serde(default)]
    pub capture: Option<String>,
    /// The shop's id for the shopper, for cards on file.
    #[serde(default)]
    pub shopper_reference: Option<String>,
    /// Keep the card for the shopper's next payment.
    #[serde(default)]
    pub save_card: bool,
    /// The payer and channel, where the provider asks.
    #[serde(default)]
    pub payer: Option<Payer>,
    /// Collects what is still due on this partly paid sale (its reference): same profile and
    /// currency, at most what is due, its payer when none is given; both are linked in
    /// their histories.
    #[serde(default)]
    pub rest_of: Option<String>,
}

/// How the customer reaches the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    CounterQr,
    Link,
}

impl Method {
    pub fn parse(s: Option<&str>) -> Result<Self, AppError> {
        match s.map(str::trim).unwrap_or("qr") {
            "qr" | "" => Ok(Self::CounterQr),
            "link" => Ok(Self::Link),
            other => Err(AppError::invalid("method", format!("must be qr or link (got '{other}')"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CounterQr => "qr",
            Self::Link => "link",
        }
    }

    fn pay_method(self) -> PayMethod {
        match self {
            Self::CounterQr => PayMethod::CounterQr,
            Self::Link => PayMethod::Link,
        }
    }
}

/// The checkout's provider options worth keeping for a retry (None when all are defaults).
pub(super) fn checkout_options(c: &Checkout, rest_of: Option<&str>) -> Option<serde_json::Value> {
    (c.manual_capture || c.save_card || c.shopper_reference.is_some() || c.payer.is_some() || rest_of.is_some()).then(|| {
        let mut options = serde_json::json!({"manual_capture": c.manual_capture, "shopper_reference": c.shopper_reference, "save_card": c.save_card, "payer": c.payer});
        if let Some(first) = rest_of {
            options["rest_of"] = first.into();
        }
        options
    })
}

/// A profile field a provider rule names, said where to set it.
pub(super) fn name_profile_field(profile: &Profile, e: paydesk_gateways::ValidationError) -> AppError {
    match e.field {
        "ipn_url" | "callback_url" => {
            let option = format!("--{}", e.field.replace('_', "-"));
            AppError::from(e).on_profile(&profile.name, option)
        }
        _ => e.into(),
    }
}

/// Longest description sent with a payment (a provider may show it to the customer).
pub const MAX_DESCRIPTION_CHARS: usize = 127;

/// Records a new payment. Another counter on a shared ledger may have drawn the same
/// reference in the same second: nothing was recorded or sent under it, so draw again.
pub(super) fn record_new_payment(
    ledger: &paydesk_ledger::Ledger,
    new: &mut NewPayment,
    mut draw: impl FnMut() -> String,
) -> Result<PaymentRow, AppError> {
    let mut draws = 1;
    loop {
        match ledger.insert_payment(new) {
            Err(paydesk_ledger::LedgerError::Conflict(_)) if draws < 3 => {
                draws += 1;
                new.reference = draw();
            }
            other => return Ok(other?),
        }
    }
}

/// A fresh merchant reference: `PD` + UTC time + random suffix, unique and readable.
pub fn new_reference() -> String {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d%H%M%S").to_string();
    let mut rng = rand::thread_rng();
    let suffix: String =
        (0..6).map(|_| REFERENCE_ALPHABET[rng.gen_range(0..REFERENCE_ALPHABET.len())] as char).collect();
    let counter = COUNTER_MARK.get().map(String::as_str).unwrap_or("");
    format!("PD{stamp}-{counter}{suffix}")
}

pub(super) const REFERENCE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// This counter's mark in every reference it draws (3 characters from this machine and
/// Paydesk home): counters selling apart (an outage) never draw the same reference, and a
/// reference says where it was made.
pub(super) static COUNTER_MARK: OnceLock<String> = OnceLock::new();

/// The mark of the counter at `home` on this machine.
pub fn counter_mark(home: &Path) -> String {
    use sha2::{Digest, Sha256};
    let machine = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
    let digest = Sha256::digest(format!("{}\n{}", machine.trim(), home.display()).as_bytes());
    digest.iter().take(3).map(|b| REFERENCE_ALPHABET[*b as usize % REFERENCE_ALPHABET.len()] as char).collect()
}

impl Paydesk {
    /// The partly paid sale `reference` whose rest a new sale of `amount` collects, or why
    /// it cannot (naming the field).
    pub(crate) fn rest_due(
        &self,
        reference: &str,
        profile: &str,
        currency: Currency,
        amount: Money,
    ) -> Result<PaymentRow, AppError> {
        let first = crate::blocking(|| Ok::<_, AppError>(self.ledger().payment_by_reference(reference)?))?
            .ok_or_else(|| AppError::invalid("rest_of", format!("no payment {} in the ledger", shown(reference))))?;
        let Some(due) = due_minor(&first) else {
            return Err(AppError::invalid(
                "rest_of",
                format!("{} is not partly paid, nothing is due on it", first.reference),
            ));
        };
        if first.profile != profile || first.currency != currency.code() {
            return Err(AppError::invalid(
                "rest_of",
                format!(
                    "the rest of {} is collected in its own profile and currency ({}, {})",
                    first.reference, first.profile, first.currency
                ),
            ));
        }
        if amount.minor > due {
            return Err(AppError::invalid(
                "amount",
                format!(
                    "at most the {} {} still due on {}",
                    Money { minor: due, currency }.to_decimal_string(),
                    currency.code(),
                    first.reference
                ),
            ));
        }
        Ok(first)
    }

    /// Validates everything, records the payment, then asks the provider for a QR or link.
    pub async fn create_payment(&self, req: &CreatePayment) -> Result<PaymentView, AppError> {
        let profile = self.profile(&req.profile)?;
        let method = Method::parse(req.method.as_deref())?;
        let currency = Currency::from_code(&req.currency)?;
        let amount = Money::parse(&req.amount, currency)?;
        let wallet = req.wallet.trim().to_ascii_lowercase();
        text::check_line("vendor", &wallet, 32)?;
        if let Some(d) = &req.description {
            text::check_line("description", d.trim(), MAX_DESCRIPTION_CHARS)?;
        }
        if let Some(t) = &req.terminal {
            text::check_line("terminal", t, 16)?;
        }
        let customer_no = req.customer_no.clone().map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if let Some(c) = &customer_no {
            if !valid_provider_id(c) {
                return Err(AppError::invalid(
                    "customer_no",
                    "letters and digits only, at most 64, as the provider assigned it",
                )
                .because(RuleId::DigitsOnly));
            }
        }
        let manual_capture = match req.capture.as_deref().map(str::trim).unwrap_or("automatic") {
            "automatic" | "" => false,
            "manual" => true,
            other => {
                return Err(AppError::invalid(
                    "capture",
                    format!("must be automatic or manual (got '{}')", shown(other)),
                ))
            }
        };
        let shopper_reference =
            req.shopper_reference.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        // The rest of a partly paid sale: checked before anything is recorded or sent.
        let first = match req.rest_of.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(reference) => Some(self.rest_due(reference, &profile.name, currency, amount)?),
            None => None,
        };
        let payer = req.payer.clone().or_else(|| {
            let first = first.as_ref()?;
            serde_json::from_value(option(first, "payer")?.clone()).ok()
        });
        let gateway = self.gateway_for(&profile)?;
        let checkout = Checkout {
            reference: new_reference(),
            amount,
            method: method.pay_method(),
            wallet: Some(wallet.clone()).filter(|v| !v.is_empty()),
            terminal: req.terminal.clone(),
            os_type: req.os_type.as_deref().map(|o| o.trim().to_ascii_uppercase()).filter(|o| !o.is_empty()),
            description: req.description.clone(),
            customer_no: customer_no.clone(),
            notify_url: profile.ipn_url.clone().unwrap_or_default(),
            return_url: profile.callback_url.clone().unwrap_or_default(),
            manual_capture,
            shopper_reference,
            save_card: req.save_card,
            payer: payer.and_then(Payer::tidied),
        };
        // Every problem at once (the payer's fields each under its own).
        let problems: Vec<AppError> =
            gateway.checkout_problems(&checkout).into_iter().map(|e| name_profile_field(&profile, e)).collect();
        if let Some(all) = AppError::invalid_all(problems) {
            return Err(all);
        }
        let mut new = NewPayment {
            reference: checkout.reference.clone(),
            profile: profile.name.clone(),
            provider: profile.provider.clone(),
            method: method.as_str().into(),
            wallet: Some(wallet).filter(|v| !v.is_empty()),
            amount_minor: amount.minor,
            currency: currency.code().into(),
            customer_no,
            checkout_options: checkout_options(&checkout, first.as_ref().map(|f| f.reference.as_str())),
        };
        let row = crate::blocking(|| {
            let ledger = self.ledger();
            let row = record_new_payment(&ledger, &mut new, new_reference)?;
            if let Some(first) = &first {
                // Each history names the other.
                let amount = amount.to_decimal_string();
                ledger.append_events(&[
                    (
                        Some(first.id),
                        "rest_requested",
                        serde_json::json!({"reference": row.reference, "amount": amount}),
                    ),
                    (Some(row.id), "rest_of", serde_json::json!({"reference": first.reference})),
                ])?;
            }
            Ok::<_, AppError>(row)
        })?;
        if let Some(payer) = &checkout.payer {
            // Recalled by their number next time; a failure here never stops the sale.
            if let Err(e) = self.remember_payer(payer) {
                tracing::warn!(error = %e, "the payer could not be kept for next time");
            }
        }
        let checkout = Checkout { reference: row.reference.clone(), ..checkout };
        // From here on the payment exists: whatever fails, the caller learns its reference.
        self.send_create(&gateway, &profile, &row, &checkout).await.map_err(|e| e.with_reference(&row.reference))
    }

    pub(crate) async fn send_create(
        &self,
        gateway: &AnyGateway,
        profile: &Profile,
        row: &PaymentRow,
        checkout: &Checkout,
    ) -> Result<PaymentView, AppError> {
        let outcome = gateway.checkout(checkout).await;
        let source = source_of(&outcome.exchange, "checkout");
        let source = source.as_str();
        let exchange = &outcome.exchange;
        let answer = match outcome.result {
            Ok(answer) => answer,
            Err(e) => {
                self.log_exchange(row.id, exchange)?;
                return Err(self.record_failure(row.id, source, e)?);
            }
        };
        let (report, link, session_id) = (answer.report, answer.link, answer.session_id);
        if let Some(reason) = mismatch(row, &report) {
            self.log_exchange(row.id, exchange)?;
            return Err(self.record_mismatch(row, &report, source, &reason)?);
        }
        // A checkout answered with a failure ends the payment, with the provider's reason.
        if matches!(report.status, PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled) {
            let raw = shown(&report.raw_status);
            crate::blocking(|| {
                self.ledger().batch(|l| {
                    log_exchange_in(l, Some(row.id), exchange)?;
                    if valid_provider_id(&report.transaction_no) {
                        l.record_provider_ids(row.id, &report.transaction_no, None)?;
                    }
                    l.apply_status(row.id, &StatusChange { status: report.status, raw_status: Some(&raw), source })
                })
            })?;
            return Err(AppError::ProviderRejected {
                message: format!(
                    "{} did not take payment {} ({raw}); it is recorded as {}.",
                    gateway.capabilities().label,
                    row.reference,
                    report.status.label().to_lowercase()
                ),
                code: raw,
            });
        }
        // The exchange and what it settled, in one transaction that does not wait for the
        // disk: the row was flushed before sending, so a power cut losing this leaves it
        // unanswered and recovery asks the provider by reference (nothing lost or doubled).
        crate::blocking(|| {
            let ledger = self.ledger();
            let schemes = gateway.capabilities().wallet_link_schemes;
            let checked = links::check_payment_link(&link, &profile.base_url, schemes, profile.private_network);
            let after = ledger.batch_flushed_later(|l| {
                log_exchange_in(l, Some(row.id), exchange)?;
                if let Err(bad) = &checked {
                    // Keep the provider's id (so a cancel or a retry finds it), never the link.
                    l.record_provider_ids(row.id, &report.transaction_no, None)?;
                    l.append_event(
                        Some(row.id),
                        "suspicious",
                        &serde_json::json!({"source": source, "reason": bad.to_string()}),
                    )?;
                    return Ok(None);
                }
                l.record_provider_ids(row.id, &report.transaction_no, Some(&link))?;
                if let Some(session) = session_id.as_deref().filter(|s| valid_provider_id(s)) {
                    l.record_session(row.id, session)?;
                }
                l.apply_status(row.id, &StatusChange { status: PaymentStatus::Pending, raw_status: None, source })?;
                l.payment_by_id(row.id)
            })?;
            match (checked, after) {
                (Err(bad), _) => Err(AppError::ProviderProtocol {
                    message: format!(
                        "{} returned a payment link Paydesk will not show: {bad}. The payment is kept; cancel it or try again.",
                        gateway.capabilities().label
                    ),
                    reference: None,
                }),
                (Ok(()), after) => Ok(after.expect("payment exists").into()),
            }
        })
    }

    /// A refusal ends the payment (failed); an unanswered request, or a fault on the
    /// provider's side, leaves it `created` so it can be retried with the same reference.
    pub(crate) fn record_failure(&self, id: i64, source: &str, e: GatewayError) -> Result<AppError, AppError> {
        crate::blocking(|| {
            let ledger = self.ledger();
            ledger.append_event(Some(id), "error", &serde_json::json!({"message": e.to_string()}))?;
            if let GatewayError::Rejected { code, transient: false, .. } = &e {
                ledger.apply_status(
                    id,
                    &StatusChange { status: PaymentStatus::Failed, raw_status: Some(code), source },
                )?;
            }
            Ok(e.into())
        })
    }

    /// Sends a payment that never got an answer again, with the same reference.
    pub async fn retry_payment(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        if row.status != PaymentStatus::Created {
            return Err(AppError::NotAllowed {
                message: format!("Payment {reference} already reached the provider ({}).", row.status),
            });
        }
        self.resend_checkout(row).await
    }

    /// Asks again for the link of a payment the provider has but the ledger never got the
    /// link of (a crash between the provider's answer and the write): the same checkout,
    /// same reference, which the provider answers with the same session or order.
    pub(crate) async fn restore_link(&self, reference: &str) -> Result<PaymentView, AppError> {
        let row = self.payment_row(reference)?;
        if row.link.is_some() || row.status != PaymentStatus::Pending {
            return Ok(row.into());
        }
        self.resend_checkout(row).await
    }

    pub(crate) async fn resend_checkout(&self, row: PaymentRow) -> Result<PaymentView, AppError> {
        let reference = row.reference.clone();
        let reference = reference.as_str();
        let profile = self.profile(&row.profile)?;
        let method = Method::parse(Some(&row.method))?;
        let checkout = Checkout {
            reference: row.reference.clone(),
            amount: Money::new(row.amount_minor, Currency::from_code(&row.currency)?),
            method: method.pay_method(),
            wallet: row.wallet.clone(),
            terminal: None,
            os_type: None,
            description: None,
            customer_no: row.customer_no.clone(),
            notify_url: profile.ipn_url.clone().unwrap_or_default(),
            return_url: profile.callback_url.clone().unwrap_or_default(),
            // Exactly as first asked for: manual capture, shopper, saved card.
            manual_capture: option(&row, "manual_capture").and_then(|v| v.as_bool()).unwrap_or(false),
            shopper_reference: option(&row, "shopper_reference").and_then(|v| v.as_str()).map(String::from),
            save_card: option(&row, "save_card").and_then(|v| v.as_bool()).unwrap_or(false),
            payer: option(&row, "payer").and_then(|v| serde_json::from_value(v.clone()).ok()),
        };
        let gateway = self.gateway_for(&profile)?;
        gateway.validate_checkout(&checkout).map_err(|e| name_profile_field(&profile, e))?;
        self.send_create(&gateway, &profile, &row, &checkout).await.map_err(|e| e.with_reference(reference))
    }
}
