//! The accountant's questions of the ledger: a filter over payments, answered a page at a
//! time (keyset, never OFFSET) from indexes, totals per currency over the whole filter in
//! SQL, and daily totals for a period. Dates are the shop's local days, turned into UTC
//! bounds here once.

use crate::payments::{payment_from_row, PaymentRow};
use crate::{Ledger, Result};
use sea_query::{Condition, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use serde::{Deserialize, Serialize};

/// Which payments: every field narrows; None leaves it open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFilter {
    /// UTC bounds, `YYYY-MM-DDTHH:MM:SS`: from inclusive, to exclusive.
    #[serde(default)]
    pub from_utc: Option<String>,
    #[serde(default)]
    pub to_utc: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    /// The shop whose profiles' payments these are.
    #[serde(default)]
    pub shop: Option<String>,
    /// "qr", "link", or a wallet ("alipay").
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    /// Amount range in minor units, inclusive.
    #[serde(default)]
    pub min_minor: Option<i64>,
    #[serde(default)]
    pub max_minor: Option<i64>,
    /// The start of a reference, provider transaction number or customer number.
    #[serde(default)]
    pub text: Option<String>,
    /// Rows per page (default 50, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The page after this row (keyset: its time and id).
    #[serde(default)]
    pub after: Option<Cursor>,
}

/// Where a page ended: the last row's creation time and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub created_at: String,
    pub id: i64,
}

/// One page of payments, newest first, and where the next one starts (None: no more).
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub rows: Vec<PaymentRow>,
    pub next: Option<Cursor>,
}

/// What a filter adds up to in one currency, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyTotals {
    pub currency: String,
    /// Payments in the filter, whatever their status.
    pub count: i64,
    /// How many of them brought money in (paid, captured in part, later refunded or
    /// disputed, or partly paid).
    pub taken_count: i64,
    /// How many ended each way, by status ("paid": 7, "failed": 2, ...).
    pub outcomes: std::collections::BTreeMap<String, i64>,
    /// Money taken: what was paid or captured, and what partial payments brought; never
    /// the amount of a sale that took nothing.
    pub gross_minor: i64,
    /// Confirmed refunds of those payments.
    pub refunded_minor: i64,
    pub net_minor: i64,
}

/// One day's takings in one currency (and provider, when asked by provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayTotals {
    /// The shop's local date, `YYYY-MM-DD`.
    pub day: String,
    pub currency: String,
    /// None unless the report is by provider.
    pub provider: Option<String>,
    /// Payments that took money that day.
    pub count: i64,
    /// Money taken (paid or captured, and what partial payments brought).
    pub gross_minor: i64,
    /// Confirmed refunds of that day's payments.
    pub refunded_minor: i64,
    pub net_minor: i64,
}

/// A column of the payments, read through the alias `p` every filtered query uses.
pub(crate) fn p(column: &'static str) -> Expr {
    Expr::col(("p", column))
}

/// A payment's confirmed refunds, summed (0 when none), for the payment `p` of the row:
/// the export's refunded column and the daily report's.
pub(crate) fn refunded_of_payment() -> Expr {
    Expr::cust(format!(
        "CAST(coalesce((SELECT sum(r.amount_minor) FROM refunds r \
         WHERE r.payment_id = p.id AND r.status = '{}'), 0) AS BIGINT)",
        paydesk_types::RefundStatus::Succeeded.as_str()
    ))
}

