//! One export line and its cells, rendered as the books read them: exact decimal amounts
//! beside minor units, local and UTC times, text a spreadsheet will not run as a formula.

use super::*;

/// A spreadsheet reads a cell starting with `=`, `+`, `-`, `@` (or a tab or carriage
/// return) as a formula: such text is written behind a `'`, so it stays text.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

pub(super) fn decimal(minor: i64, currency: &str) -> String {
    match Currency::from_code(currency) {
        Ok(c) => Money::new(minor, c).to_decimal_string(),
        Err(_) => minor.to_string(),
    }
}

/// One cell of a payment's line, before it is written in a format.
#[derive(Clone, Copy)]
pub(super) enum Cell<'a> {
    /// Text as stored ("" and NULL are both an empty cell).
    Text(&'a str),
    Empty,
    /// An amount in minor units, written as an exact decimal in the line's currency.
    Amount(i64),
    /// An amount in minor units, written as an integer.
    Minor(i64),
    /// A stored UTC time, written in the chosen time zone.
    LocalTime(&'a str),
}

/// One payment as exported, its text borrowed from the row being read.
pub(super) struct Line<'a> {
    pub(super) id: i64,
    pub(super) reference: Cow<'a, str>,
    pub(super) created_utc: Cow<'a, str>,
    pub(super) profile: Cow<'a, str>,
    pub(super) provider: Cow<'a, str>,
    pub(super) method: Cow<'a, str>,
    pub(super) wallet: Option<Cow<'a, str>>,
    pub(super) status: Cow<'a, str>,
    pub(super) raw_status: Option<Cow<'a, str>>,
    pub(super) currency: Cow<'a, str>,
    pub(super) amount_minor: i64,
    pub(super) paid_minor: Option<i64>,
    pub(super) refunded_minor: i64,
    pub(super) transaction_no: Option<Cow<'a, str>>,
    pub(super) customer_no: Option<Cow<'a, str>>,
}

pub(super) fn text<'a>(value: &'a Option<Cow<'a, str>>) -> Cell<'a> {
    value.as_deref().map_or(Cell::Empty, Cell::Text)
}

impl Line<'_> {
    /// Money taken: what was paid or captured (or arrived of a partial payment), 0 for a
    /// sale that took nothing (declined, cancelled, only authorised).
    pub(super) fn taken_minor(&self) -> i64 {
        let status = paydesk_types::PaymentStatus::parse(&self.status);
        if status.is_some_and(|s| s.took_money()) {
            self.paid_minor.unwrap_or(self.amount_minor)
        } else {
            0
        }
    }

    /// The cells in [`PAYMENT_COLUMNS`] order.
    pub(super) fn cells(&self) -> [Cell<'_>; 20] {
        let taken = self.taken_minor();
        let paid = |cell: fn(i64) -> Cell<'static>| self.paid_minor.map_or(Cell::Empty, cell);
        [
            Cell::Text(&self.reference),
            Cell::LocalTime(&self.created_utc),
            Cell::Text(&self.created_utc),
            Cell::Text(&self.profile),
            Cell::Text(&self.provider),
            Cell::Text(&self.method),
            text(&self.wallet),
            Cell::Text(&self.status),
            text(&self.raw_status),
            Cell::Text(&self.currency),
            Cell::Amount(self.amount_minor),
            Cell::Minor(self.amount_minor),
            paid(Cell::Amount),
            paid(Cell::Minor),
            Cell::Amount(taken),
            Cell::Minor(taken),
            Cell::Amount(self.refunded_minor),
            Cell::Minor(self.refunded_minor),
            text(&self.transaction_no),
            text(&self.customer_no),
        ]
    }
}

/// Writes cells as text into a reused buffer: amounts in the line's currency, times in the
/// chosen zone. Nothing is allocated per row.
pub(super) struct Renderer<'t> {
    pub(super) tz: &'t jiff::tz::TimeZone,
    pub(super) scratch: String,
    pub(super) numbers: itoa::Buffer,
}

