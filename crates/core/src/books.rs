//! The accountant's side: transactions filtered by the shop's local days and read a page
//! at a time, totals over the whole filter, daily totals, and the ledger's exports. Only
//! the ledger is read: none of this touches the network.

use crate::{AppError, Paydesk, PaymentView};
use paydesk_gateways::RuleId;
use paydesk_gateways::{Currency, Money, ValidationError};
use paydesk_ledger::query::local_day_bounds;
use paydesk_ledger::{Cursor, PaymentFilter};
use serde::{Deserialize, Serialize};

/// The shop's time zone: `TZ` if set, else the system's (UTC when neither can be read).
pub fn shop_time_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A question about transactions as a person asks it: local dates, decimal amounts.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TxQuery {
    /// today, yesterday, this_week, this_month, or custom (from/to); empty: all time.
    #[serde(default)]
    pub period: Option<String>,
    /// First and last local day, inclusive (`2026-11-01`).
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    /// Only the payments of this shop's profiles.
    #[serde(default)]
    pub shop: Option<String>,
    /// qr, link, or a wallet.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    /// Decimal amounts ("10.00"), inclusive.
    #[serde(default)]
    pub min_amount: Option<String>,
    #[serde(default)]
    pub max_amount: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub after: Option<Cursor>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl TxQuery {
    /// The ledger's filter: local days become UTC bounds in `tz`; amounts become minor
    /// units of the filter's currency (two decimals when none is named). Bad input names
    /// its field.
    pub fn to_filter(&self, tz: &jiff::tz::TimeZone) -> Result<PaymentFilter, AppError> {
        let today = jiff::Zoned::now().with_time_zone(tz.clone()).date();
        let day = |field: &'static str, v: &str| -> Result<jiff::civil::Date, AppError> {
            v.trim().parse().map_err(|_| AppError::invalid(field, format!("a date such as 2026-11-01 (got '{v}')")))
        };
        let (first, last) = match nonempty(&self.period).as_deref() {
            None | Some("all") | Some("custom") => (
                nonempty(&self.from).map(|v| day("from", &v)).transpose()?,
                nonempty(&self.to).map(|v| day("to", &v)).transpose()?,
            ),
            Some("today") => (Some(today), Some(today)),
            Some("yesterday") => {
                let y = today.yesterday().map_err(|e| AppError::Internal { message: e.to_string() })?;
                (Some(y), Some(y))
            }
            Some("this_week") => {
                // Weeks start on Monday.
                let back = today.weekday().to_monday_zero_offset() as i64;
                (Some(today.checked_sub(jiff::Span::new().days(back)).unwrap_or(today)), Some(today))
            }
            Some("this_month") => (Some(today.first_of_month()), Some(today)),
            Some(other) => {
                return Err(AppError::invalid(
                    "period",
                    format!("today, yesterday, this_week, this_month or custom (got '{other}')"),
                ))
            }
        };
        if let (Some(a), Some(b)) = (first, last) {
            if a > b {
                return Err(AppError::invalid("to", format!("{b} is before from {a}")));
            }
        }
        let bound = |d: jiff::civil::Date, pick_end: bool| -> Result<String, AppError> {
            let (start, next) = local_day_bounds(&d.to_string(), tz).map_err(|m| AppError::invalid("from", m))?;
            Ok(if pick_end { next } else { start })
        };
        let currency = nonempty(&self.currency).map(|c| Currency::from_code(&c)).transpose()?;
        // Amounts are read in the filter's currency, else with two decimals.
        let minor = |field: &'static str, v: &Option<String>| -> Result<Option<i64>, AppError> {
            let Some(v) = nonempty(v) else { return Ok(None) };
            let c = currency.unwrap_or(Currency::from_code("USD").expect("USD is known"));
            let m = Money::parse(&v, c).map_err(|e| AppError::from(ValidationError { field, ..e }))?;
            Ok(Some(m.minor))
        };
        Ok(PaymentFilter {
            from_utc: first.map(|d| bound(d, false)).transpose()?,
            to_utc: last.map(|d| bound(d, true)).transpose()?,
            status: nonempty(&self.status),
            provider: nonempty(&self.provider),
            profile: nonempty(&self.profile),
            shop: nonempty(&self.shop),
            method: nonempty(&self.method),
            currency: currency.map(|c| c.code().to_string()),
            min_minor: minor("min_amount", &self.min_amount)?,
            max_minor: minor("max_amount", &self.max_amount)?,
            text: nonempty(&self.text),
            limit: self.limit,
            after: self.after.clone(),
        })
    }
}

