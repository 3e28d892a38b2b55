//! `tx …`: one payment at a time: show, refresh, refund, capture, void, cancel, retry.

use crate::*;

#[derive(Subcommand)]
pub(crate) enum TxCommand {
    /// Ask the provider for the payment's status and update the ledger.
    Status {
        reference: String,
        /// Must be the payment's own profile (a guard for scripts).
        #[arg(long)]
        profile: Option<String>,
    },
    /// Show a payment with its full event history.
    Show {
        reference: String,
        #[arg(long)]
        profile: Option<String>,
    },
    /// Payments of a filter, newest first, a page at a time.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// The page after this one: the `next` cursor a previous page printed (TIME,ID).
        #[arg(long)]
        after: Option<String>,
    },
    /// A paid sale's receipt (or, with --qr, the sale's QR) as a page to print.
    Receipt {
        reference: String,
        /// 58mm, 80mm (receipt printers) or a4.
        #[arg(long, default_value = "80mm")]
        paper: String,
        /// The sale's QR (a table QR) instead of the receipt.
        #[arg(long)]
        qr: bool,
        /// Where to write the page (HTML); standard output when not given.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        #[arg(long)]
        profile: Option<String>,
    },
    /// Totals per currency over the whole filter: count, gross, refunded, net.
    Totals {
        #[command(flatten)]
        filter: FilterArgs,
        /// `shop`: each shop's totals (they add up to the whole).
        #[arg(long)]
        by: Option<String>,
    },
    /// Asks the providers about every unsettled payment of the filter.
    Refresh {
        #[command(flatten)]
        filter: FilterArgs,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Requests per second to any one provider.
        #[arg(long, default_value_t = 50)]
        rate: u32,
    },
    /// Send a payment that never got an answer again, with the same reference.
    Retry {
        reference: String,
        #[arg(long)]
        profile: Option<String>,
    },
    /// Refund a paid payment: --amount for part of it, or everything still refundable.
    Refund {
        reference: String,
        #[arg(long, allow_hyphen_values = true)]
        amount: Option<String>,
        #[arg(long)]
        profile: Option<String>,
    },
    /// Capture an authorised payment: --amount for part of it (else all that is left),
    /// --final to close the authorisation after this capture.
    Capture {
        reference: String,
        #[arg(long, allow_hyphen_values = true)]
        amount: Option<String>,
        #[arg(long = "final")]
        last: bool,
        #[arg(long)]
        profile: Option<String>,
    },
    /// Release an authorisation nothing was captured of.
    Void {
        reference: String,
        /// REQUESTED_BY_CUSTOMER (default), DUPLICATE, FRAUDULENT or OTHER.
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        profile: Option<String>,
    },
    /// Cancel a payment nobody has paid yet.
    Cancel {
        reference: String,
        #[arg(long)]
        profile: Option<String>,
    },
    /// Settle what a crash or an outage left unanswered: payments still `created` and
    /// refunds never confirmed (query first; resend with the same reference only when the
    /// provider never saw it).
    Recover {
        /// Only this profile's payments.
        #[arg(long)]
        profile: Option<String>,
    },
}

/// The payment, checked against `--profile` when given, with its profile's demo sandbox
/// running if it is the demo's.
pub(crate) async fn payment_for(
    paydesk: &Arc<Paydesk>,
    reference: &str,
    profile: Option<String>,
) -> Result<paydesk_core::PaymentView, AppError> {
    let payment = payment_of_profile(paydesk, reference, profile)?;
    paydesk.ensure_demo(&payment.profile).await?;
    Ok(payment)
}

/// The payment, refused when `--profile` names another profile than its own.
pub(crate) fn payment_of_profile(
    paydesk: &Paydesk,
    reference: &str,
    profile: Option<String>,
) -> Result<paydesk_core::PaymentView, AppError> {
    let payment = paydesk.payment(reference)?;
    if let Some(p) = profile.filter(|p| *p != payment.profile) {
        return Err(AppError::invalid(
            "profile",
            format!("payment {reference} belongs to '{}', not '{p}'", payment.profile),
        ));
    }
    Ok(payment)
}