impl<'t> Renderer<'t> {
    pub(super) fn new(tz: &'t jiff::tz::TimeZone) -> Self {
        Self { tz, scratch: String::with_capacity(64), numbers: itoa::Buffer::new() }
    }

    /// The cell's text; `exponent` is the currency's (None: unknown, written in minor units).
    pub(super) fn render<'s>(&'s mut self, cell: Cell<'s>, exponent: Option<u8>) -> &'s str {
        match cell {
            Cell::Text(t) => t,
            Cell::Empty => "",
            Cell::Minor(m) => self.numbers.format(m),
            Cell::Amount(m) => match exponent {
                None | Some(0) => self.numbers.format(m),
                Some(e) => {
                    let scale = 10u64.pow(e as u32);
                    let abs = m.unsigned_abs();
                    self.scratch.clear();
                    if m < 0 {
                        self.scratch.push('-');
                    }
                    self.scratch.push_str(self.numbers.format(abs / scale));
                    self.scratch.push('.');
                    let fraction = self.numbers.format(abs % scale);
                    for _ in fraction.len()..e as usize {
                        self.scratch.push('0');
                    }
                    self.scratch.push_str(fraction);
                    &self.scratch
                }
            },
            Cell::LocalTime(utc) => {
                let Ok(t) = utc.parse::<jiff::Timestamp>() else { return utc };
                let d = self.tz.to_offset(t).to_datetime(t);
                self.scratch.clear();
                let two = |s: &mut String, n: i8| {
                    s.push((b'0' + (n as u8) / 10) as char);
                    s.push((b'0' + (n as u8) % 10) as char);
                };
                let year = d.year();
                if (0..=9999).contains(&year) {
                    two(&mut self.scratch, (year / 100) as i8);
                    two(&mut self.scratch, (year % 100) as i8);
                } else {
                    self.scratch.push_str(self.numbers.format(year));
                }
                self.scratch.push('-');
                two(&mut self.scratch, d.month());
                self.scratch.push('-');
                two(&mut self.scratch, d.day());
                self.scratch.push(' ');
                two(&mut self.scratch, d.hour());
                self.scratch.push(':');
                two(&mut self.scratch, d.minute());
                self.scratch.push(':');
                two(&mut self.scratch, d.second());
                &self.scratch
            }
        }
    }
}

pub(super) fn known_exponent(currency: &str) -> Option<u8> {
    Currency::from_code(currency).ok().map(|c| c.exponent())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written renderer writes what the general formatters write: times in zones
    /// with summer time and odd offsets, amounts of every exponent and sign.
    #[test]
    pub(super) fn the_renderer_agrees_with_the_general_formatters() {
        for zone in ["UTC", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Taipei", "America/St_Johns"] {
            let tz = jiff::tz::TimeZone::get(zone).unwrap();
            let mut r = Renderer::new(&tz);
            let mut t: jiff::Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
            while t < "2027-01-01T00:00:00Z".parse().unwrap() {
                let utc = t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string();
                assert_eq!(r.render(Cell::LocalTime(&utc), None), crate::query::local_time(&utc, &tz), "{zone} {utc}");
                t = t.checked_add(jiff::SignedDuration::from_secs(7 * 3600 + 13 * 60 + 7)).unwrap();
            }
            assert_eq!(r.render(Cell::LocalTime("not a time"), None), "not a time");
        }
        let tz = jiff::tz::TimeZone::UTC;
        let mut r = Renderer::new(&tz);
        for code in ["JPY", "TWD", "USD", "KWD", "XXX"] {
            for minor in [0, 1, 9, 10, 99, 100, 101, 1234567, -1, -250, i64::MAX, i64::MIN + 1] {
                assert_eq!(r.render(Cell::Amount(minor), known_exponent(code)), decimal(minor, code), "{code} {minor}");
                assert_eq!(r.render(Cell::Minor(minor), known_exponent(code)), minor.to_string());
            }
        }
    }
}