/// The payments a filter stands for, built once for both engines.
fn condition(f: &PaymentFilter, postgres: bool) -> Condition {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let mut all = Condition::all();
    for (column, value) in [
        ("status", given(&f.status)),
        ("provider", given(&f.provider)),
        ("profile", given(&f.profile)),
        ("currency", given(&f.currency).map(|c| c.to_ascii_uppercase())),
    ] {
        if let Some(v) = value {
            all = all.add(p(column).eq(v));
        }
    }
    if let Some(shop) = given(&f.shop) {
        // Every payment is in exactly one shop: its profile's, or the main shop where its
        // profile is built in (demo) or was removed.
        let names = || Query::select().column("name").from("profiles").to_owned();
        let mut in_shop =
            Condition::any().add(p("profile").in_subquery(names().and_where(Expr::col("shop").eq(&*shop)).to_owned()));
        if shop == crate::MAIN_SHOP {
            in_shop = in_shop.add(p("profile").not_in_subquery(names()));
        }
        all = all.add(in_shop);
    }
    if let Some(m) = given(&f.method).map(|m| m.to_ascii_lowercase()) {
        let column = if m == "qr" || m == "link" { "method" } else { "wallet" };
        all = all.add(p(column).eq(m));
    }
    if let Some(from) = &f.from_utc {
        all = all.add(p("created_at").gte(from.as_str()));
    }
    if let Some(to) = &f.to_utc {
        all = all.add(p("created_at").lt(to.as_str()));
    }
    if let Some(min) = f.min_minor {
        all = all.add(p("amount_minor").gte(min));
    }
    if let Some(max) = f.max_minor {
        all = all.add(p("amount_minor").lte(max));
    }
    if let Some(t) = given(&f.text) {
        let upper = t.to_ascii_uppercase();
        all = all.add(
            Condition::any()
                .add(starts_with("reference", &upper, postgres))
                .add(starts_with("reference", &t, postgres))
                .add(starts_with("transaction_no", &t, postgres))
                .add(starts_with("customer_no", &t, postgres)),
        );
    }
    all
}

/// A prefix test each engine answers well: SQLite compares text by code point, so a range
/// on the column is read from its index; a PostgreSQL server's collation may not sort by
/// code point, so it is asked its own `starts_with`.
fn starts_with(column: &'static str, prefix: &str, postgres: bool) -> Expr {
    if postgres {
        Func::cust("starts_with").arg(p(column)).arg(prefix).into()
    } else {
        p(column).gte(prefix).and(p(column).lt(format!("{prefix}\u{10FFFF}")))
    }
}

/// `SELECT … FROM payments p WHERE` the filter, to which each question adds its columns.
pub(crate) fn filtered(f: &PaymentFilter, postgres: bool) -> SelectStatement {
    Query::select().from_as("payments", "p").cond_where(condition(f, postgres)).to_owned()
}

/// Rows per page: 50 unless asked, at most 1000.
fn page_limit(f: &PaymentFilter) -> u64 {
    f.limit.unwrap_or(50).clamp(1, 1000) as u64
}

/// A page of the filter, newest first, after its cursor; one row more than the page holds
/// tells whether another page follows.
fn page_statement(f: &PaymentFilter, postgres: bool) -> SelectStatement {
    let mut select = filtered(f, postgres);
    if let Some(c) = &f.after {
        select.and_where(
            Expr::tuple([p("created_at"), p("id")])
                .lt(Expr::tuple([Expr::val(c.created_at.as_str()), Expr::val(c.id)])),
        );
    }
    select
        .expr(Expr::cust("p.*"))
        .order_by_expr(p("created_at"), Order::Desc)
        .order_by_expr(p("id"), Order::Desc)
        .limit(page_limit(f) + 1);
    select
}

/// The local calendar day `date` (`YYYY-MM-DD`) in `tz` as UTC bounds: its first instant,
/// and the next day's.
pub fn local_day_bounds(date: &str, tz: &jiff::tz::TimeZone) -> std::result::Result<(String, String), String> {
    let day: jiff::civil::Date =
        date.trim().parse().map_err(|_| format!("not a date such as 2026-11-01 (got '{date}')"))?;
    let start = day.to_zoned(tz.clone()).map_err(|e| e.to_string())?;
    let next = day.tomorrow().map_err(|e| e.to_string())?.to_zoned(tz.clone()).map_err(|e| e.to_string())?;
    Ok((utc_bound(start.timestamp()), utc_bound(next.timestamp())))
}

