//! The accountant's questions of the ledger: a filter over payments, answered a page at a
//! time (keyset, never OFFSET) from indexes, totals per currency over the whole filter in
//! SQL, and daily totals for a period. Dates are the shop's local days, turned into UTC
//! bounds here once.

use crate::db::Value as SqlValue;
use crate::payments::{payment_from_row, PaymentRow};
use crate::{Ledger, Result};
use serde::{Deserialize, Serialize};

/// The SQL list of the statuses that took money (in full or in part).
fn taken_list() -> String {
    paydesk_types::PaymentStatus::taken_names().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",")
}

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

/// The WHERE clause (with its values) a filter stands for. `p` is the payments alias.
pub(crate) fn where_clause(f: &PaymentFilter, postgres: bool) -> (String, Vec<SqlValue>) {
    let mut parts: Vec<String> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    let mut eq = |column: &str, value: &Option<String>, parts: &mut Vec<String>| {
        if let Some(v) = value.as_ref().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            values.push(SqlValue::Text(v.to_string()));
            parts.push(format!("p.{column} = ?{}", values.len()));
        }
    };
    eq("status", &f.status, &mut parts);
    eq("provider", &f.provider, &mut parts);
    eq("profile", &f.profile, &mut parts);
    eq("currency", &f.currency.as_ref().map(|c| c.to_ascii_uppercase()), &mut parts);
    if let Some(shop) = f.shop.as_ref().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        // Every payment is in exactly one shop: its profile's, or the main shop where its
        // profile is built in (demo) or was removed.
        values.push(SqlValue::Text(shop.to_string()));
        let n = values.len();
        let orphans = if shop == crate::MAIN_SHOP { " OR p.profile NOT IN (SELECT name FROM profiles)" } else { "" };
        parts.push(format!("(p.profile IN (SELECT name FROM profiles WHERE shop = ?{n}){orphans})"));
    }
    let mut push = |sql: String, v: SqlValue, parts: &mut Vec<String>| {
        values.push(v);
        parts.push(sql.replace('#', &format!("?{}", values.len())));
    };
    if let Some(m) = f.method.as_ref().map(|m| m.trim().to_ascii_lowercase()).filter(|m| !m.is_empty()) {
        if m == "qr" || m == "link" {
            push("p.method = #".into(), SqlValue::Text(m), &mut parts);
        } else {
            push("p.vendor = #".into(), SqlValue::Text(m), &mut parts);
        }
    }
    if let Some(from) = &f.from_utc {
        push("p.created_at >= #".into(), SqlValue::Text(from.clone()), &mut parts);
    }
    if let Some(to) = &f.to_utc {
        push("p.created_at < #".into(), SqlValue::Text(to.clone()), &mut parts);
    }
    if let Some(min) = f.min_minor {
        push("p.amount_minor >= #".into(), SqlValue::Int(min), &mut parts);
    }
    if let Some(max) = f.max_minor {
        push("p.amount_minor <= #".into(), SqlValue::Int(max), &mut parts);
    }
    if let Some(t) = f.text.as_ref().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if postgres {
            // The server's collation may not sort by code point: its own prefix test.
            values.push(SqlValue::Text(t.to_string()));
            let lo = values.len();
            values.push(SqlValue::Text(t.to_ascii_uppercase()));
            let up = values.len();
            parts.push(format!(
                "(starts_with(p.reference, ?{up}) OR starts_with(p.reference, ?{lo})
                  OR starts_with(p.transaction_no, ?{lo}) OR starts_with(p.customer_no, ?{lo}))"
            ));
        } else {
            // A prefix as a range on each indexed column: answered from the indexes.
            values.push(SqlValue::Text(t.to_string()));
            let lo = values.len();
            values.push(SqlValue::Text(format!("{t}\u{10FFFF}")));
            let hi = values.len();
            values.push(SqlValue::Text(t.to_ascii_uppercase()));
            let up_lo = values.len();
            values.push(SqlValue::Text(format!("{}\u{10FFFF}", t.to_ascii_uppercase())));
            let up_hi = values.len();
            parts.push(format!(
                "(p.reference >= ?{up_lo} AND p.reference < ?{up_hi}
                  OR p.reference >= ?{lo} AND p.reference < ?{hi}
                  OR p.transaction_no >= ?{lo} AND p.transaction_no < ?{hi}
                  OR p.customer_no >= ?{lo} AND p.customer_no < ?{hi})"
            ));
        }
    }
    let sql = if parts.is_empty() { "1 = 1".to_string() } else { parts.join(" AND ") };
    (sql, values)
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
        let limit = f.limit.unwrap_or(50).clamp(1, 1000) as i64;
        let (mut sql, mut values) = where_clause(f, self.db.is_postgres());
        if let Some(c) = &f.after {
            values.push(SqlValue::Text(c.created_at.clone()));
            values.push(SqlValue::Int(c.id));
            sql = format!("{sql} AND (p.created_at, p.id) < (?{}, ?{})", values.len() - 1, values.len());
        }
        values.push(SqlValue::Int(limit + 1));
        let query = format!(
            "SELECT p.* FROM payments p WHERE {sql} ORDER BY p.created_at DESC, p.id DESC LIMIT ?{}",
            values.len()
        );
        let mut rows: Vec<PaymentRow> =
            self.db.query(&query, values)?.iter().map(payment_from_row).collect::<Result<_>>()?;
        let next = if rows.len() as i64 > limit {
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
        let (sql, values) = where_clause(f, self.db.is_postgres());
        // Grouped by currency and status in SQL (an index holds exactly those columns),
        // folded into totals here.
        let query = format!(
            "SELECT p.currency, p.status, count(*), CAST(coalesce(sum(coalesce(p.paid_minor, p.amount_minor)), 0) AS BIGINT)
             FROM payments p WHERE {sql} GROUP BY p.currency, p.status"
        );
        let groups: Vec<(String, String, i64, i64)> = self
            .db
            .query(&query, values.clone())?
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
        let query = format!(
            "SELECT p.currency, CAST(coalesce(sum(r.amount_minor), 0) AS BIGINT)
             FROM payments p {join} refunds r ON r.payment_id = p.id AND r.status = 'succeeded'
             WHERE {sql} AND p.status IN ({taken}) GROUP BY p.currency",
            join = self.db.ordered_join(),
            taken = taken_list(),
        );
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
        let (sql, values) = where_clause(f, self.db.is_postgres());
        let query = format!("SELECT count(*) FROM payments p WHERE {sql}");
        self.db.query_one(&query, values)?.get(0)
    }

    /// Every payment of the filter, oldest first, one at a time (for exports and bulk
    /// work: memory stays flat however many there are). `f` returns false to stop.
    pub fn each_payment(&self, filter: &PaymentFilter, mut f: impl FnMut(PaymentRow) -> bool) -> Result<()> {
        let (sql, values) = where_clause(filter, self.db.is_postgres());
        let query = format!("SELECT p.* FROM payments p WHERE {sql} ORDER BY p.created_at, p.id");
        self.db.for_each(&query, values, |row| Ok(f(payment_from_row(&row)?)))
    }

    /// Daily takings over a filter (normally a date range), by the shop's local day and
    /// currency (and provider when `by_provider`): money taken, refunds of those payments
    /// and net; payments that took nothing add nothing.
    pub fn daily(&self, f: &PaymentFilter, tz: &jiff::tz::TimeZone, by_provider: bool) -> Result<Vec<DayTotals>> {
        type Key = (String, String, Option<String>);
        let mut by_key: std::collections::BTreeMap<Key, (i64, i64, i64)> = Default::default();
        let (sql, values) = where_clause(f, self.db.is_postgres());
        let query = format!(
            "SELECT p.created_at, p.currency, p.provider, coalesce(p.paid_minor, p.amount_minor),
                    (SELECT CAST(coalesce(sum(r.amount_minor), 0) AS BIGINT) FROM refunds r
                     WHERE r.payment_id = p.id AND r.status = 'succeeded')
             FROM payments p WHERE {sql} AND p.status IN ({taken})",
            taken = taken_list()
        );
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
