//! A payment as the windows and the CLI show it, with its history.

use super::*;

/// What a refund left behind.
#[derive(Debug, Clone, Serialize)]
pub struct RefundOutcome {
    pub payment: PaymentView,
    pub refund: paydesk_ledger::RefundRow,
}

/// A payment as the UI and the CLI show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PaymentView {
    pub reference: String,
    pub transaction_no: Option<String>,
    pub profile: String,
    pub provider: String,
    pub method: String,
    /// The wallet asked for, and its name in words ("vendor" and "vendor_label" in JSON,
    /// as scripts know them).
    #[serde(rename = "vendor")]
    pub wallet: Option<String>,
    #[serde(rename = "vendor_label")]
    pub wallet_label: Option<String>,
    pub amount_minor: i64,
    /// The exact decimal amount in the currency's digits ("13.00"), never rounded.
    pub amount: String,
    pub currency: String,
    pub status: PaymentStatus,
    /// What the status means, so that no screen keeps its own lists of status names:
    /// nobody has said yet (created, pending, unknown)...
    pub waiting: bool,
    /// ...a refresh may still change it (waiting, or authorised)...
    pub open: bool,
    /// ...money reached the merchant (whatever happened to it later).
    pub paid: bool,
    pub raw_status: Option<String>,
    pub link: Option<String>,
    pub customer_no: Option<String>,
    /// A hosted session's id, where the provider has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Authorised, captured, capturable, voidable, refunded and refundable, exactly
    /// ("5.00"), where the provider reports them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<BTreeMap<&'static str, String>>,
    /// What actually arrived of a partly paid payment, exactly ("120.00").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_amount: Option<String>,
    /// What is still due on a partly paid payment, exactly ("380.00").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_amount: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentDetail {
    pub payment: PaymentView,
    pub events: Vec<EventRow>,
    pub refunds: Vec<paydesk_ledger::RefundRow>,
    /// Captures and voids, each with its own reference and status.
    pub movements: Vec<paydesk_ledger::MovementRow>,
    /// What has been refunded (confirmed), exactly ("4.00").
    pub refunded: String,
    /// What can still be refunded, exactly ("9.00"): money taken less refunds (in flight too).
    pub refundable: String,
    /// Money taken: what was captured or paid ("15.00"; the amount once paid in full).
    pub captured: String,
    /// What is still authorised and may be captured or voided ("10.00").
    pub capturable: String,
    /// The actions the status allows: refresh, refund, cancel, retry.
    pub actions: Vec<&'static str>,
}

impl From<PaymentRow> for PaymentView {
    fn from(r: PaymentRow) -> Self {
        let amount = match Currency::from_code(&r.currency) {
            Ok(c) => Money::new(r.amount_minor, c).to_decimal_string(),
            Err(_) => r.amount_minor.to_string(),
        };
        let balances = r.balances.and_then(|b| {
            let c = Currency::from_code(&r.currency).ok()?;
            let d = |minor: i64| Money::new(minor, c).to_decimal_string();
            Some(BTreeMap::from([
                ("authorized", d(b.authorized)),
                ("captured", d(b.captured)),
                ("capturable", d(b.capturable)),
                ("voidable", d(b.voidable)),
                ("refunded", d(b.refunded)),
                ("refundable", d(b.refundable)),
            ]))
        });
        // What was taken when it is less than the amount: what arrived of a partial
        // payment, what was captured of a partial (or finally partial) capture.
        let taken = r.status.took_money();
        let paid_amount = r
            .paid_minor
            .zip(Currency::from_code(&r.currency).ok())
            .filter(|(minor, _)| taken && *minor < r.amount_minor)
            .map(|(minor, c)| Money::new(minor, c).to_decimal_string());
        let due_amount = due_minor(&r)
            .zip(Currency::from_code(&r.currency).ok())
            .map(|(minor, c)| Money::new(minor, c).to_decimal_string());
        PaymentView {
            paid_amount,
            due_amount,
            wallet_label: r
                .wallet
                .as_deref()
                .map(|v| capabilities_of(&r.provider).and_then(|c| c.wallet_label(v)).unwrap_or("Wallet").to_string()),
            waiting: r.status.is_waiting(),
            open: r.status.awaits_the_provider(),
            paid: r.status.is_paid(),
            status: r.status,
            reference: r.reference,
            transaction_no: r.transaction_no,
            profile: r.profile,
            provider: r.provider,
            method: r.method,
            wallet: r.wallet,
            amount_minor: r.amount_minor,
            amount,
            currency: r.currency,
            raw_status: r.raw_status,
            link: r.link,
            customer_no: r.customer_no,
            session_id: r.session_id,
            balances,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(super) fn option<'a>(row: &'a PaymentRow, key: &str) -> Option<&'a serde_json::Value> {
    row.checkout_options.as_ref()?.get(key)
}

/// What is still due on a partly paid payment (the amount less what arrived); None for any
/// other status.
pub(crate) fn due_minor(row: &PaymentRow) -> Option<i64> {
    (row.status == PaymentStatus::PartiallyPaid).then(|| (row.amount_minor - row.paid_minor.unwrap_or(0)).max(0))
}

/// What a payment's refunds are measured against: the money actually taken (what was
/// captured of a partial capture, what arrived of a partial payment), else nothing.
pub(crate) fn settled_minor(row: &PaymentRow) -> i64 {
    let status = row.status;
    paydesk_ledger::captured_minor(status, row.amount_minor, row.paid_minor)
}

impl Paydesk {
    pub(crate) fn payment_row(&self, reference: &str) -> Result<PaymentRow, AppError> {
        crate::blocking(|| {
            // The ledger is let go before asking whether it is the journal.
            let found = self.ledger().payment_by_reference(reference)?;
            found.ok_or_else(|| {
                self.not_here_offline(reference).unwrap_or_else(|| AppError::payment_not_found(reference))
            })
        })
    }