/// A UTC instant as the ledger compares it: `YYYY-MM-DDTHH:MM:SS` (every stored time,
/// with or without fractions, sorts against it as it should).
pub fn utc_bound(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A stored UTC time in the shop's zone, `YYYY-MM-DD HH:MM:SS`.
pub fn local_time(utc: &str, tz: &jiff::tz::TimeZone) -> String {
    match utc.parse::<jiff::Timestamp>() {
        Ok(t) => t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => utc.to_string(),
    }
}

impl Ledger {
    /// One page of the filter, newest first.
    pub fn page(&self, f: &PaymentFilter) -> Result<Page> {
        let limit = page_limit(f);
        let select = page_statement(f, self.db.is_postgres());
        let (query, values) = self.db.build(&select)?;
        let mut rows: Vec<PaymentRow> =
            self.db.query(&query, values)?.iter().map(payment_from_row).collect::<Result<_>>()?;
        let next = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| Cursor { created_at: r.created_at.clone(), id: r.id })
        } else {
            None
        };
        Ok(Page { rows, next })
    }

    /// The first page of a filter, as rows (scripts and tests).
    pub fn payments(&self, f: &PaymentFilter) -> Result<Vec<PaymentRow>> {
        Ok(self.page(f)?.rows)
    }

    /// Totals per currency over the whole filter (not a page), from SQL.
    pub fn totals(&self, f: &PaymentFilter) -> Result<Vec<CurrencyTotals>> {
        let postgres = self.db.is_postgres();
        // Grouped by currency and status in SQL (an index holds exactly those columns),
        // folded into totals here.
        let (query, values) = self.db.build(
            filtered(f, postgres)
                .expr(p("currency"))
                .expr(p("status"))
                .expr(Expr::cust("count(*)"))
                .expr(Expr::cust("CAST(coalesce(sum(coalesce(p.paid_minor, p.amount_minor)), 0) AS BIGINT)"))
                .group_by_col(("p", "currency"))
                .group_by_col(("p", "status")),
        )?;
        let groups: Vec<(String, String, i64, i64)> = self
            .db
            .query(&query, values)?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .collect::<Result<_>>()?;
        let mut totals: Vec<CurrencyTotals> = Vec::new();
        for (currency, status, count, taken) in groups {
            let t = match totals.iter_mut().find(|t| t.currency == currency) {
                Some(t) => t,
                None => {
                    totals.push(CurrencyTotals {
                        currency: currency.clone(),
                        count: 0,
                        taken_count: 0,
                        outcomes: Default::default(),
                        gross_minor: 0,
                        refunded_minor: 0,
                        net_minor: 0,
                    });
                    totals.last_mut().expect("just pushed")
                }
            };
            t.count += count;
            *t.outcomes.entry(status.clone()).or_default() += count;
            if paydesk_types::PaymentStatus::from_stored(&status).took_money() {
                t.taken_count += count;
                t.gross_minor += taken;
            }
        }
        totals.sort_by(|a, b| a.currency.cmp(&b.currency));
        // Refunds of the filter's payments, found from the payments' side (only those whose
        // status can carry a confirmed refund), each through the refunds' covering index.
        let mut refunds = filtered(f, postgres);
        refunds
            .expr(p("currency"))
            .expr(Expr::cust("CAST(coalesce(sum(r.amount_minor), 0) AS BIGINT)"))
            .and_where(p("status").is_in(paydesk_types::PaymentStatus::taken_names()))
            .group_by_col(("p", "currency"));
        self.db.ordered_join(
            &mut refunds,
            "refunds",
            "r",
            Expr::col(("r", "payment_id"))
                .equals(("p", "id"))
                .and(Expr::col(("r", "status")).eq(paydesk_types::RefundStatus::Succeeded.as_str())),
        );
        let (query, values) = self.db.build(&refunds)?;
        let refunded: Vec<(String, i64)> =
            self.db.query(&query, values)?.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect::<Result<_>>()?;
        for t in &mut totals {
            t.refunded_minor = refunded.iter().find(|(c, _)| *c == t.currency).map(|(_, m)| *m).unwrap_or(0);
            t.net_minor = t.gross_minor - t.refunded_minor;
        }
        Ok(totals)
    }

    /// How many payments the filter holds.
    pub fn count(&self, f: &PaymentFilter) -> Result<i64> {
        let (query, values) = self.db.build(filtered(f, self.db.is_postgres()).expr(Expr::cust("count(*)")))?;
        self.db.query_one(&query, values)?.get(0)
    }

    /// Every payment of the filter, oldest first, one at a time (for exports and bulk
    /// work: memory stays flat however many there are). `f` returns false to stop.
    pub fn each_payment(&self, filter: &PaymentFilter, mut f: impl FnMut(PaymentRow) -> bool) -> Result<()> {
        let (query, values) = self.db.build(
            filtered(filter, self.db.is_postgres())
                .expr(Expr::cust("p.*"))
                .order_by_expr(p("created_at"), Order::Asc)
                .order_by_expr(p("id"), Order::Asc),
        )?;
        self.db.for_each(&query, values, |row| Ok(f(payment_from_row(&row)?)))
    }

    /// Daily takings over a filter (normally a date range), by the shop's local day and
    /// currency (and provider when `by_provider`): money taken, refunds of those payments
    /// and net; payments that took nothing add nothing.
    pub fn daily(&self, f: &PaymentFilter, tz: &jiff::tz::TimeZone, by_provider: bool) -> Result<Vec<DayTotals>> {
        type Key = (String, String, Option<String>);
        let mut by_key: std::collections::BTreeMap<Key, (i64, i64, i64)> = Default::default();
        let (query, values) = self.db.build(
            filtered(f, self.db.is_postgres())
                .exprs([p("created_at"), p("currency"), p("provider")])
                .expr(Expr::cust("coalesce(p.paid_minor, p.amount_minor)"))
                .expr(refunded_of_payment())
                .and_where(p("status").is_in(paydesk_types::PaymentStatus::taken_names())),
        )?;
        self.db.for_each(&query, values, |r| {
            let at: String = r.get(0)?;
            let day = local_time(&at, tz).chars().take(10).collect::<String>();
            let provider = if by_provider { Some(r.get::<String>(2)?) } else { None };
            let e = by_key.entry((day, r.get(1)?, provider)).or_default();
            e.0 += 1;
            e.1 += r.get::<i64>(3)?;
            e.2 += r.get::<i64>(4)?;
            Ok(true)
        })?;
        Ok(by_key
            .into_iter()
            .map(|((day, currency, provider), (count, gross_minor, refunded_minor))| DayTotals {
                day,
                currency,
                provider,
                count,
                gross_minor,
                refunded_minor,
                net_minor: gross_minor - refunded_minor,
            })
            .collect())
    }
}
#[cfg(test)]
mod plan_tests {
    //! The built filters keep SQLite reading from its indexes, as the hand-written ones did.
    use super::*;