/// One shop's totals, per currency.
#[derive(Debug, Clone, Serialize)]
pub struct ShopTotals {
    pub shop: String,
    pub totals: Vec<Totals>,
}

/// A page of transactions as the screens show them.
#[derive(Debug, Clone, Serialize)]
pub struct TxPage {
    pub payments: Vec<PaymentView>,
    pub next: Option<Cursor>,
}

/// Money taken, refunded and net in one currency, exactly ("120.00") and in minor units.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Takings {
    pub gross: String,
    pub refunded: String,
    pub net: String,
    pub gross_minor: i64,
    pub refunded_minor: i64,
    pub net_minor: i64,
}

impl Takings {
    fn new(gross_minor: i64, refunded_minor: i64, currency: &str) -> Self {
        let net_minor = gross_minor - refunded_minor;
        Takings {
            gross: decimal(gross_minor, currency),
            refunded: decimal(refunded_minor, currency),
            net: decimal(net_minor, currency),
            gross_minor,
            refunded_minor,
            net_minor,
        }
    }
}

/// A filter's totals in one currency.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub currency: String,
    pub count: i64,
    /// How many took money (gross counts only those).
    pub taken_count: i64,
    /// How many ended each way, by status: {"paid": 7, "failed": 2, "cancelled": 1}.
    pub outcomes: std::collections::BTreeMap<String, i64>,
    #[serde(flatten)]
    pub takings: Takings,
}

/// One day's takings in one currency (and provider, when asked by provider); `day` is
/// `"total"` on each currency's total row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DayRow {
    pub day: String,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Payments that took money.
    pub count: i64,
    #[serde(flatten)]
    pub takings: Takings,
}

impl DayRow {
    fn new(day: String, currency: String, provider: Option<String>, count: i64, gross: i64, refunded: i64) -> Self {
        DayRow { takings: Takings::new(gross, refunded, &currency), day, currency, provider, count }
    }
}