    pub fn payment(&self, reference: &str) -> Result<PaymentView, AppError> {
        Ok(self.payment_row(reference)?.into())
    }

    pub fn payment_detail(&self, reference: &str) -> Result<PaymentDetail, AppError> {
        let row = self.payment_row(reference)?;
        let ledger = self.ledger();
        let events = ledger.events(row.id)?;
        let refunds = ledger.refunds(row.id)?;
        let in_flight_or_done = paydesk_ledger::committed_minor(&refunds);
        let refunded_minor: i64 =
            refunds.iter().filter(|r| r.status == RefundStatus::Succeeded.as_str()).map(|r| r.amount_minor).sum();
        let currency = Currency::from_code(&row.currency)?;
        let settled = settled_minor(&row);
        let movements = ledger.movements(row.id)?;
        let open_movement = movements.iter().any(|m| m.status.is_open());
        let payment: PaymentView = row.into();
        let refundable_minor = if payment.status.is_refundable() { (settled - in_flight_or_done).max(0) } else { 0 };
        let authorised = matches!(payment.status, PaymentStatus::Authorized | PaymentStatus::PartiallyCaptured);
        let capturable_minor = if authorised { payment.amount_minor - settled } else { 0 };
        let mut actions = vec!["refresh"];
        if refundable_minor > 0 {
            actions.push("refund");
        }
        // While a capture or void is unconfirmed, refreshing settles it; nothing else moves.
        if capturable_minor > 0 && !open_movement {
            actions.push("capture");
            actions.push("void");
        }
        if matches!(payment.status, PaymentStatus::Pending | PaymentStatus::Created | PaymentStatus::Unknown) {
            actions.push("cancel");
        }
        if payment.status == PaymentStatus::Created {
            actions.push("retry");
        }
        // Only what the payment's provider offers (some have no refund or cancel).
        if let Some(caps) = capabilities_of(&payment.provider) {
            use paydesk_gateways::gateway::Flow;
            actions.retain(|a| {
                let flow = match *a {
                    "refund" => Flow::Refund,
                    "capture" => Flow::Capture,
                    "void" => Flow::Void,
                    "cancel" => Flow::Cancel,
                    "retry" => Flow::Checkout,
                    _ => Flow::Query,
                };
                caps.supports(flow)
            });
        }
        Ok(PaymentDetail {
            payment,
            events,
            refunds,
            movements,
            refunded: Money::new(refunded_minor, currency).to_decimal_string(),
            refundable: Money::new(refundable_minor, currency).to_decimal_string(),
            captured: Money::new(if authorised || settled > 0 { settled } else { 0 }, currency).to_decimal_string(),
            capturable: Money::new(capturable_minor, currency).to_decimal_string(),
            actions,
        })
    }

    pub fn qr_png(&self, reference: &str, min_px: u32) -> Result<Vec<u8>, AppError> {
        let view = self.payment(reference)?;
        let link = view
            .link
            .ok_or_else(|| AppError::NotAllowed { message: format!("Payment {reference} has no link yet") })?;
        qr::png(&link, min_px)
    }
}

#[cfg(test)]
mod wallet_name_tests {
    use super::*;
    use crate::CreatePayment;

    /// The wallet arrives as "vendor" (its first name, which scripts send) or "wallet"
    /// (what the window sends now); a payment's JSON says "vendor" and "vendor_label".
    #[test]
    fn the_wallet_is_read_under_both_names_and_written_under_its_first() {
        let first: CreatePayment =
            serde_json::from_str(r#"{"profile":"p","amount":"1","currency":"USD","vendor":"alipay"}"#).unwrap();
        let now: CreatePayment =
            serde_json::from_str(r#"{"profile":"p","amount":"1","currency":"USD","wallet":"alipay"}"#).unwrap();
        assert_eq!((first.wallet.as_str(), now.wallet.as_str()), ("alipay", "alipay"));
        let row = paydesk_ledger::PaymentRow {
            id: 1,
            reference: "PD1".into(),
            profile: "p".into(),
            provider: "pockyt".into(),
            method: "qr".into(),
            wallet: Some("alipay".into()),
            amount_minor: 100,
            currency: "USD".into(),
            transaction_no: None,
            link: None,
            status: PaymentStatus::Pending,
            raw_status: None,
            created_at: "2026-12-06T00:00:00Z".into(),
            updated_at: "2026-12-06T00:00:00Z".into(),
            checked_at: None,
            customer_no: None,
            session_id: None,
            balances: None,
            checkout_options: None,
            paid_minor: None,
        };
        let view = serde_json::to_value(PaymentView::from(row)).unwrap();
        assert_eq!(view["vendor"], "alipay");
        assert_eq!(view["vendor_label"], "Alipay");
        assert!(view.get("wallet").is_none());
    }
}