    /// SQLite's plan for a page of the filter, one line per step.
    fn plan(ledger: &Ledger, f: &PaymentFilter) -> String {
        let select = page_statement(f, false);
        let (sql, values) = ledger.db.build(&select).unwrap();
        let rows = ledger.db.query(&format!("EXPLAIN QUERY PLAN {sql}"), values).unwrap();
        rows.iter().map(|r| r.get::<String>(3).unwrap()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn each_filter_is_read_from_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open_in(dir.path()).unwrap();
        let text = |t: &str| Some(t.to_string());
        let filters = [
            PaymentFilter { status: text("paid"), ..Default::default() },
            PaymentFilter { provider: text("pockyt"), ..Default::default() },
            PaymentFilter { method: text("alipay"), ..Default::default() },
            PaymentFilter { method: text("qr"), ..Default::default() },
            PaymentFilter { currency: text("usd"), ..Default::default() },
            PaymentFilter { text: text("PD-20"), ..Default::default() },
            PaymentFilter { from_utc: text("2026-11-01T00:00:00"), ..Default::default() },
        ];
        for f in filters {
            let plan = plan(&ledger, &f);
            assert!(plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"), "{f:?}:\n{plan}");
            assert!(!plan.lines().any(|l| l.trim() == "SCAN p"), "a full scan for {f:?}:\n{plan}");
        }
        let prefix = plan(&ledger, &PaymentFilter { text: text("PD-20"), ..Default::default() });
        assert!(prefix.contains("MULTI-INDEX OR"), "the prefix is read from each column's index:\n{prefix}");
    }
}