impl Totals {
    /// The outcomes in words, most first: "7 paid · 2 declined · 1 cancelled".
    pub fn outcomes_in_words(&self) -> String {
        let mut by: Vec<(&String, &i64)> = self.outcomes.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        by.iter()
            .map(|(status, n)| {
                let label =
                    paydesk_gateways::PaymentStatus::parse(status).map(|s| s.label()).unwrap_or(status.as_str());
                format!("{n} {}", label.to_lowercase())
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

pub(crate) fn decimal(minor: i64, currency: &str) -> String {
    match Currency::from_code(currency) {
        Ok(c) => Money::new(minor, c).to_decimal_string(),
        Err(_) => minor.to_string(),
    }
}

impl Paydesk {
    /// A page of the filter, newest first.
    pub fn tx_page(&self, q: &TxQuery) -> Result<TxPage, AppError> {
        let filter = q.to_filter(&shop_time_zone())?;
        let page = crate::blocking(|| self.ledger().page(&filter))?;
        Ok(TxPage { payments: page.rows.into_iter().map(PaymentView::from).collect(), next: page.next })
    }

    /// Totals per currency over the whole filter.
    /// The totals of each shop (of `q.shop` alone when it names one); every payment counts
    /// in exactly one shop, so the shops' totals add up to the whole.
    pub fn tx_totals_by_shop(&self, q: &TxQuery) -> Result<Vec<ShopTotals>, AppError> {
        let mut shops: Vec<String> =
            crate::blocking(|| self.ledger().profiles())?.into_iter().map(|p| p.shop).collect();
        shops.push(paydesk_ledger::MAIN_SHOP.into());
        shops.sort();
        shops.dedup();
        if let Some(only) = nonempty(&q.shop) {
            shops.retain(|s| *s == only);
        }
        shops
            .into_iter()
            .map(|shop| {
                let q = TxQuery { shop: Some(shop.clone()), ..q.clone() };
                Ok(ShopTotals { totals: self.tx_totals(&q)?, shop })
            })
            .collect()
    }

    pub fn tx_totals(&self, q: &TxQuery) -> Result<Vec<Totals>, AppError> {
        let filter = q.to_filter(&shop_time_zone())?;
        let totals = crate::blocking(|| self.ledger().totals(&filter))?;
        Ok(totals
            .into_iter()
            .map(|t| Totals {
                takings: Takings::new(t.gross_minor, t.refunded_minor, &t.currency),
                currency: t.currency,
                count: t.count,
                taken_count: t.taken_count,
                outcomes: t.outcomes,
            })
            .collect())
    }

    /// Daily takings of a period, by the shop's local day and currency (and provider when
    /// `by_provider`), then one total row per currency (`day: "total"`).
    pub fn daily_report(&self, q: &TxQuery, by_provider: bool) -> Result<Vec<DayRow>, AppError> {
        let tz = shop_time_zone();
        let filter = q.to_filter(&tz)?;
        let days = crate::blocking(|| self.ledger().daily(&filter, &tz, by_provider))?;
        let mut totals: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
        let mut rows: Vec<DayRow> = days
            .into_iter()
            .map(|d| {
                let t = totals.entry(d.currency.clone()).or_default();
                (t.0, t.1, t.2) = (t.0 + d.count, t.1 + d.gross_minor, t.2 + d.refunded_minor);
                DayRow::new(d.day, d.currency, d.provider, d.count, d.gross_minor, d.refunded_minor)
            })
            .collect();
        rows.extend(totals.into_iter().map(|(currency, (count, gross, refunded))| {
            DayRow::new("total".into(), currency, None, count, gross, refunded)
        }));
        Ok(rows)
    }

    /// `daily_report` written as CSV to `path` (0600; the rows `report daily` prints, with the
    /// amounts as decimals): the file the Reports screen exports. The rows written.
    pub fn export_daily_report(&self, q: &TxQuery, by_provider: bool, path: &std::path::Path) -> Result<u64, AppError> {
        let rows = self.daily_report(q, by_provider)?;
        let fail = |e: &dyn std::fmt::Display| {
            AppError::invalid("path", format!("{} could not be written: {e}", path.display()))
        };
        crate::blocking(|| {
            let file = paydesk_ledger::create_private_file(path).map_err(|e| fail(&e))?;
            let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
            let mut head = vec!["day", "currency"];
            if by_provider {
                head.push("provider");
            }
            head.extend(["payments", "gross", "refunded", "net"]);
            out.write_record(&head).map_err(|e| fail(&e))?;
            for r in &rows {
                let count = r.count.to_string();
                let mut record = vec![r.day.as_str(), r.currency.as_str()];
                if by_provider {
                    record.push(r.provider.as_deref().unwrap_or(""));
                }
                record.extend([count.as_str(), &r.takings.gross, &r.takings.refunded, &r.takings.net]);
                out.write_record(&record).map_err(|e| fail(&e))?;
            }
            out.flush().map_err(|e| fail(&e))?;
            Ok(rows.len() as u64)
        })
    }

    /// Up to `limit` payments of a filter, newest first (scripts and tests).
    pub fn payments(&self, filter: &PaymentFilter) -> Result<Vec<PaymentView>, AppError> {
        let page = crate::blocking(|| self.ledger().page(filter))?;
        Ok(page.rows.into_iter().map(PaymentView::from).collect())
    }
}

pub use paydesk_ledger::chain::ChainReport;
pub use paydesk_ledger::export::{ExportFormat, ExportOptions, ExportSummary};

/// An export format by the name a person gives ("csv", "xlsx", "jsonl").
pub fn export_format(name: &str) -> Result<ExportFormat, AppError> {
    ExportFormat::parse(name)
        .ok_or_else(|| AppError::invalid("format", format!("csv, xlsx or jsonl (got '{}')", name.trim())))
}

impl Paydesk {
    /// A reader of its own (WAL lets it read while the app writes), so a long export or
    /// verify never holds up a sale.
    fn reader(&self) -> Result<paydesk_ledger::Ledger, AppError> {
        Ok(crate::blocking(|| paydesk_ledger::Ledger::open_at(&self.ledger_location()))?)
    }

    /// Writes the filter's payments to `target`; `progress(done, total)` may stop it.
    pub fn export(
        &self,
        q: &TxQuery,
        format: ExportFormat,
        options: &ExportOptions,
        target: paydesk_ledger::export::ExportTarget<'_>,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<ExportSummary, AppError> {
        let tz = shop_time_zone();
        let filter = q.to_filter(&tz)?;
        let reader = self.reader()?;
        let summary = crate::blocking(|| reader.export(&filter, format, options, target, &tz, progress))?;
        self.exported.lock().unwrap_or_else(|e| e.into_inner()).extend(summary.files.iter().cloned());
        Ok(summary)
    }

    /// A file this process exported, for "Open folder"; any other path is refused (a window
    /// never names what the desktop opens).
    pub fn exported_file(&self, path: &str) -> Result<std::path::PathBuf, AppError> {
        let wanted = std::path::Path::new(path.trim());
        self.exported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|f| f.as_path() == wanted)
            .cloned()
            .ok_or_else(|| AppError::invalid("path", "only a file exported in this session can be shown"))
    }

    /// Checks the ledger's hash chain against every row.
    pub fn verify_ledger(&self) -> Result<ChainReport, AppError> {
        let reader = self.reader()?;
        crate::blocking(|| Ok(reader.verify()?))
    }

    /// `verify_ledger`, and whether the chain still runs through `kept_head`.
    pub fn verify_ledger_against(&self, kept_head: &str) -> Result<ChainReport, AppError> {
        let head = kept_head.trim();
        if head.len() != 64 || !head.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::invalid("head", "the 64 hexadecimal characters verify printed".to_string())
                .because(RuleId::Characters));
        }
        let reader = self.reader()?;
        let head = head.to_string();
        crate::blocking(move || Ok(reader.verify_against(&head)?))
    }

    /// A consistent copy of the ledger, taken while it is in use.
    /// Copies this ledger (payments, refunds, events, customers, cards, profiles; never a
    /// secret) into the PostgreSQL ledger at `url`, migrating it first, then checks that
    /// both sides hold the same rows and totals. Safe to run again.
    pub fn copy_ledger_to(&self, url: &str) -> Result<paydesk_ledger::copy::CopyReport, AppError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(AppError::invalid(
                "to",
                format!("a PostgreSQL URL such as postgres://user@host:5432/paydesk (got '{url}')"),
            ));
        }
        let reader = self.reader()?;
        refuse_unverified(&reader, "this ledger")?;
        with_shared_ledger(url, move |client| reader.copy_to_postgres(client))
    }

    /// The other way: the PostgreSQL ledger at `url` into a new SQLite file `to` (an
    /// offline copy), checked the same way. Never over an existing file.
    pub fn copy_ledger_from(
        &self,
        url: &str,
        to: &std::path::Path,
    ) -> Result<paydesk_ledger::copy::CopyReport, AppError> {
        if to.to_string_lossy().contains("://") {
            return Err(AppError::invalid("to", "with --from, name the new SQLite file to copy into"));
        }
        if to.exists() {
            return Err(AppError::invalid("to", format!("{} already exists; name a new file", to.display())));
        }
        refuse_unverified(&crate::blocking(|| paydesk_ledger::Ledger::open_shared(url))?, "the shared ledger")?;
        let mut target = paydesk_ledger::Ledger::open(to)?;
        let copied = with_shared_ledger(url, move |client| target.copy_from_postgres(client));
        if copied.is_err() {
            let _ = std::fs::remove_file(to);
        }
        copied
    }

    pub fn backup_ledger(&self, to: &std::path::Path) -> Result<(), AppError> {
        if to.exists() {
            return Err(AppError::invalid("file", format!("{} already exists; name a new file", to.display())));
        }
        let reader = self.reader()?;
        crate::blocking(|| Ok(reader.backup_to(to)?))
    }

    /// Puts a backup back after verifying it; never one that would lose payments unless
    /// `replace_newer` (the ledger as it was is kept beside it either way).
    pub fn restore_ledger(
        &self,
        from: &std::path::Path,
        replace_newer: bool,
    ) -> Result<paydesk_ledger::backup::RestoreReport, AppError> {
        crate::blocking(|| Ok(self.ledger().restore_from(from, replace_newer)?))
    }
}