pub(crate) async fn tx(cmd: TxCommand) -> Result<Output, AppError> {
    let paydesk = open()?;
    match cmd {
        TxCommand::Status { reference, profile } => {
            payment_for(&paydesk, &reference, profile).await?;
            let view = paydesk.refresh(&reference).await?;
            let text = format!(
                "{} {} ({}) {} {}",
                view.reference,
                view.status.as_str(),
                view.raw_status.clone().unwrap_or_default(),
                view.amount,
                view.currency
            );
            out(to_json(&view), text)
        }
        TxCommand::Show { reference, profile } => {
            payment_of_profile(&paydesk, &reference, profile)?;
            let detail = paydesk.payment_detail(&reference)?;
            let mut text = format!(
                "{} {} {} {}\n",
                detail.payment.reference,
                detail.payment.status.as_str(),
                detail.payment.amount,
                detail.payment.currency
            );
            for e in &detail.events {
                text.push_str(&format!("{}  {:<15} {}\n", e.at, e.kind, e.detail));
            }
            out(to_json(&detail), text.trim_end())
        }
        TxCommand::List { filter, limit, after } => {
            let mut q = TxQuery::from(filter);
            q.limit = Some(limit);
            q.after = match after {
                Some(a) => {
                    let (time, id) = a
                        .rsplit_once(',')
                        .ok_or_else(|| AppError::invalid("after", "the cursor a page printed, TIME,ID"))?;
                    let id = id.parse().map_err(|_| AppError::invalid("after", "TIME,ID with a numeric id"))?;
                    Some(paydesk_ledger::Cursor { created_at: time.to_string(), id })
                }
                None => None,
            };
            let page = paydesk.tx_page(&q)?;
            let mut text = page
                .payments
                .iter()
                .map(|p| {
                    format!(
                        "{}  {:<24} {:<10} {:>12} {}  {}",
                        p.created_at,
                        p.reference,
                        p.status.as_str(),
                        p.amount,
                        p.currency,
                        p.profile
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(next) = &page.next {
                text.push_str(&format!("\nmore: --after {},{}", next.created_at, next.id));
            }
            out(to_json(&page.payments), text)
        }
        TxCommand::Receipt { reference, paper, qr, output, profile } => {
            payment_of_profile(&paydesk, &reference, profile)?;
            let paper = paydesk_core::print::Paper::parse(&paper)?;
            let html =
                if qr { paydesk.qr_print_html(&reference, paper)? } else { paydesk.receipt_html(&reference, paper)? };
            match output {
                Some(path) => {
                    paydesk_ledger::create_private_file(&path)
                        .and_then(|mut f| std::io::Write::write_all(&mut f, html.as_bytes()))
                        .map_err(|e| AppError::invalid("output", format!("cannot write {} ({e})", path.display())))?;
                    let text = say("written to {file}", &[("file", &path.display())]);
                    out(json!({"reference": reference, "file": path}), text)
                }
                None => out(json!({"reference": reference, "html": &html}), html),
            }
        }
        TxCommand::Totals { filter, by: Some(by) } => {
            if by != "shop" {
                return Err(AppError::invalid("by", format!("shop is the one grouping of totals (got '{by}')")));
            }
            let shops = paydesk.tx_totals_by_shop(&TxQuery::from(filter))?;
            let text = shops
                .iter()
                .flat_map(|s| {
                    s.totals.iter().map(move |t| {
                        format!(
                            "{}  {}  gross {}  refunded {}  net {}",
                            s.shop, t.currency, t.takings.gross, t.takings.refunded, t.takings.net
                        )
                    })
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&shops), text)
        }
        TxCommand::Totals { filter, by: None } => {
            let totals = paydesk.tx_totals(&TxQuery::from(filter))?;
            let text = totals
                .iter()
                .map(|t| {
                    format!(
                        "{}  {}  gross {}  refunded {}  net {}",
                        t.currency,
                        t.outcomes_in_words(),
                        t.takings.gross,
                        t.takings.refunded,
                        t.takings.net
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&totals), text)
        }
        TxCommand::Refresh { filter, concurrency, rate } => {
            let q = TxQuery::from(filter);
            if paydesk_core::is_demo_name(q.profile.as_deref().unwrap_or(DEMO_PROFILE)) || q.profile.is_none() {
                paydesk.ensure_demo(q.profile.as_deref().unwrap_or(DEMO_PROFILE)).await?;
            }
            let stop = paydesk.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.cancel_job(paydesk_core::jobs::Job::Refresh);
                }
            });
            let bar = |p: paydesk_core::jobs::JobProgress| {
                eprint!("\rrefreshing {}/{} ({} failed)", p.done, p.total, p.failures);
                if p.done == p.total {
                    eprintln!();
                }
            };
            let options = paydesk_core::bulk::BulkOptions { concurrency, per_provider_rate: rate };
            let summary = paydesk.refresh_job(&q, options, Some(&bar)).await?;
            let text = say(
                "{total} payments: {changed} changed, {unchanged} unchanged, {unreachable} unreachable, {failed} failed",
                &[
                    ("total", &summary.total),
                    ("changed", &summary.changed),
                    ("unchanged", &summary.unchanged),
                    ("unreachable", &summary.unreachable),
                    ("failed", &summary.failed),
                ],
            ) + &if summary.cancelled { say(" (stopped)", &[]) } else { String::new() };
            out(to_json(&summary), text)
        }
        TxCommand::Refund { reference, amount, profile } => {
            payment_for(&paydesk, &reference, profile).await?;
            let done = paydesk.refund(&reference, amount.as_deref()).await?;
            let amount = paydesk_gateways::Money::new(
                done.refund.amount_minor,
                paydesk_gateways::Currency::from_code(&done.refund.currency)?,
            )
            .to_decimal_string();
            let text = say(
                "refunded {amount} {currency} of {reference} ({refund}); payment is {status}",
                &[
                    ("amount", &amount),
                    ("currency", &done.refund.currency),
                    ("reference", &reference),
                    ("refund", &done.refund.refund_reference),
                    ("status", &done.payment.status.as_str()),
                ],
            );
            out(to_json(&done), text)
        }
        TxCommand::Capture { reference, amount, last, profile } => {
            payment_for(&paydesk, &reference, profile).await?;
            let view = paydesk.capture(&reference, amount.as_deref(), last).await?;
            let text = format!("{} {} {} {}", view.reference, view.status.as_str(), view.amount, view.currency);
            out(to_json(&view), text)
        }
        TxCommand::Void { reference, reason, profile } => {
            payment_for(&paydesk, &reference, profile).await?;
            let view = paydesk.void(&reference, reason.as_deref()).await?;
            let text = format!("{} {}", view.reference, view.status.as_str());
            out(to_json(&view), text)
        }
        TxCommand::Cancel { reference, profile } => {
            payment_for(&paydesk, &reference, profile).await?;
            let view = paydesk.cancel(&reference).await?;
            let text = format!("{} {}", view.reference, view.status.as_str());
            out(to_json(&view), text)
        }
        TxCommand::Retry { reference, profile } => {
            payment_for(&paydesk, &reference, profile).await?;
            let view = paydesk.retry_payment(&reference).await?;
            let text =
                format!("{} {} link {}", view.reference, view.status.as_str(), view.link.clone().unwrap_or_default());
            out(to_json(&view), text)
        }
        TxCommand::Recover { profile } => {
            if paydesk_core::is_demo_name(profile.as_deref().unwrap_or(DEMO_PROFILE)) {
                paydesk.ensure_demo(DEMO_PROFILE).await?;
            }
            let summary = paydesk.recover(profile.as_deref()).await?;
            let text = summary.describe();
            out(to_json(&summary), text)
        }
    }
}