/// A copy never launders a ledger that fails its own check: its source is verified first.
pub(crate) fn refuse_unverified(source: &paydesk_ledger::Ledger, what: &str) -> Result<(), AppError> {
    let report = crate::blocking(|| source.verify())?;
    if report.ok {
        return Ok(());
    }
    Err(AppError::NotAllowed {
        message: format!(
            "{what} does not verify ({}); nothing was copied. Restore a good backup first.",
            report.problem.unwrap_or_default()
        ),
    })
}

/// Runs a copy against the PostgreSQL ledger at `url`, on a thread of its own (its client
/// runs its own runtime, which may not start inside the app's).
pub(crate) fn with_shared_ledger<T: Send + 'static>(
    url: &str,
    copy: impl FnOnce(&mut paydesk_ledger::postgres::Client) -> Result<T, paydesk_ledger::copy::CopyError> + Send + 'static,
) -> Result<T, AppError> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut client = paydesk_ledger::postgres::connect(&url).map_err(|e| AppError::Storage {
            message: format!("The shared ledger cannot be reached ({e}); nothing was copied"),
            reference: None,
        })?;
        copy(&mut client).map_err(|e| AppError::Storage { message: e.to_string(), reference: None })
    })
    .join()
    .map_err(|_| AppError::Internal { message: "the copy stopped unexpectedly".into() })?
}
