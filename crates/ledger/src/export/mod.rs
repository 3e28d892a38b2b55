//! The ledger taken away for the books, offline: CSV, Excel and JSON Lines of a filter's
//! payments (and, on request, their refunds and events), with exact decimal amounts beside
//! minor units, local and UTC times. Rows are streamed from SQLite: memory stays flat
//! however large the ledger. Progress is reported and the caller may stop it.

use crate::query::{filtered, local_time, p, refunded_of_payment, PaymentFilter};
use crate::{Ledger, LedgerError, Result};
use paydesk_types::{Currency, Money};
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

mod cells;
pub use cells::neutralise;
use cells::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Jsonl,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "jsonl" => Some(Self::Jsonl),
            _ => None,
        }
    }

    /// Its name, which is also its files' extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Jsonl => "jsonl",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub with_refunds: bool,
    pub with_events: bool,
    /// Start a CSV with a UTF-8 byte order mark (for older Excel).
    pub csv_bom: bool,
}

/// Where it goes: a file, or (CSV and JSON Lines only) a stream such as standard output.
pub enum ExportTarget<'a> {
    File(PathBuf),
    Stream(&'a mut dyn Write),
}

/// What was written, with the sums a reader can check the file against.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ExportSummary {
    pub payments: u64,
    pub refunds: u64,
    pub events: u64,
    /// Per currency: payments and the sum of their amounts, in minor units.
    pub sums: Vec<(String, u64, i64)>,
    /// Every file written (the main one first).
    pub files: Vec<PathBuf>,
}

pub const PAYMENT_COLUMNS: &[&str] = &[
    "reference",
    "created_local",
    "created_utc",
    "profile",
    "provider",
    "method",
    "wallet",
    "status",
    "provider_status",
    "currency",
    "amount",
    "amount_minor",
    "paid_amount",
    "paid_minor",
    "taken",
    "taken_minor",
    "refunded",
    "refunded_minor",
    "transaction_no",
    "customer_no",
];
const REFUND_COLUMNS: &[&str] = &[
    "payment_reference",
    "refund_reference",
    "created_local",
    "created_utc",
    "status",
    "currency",
    "amount",
    "amount_minor",
    "refund_transaction_no",
];
const EVENT_COLUMNS: &[&str] = &["payment_reference", "at_local", "at_utc", "kind", "detail"];

/// Removes what an export had written when it stops part way.
struct Partial(Vec<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn sibling(path: &Path, what: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "ledger".into());
    let ext = path.extension().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "csv".into());
    path.with_file_name(format!("{stem}.{what}.{ext}"))
}

fn io(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Conflict(format!("export: {e}"))
}

impl Ledger {
    /// Streams the filter's payments, oldest first, with their refunded sums.
    fn each_line(&self, filter: &PaymentFilter, mut f: impl FnMut(&Line<'_>) -> Result<bool>) -> Result<()> {
        let (query, values) = self.db.build(
            filtered(filter, self.db.is_postgres())
                .exprs(
                    [
                        "id",
                        "reference",
                        "created_at",
                        "profile",
                        "provider",
                        "method",
                        "wallet",
                        "status",
                        "raw_status",
                    ]
                    .map(p),
                )
                .exprs(["currency", "amount_minor", "paid_minor"].map(p))
                .expr(refunded_of_payment())
                .exprs(["transaction_no", "customer_no"].map(p))
                .order_by_expr(p("created_at"), sea_query::Order::Asc)
                .order_by_expr(p("id"), sea_query::Order::Asc),
        )?;
        let missing = |i: usize| LedgerError::Database(format!("export: column {i} is empty"));
        self.db.for_each_cells(&query, values, |r| {
            let text = |i: usize| r.text(i)?.ok_or_else(|| missing(i));
            let int = |i: usize| r.int(i)?.ok_or_else(|| missing(i));
            let line = Line {
                id: int(0)?,
                reference: text(1)?,
                created_utc: text(2)?,
                profile: text(3)?,
                provider: text(4)?,
                method: text(5)?,
                wallet: r.text(6)?,
                status: text(7)?,
                raw_status: r.text(8)?,
                currency: text(9)?,
                amount_minor: int(10)?,
                paid_minor: r.int(11)?,
                refunded_minor: int(12)?,
                transaction_no: r.text(13)?,
                customer_no: r.text(14)?,
            };
            f(&line)
        })
    }

    fn refund_texts(&self, payment_id: i64, reference: &str, tz: &jiff::tz::TimeZone) -> Result<Vec<Vec<String>>> {
        Ok(self
            .refunds(payment_id)?
            .into_iter()
            .map(|r| {
                vec![
                    reference.to_string(),
                    r.refund_reference.clone(),
                    local_time(&r.created_at, tz),
                    r.created_at.clone(),
                    r.status.as_str().to_string(),
                    r.currency.clone(),
                    decimal(r.amount_minor, &r.currency),
                    r.amount_minor.to_string(),
                    r.refund_transaction_no.clone().unwrap_or_default(),
                ]
            })
            .collect())
    }

    fn event_texts(&self, payment_id: i64, reference: &str, tz: &jiff::tz::TimeZone) -> Result<Vec<Vec<String>>> {
        Ok(self
            .events(payment_id)?
            .into_iter()
            .map(|e| {
                vec![reference.to_string(), local_time(&e.at, tz), e.at.clone(), e.kind.clone(), e.detail.to_string()]
            })
            .collect())
    }

    /// Writes the export. `progress(done, total)` is called every so often and at the end;
    /// returning false stops it (what was written is removed) with [`LedgerError::Cancelled`].
    pub fn export(
        &self,
        filter: &PaymentFilter,
        format: ExportFormat,
        options: &ExportOptions,
        target: ExportTarget<'_>,
        tz: &jiff::tz::TimeZone,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<ExportSummary> {
        let total = self.count(filter)? as u64;
        let mut summary = ExportSummary::default();
        let mut sums: std::collections::BTreeMap<String, (u64, i64)> = Default::default();
        let mut cancelled = false;
        // Each payment written: its currency's sums, and now and then the progress (which
        // may ask to stop).
        let mut tick = |sums: &mut std::collections::BTreeMap<String, (u64, i64)>,
                        line: &Line,
                        done: u64,
                        cancelled: &mut bool| {
            let e = match sums.get_mut(&*line.currency) {
                Some(e) => e,
                None => sums.entry(line.currency.to_string()).or_default(),
            };
            e.0 += 1;
            e.1 += line.amount_minor;
            if (done.is_multiple_of(2000) || done == total) && !progress(done, total) {
                *cancelled = true;
            }
        };
        match (format, target) {
            (ExportFormat::Xlsx, ExportTarget::Stream(_)) => {
                return Err(LedgerError::Conflict("export: an Excel file needs a file name (-o FILE.xlsx)".into()))
            }
            (ExportFormat::Xlsx, ExportTarget::File(path)) => {
                let mut partial = Partial(vec![path.clone()]);
                let mut book = rust_xlsxwriter::Workbook::new();
                let bold = rust_xlsxwriter::Format::new().set_bold();
                let money_formats: Vec<rust_xlsxwriter::Format> = (0..=3u8)
                    .map(|e| {
                        let pattern = if e == 0 { "0".to_string() } else { format!("0.{}", "0".repeat(e as usize)) };
                        rust_xlsxwriter::Format::new().set_num_format(pattern)
                    })
                    .collect();
                let sheet = book.add_worksheet_with_constant_memory().map_err(io)?;
                sheet.set_name("Payments").map_err(io)?;
                for (c, name) in PAYMENT_COLUMNS.iter().enumerate() {
                    sheet.write_string_with_format(0, c as u16, *name, &bold).map_err(io)?;
                }
                let mut row = 0u32;
                let mut extra_refunds: Vec<Vec<String>> = Vec::new();
                let mut extra_events: Vec<Vec<String>> = Vec::new();
                let mut renderer = Renderer::new(tz);
                self.each_line(filter, |line| {
                    row += 1;
                    let exp = known_exponent(&line.currency);
                    let money = &money_formats[exp.unwrap_or(2).min(3) as usize];
                    let number = |minor: i64| minor as f64 / 10f64.powi(exp.unwrap_or(2) as i32);
                    for (c, cell) in line.cells().into_iter().enumerate() {
                        let col = c as u16;
                        // Amounts are numbers a spreadsheet can add up; minor units exactly.
                        let written = match cell {
                            Cell::Empty | Cell::Text("") => continue,
                            Cell::Amount(m) => sheet.write_number_with_format(row, col, number(m), money),
                            Cell::Minor(m) => sheet.write_number(row, col, m as f64),
                            other => sheet.write_string(row, col, neutralise(renderer.render(other, exp))),
                        };
                        written.map_err(io)?;
                    }
                    if options.with_refunds {
                        extra_refunds.extend(self.refund_texts(line.id, &line.reference, tz)?);
                    }
                    if options.with_events {
                        extra_events.extend(self.event_texts(line.id, &line.reference, tz)?);
                    }
                    summary.payments += 1;
                    tick(&mut sums, line, summary.payments, &mut cancelled);
                    Ok(!cancelled)
                })?;
                if cancelled {
                    return Err(LedgerError::Cancelled);
                }
                for (name, columns, rows) in
                    [("Refunds", REFUND_COLUMNS, &extra_refunds), ("Events", EVENT_COLUMNS, &extra_events)]
                {
                    if (name == "Refunds" && !options.with_refunds) || (name == "Events" && !options.with_events) {
                        continue;
                    }
                    let sheet = book.add_worksheet_with_constant_memory().map_err(io)?;
                    sheet.set_name(name).map_err(io)?;
                    for (c, col) in columns.iter().enumerate() {
                        sheet.write_string_with_format(0, c as u16, *col, &bold).map_err(io)?;
                    }
                    for (r, texts) in rows.iter().enumerate() {
                        for (c, text) in texts.iter().enumerate() {
                            if name == "Refunds" && columns[c] == "amount_minor" {
                                sheet
                                    .write_number(r as u32 + 1, c as u16, text.parse::<f64>().unwrap_or(0.0))
                                    .map_err(io)?;
                            } else if !text.is_empty() {
                                sheet.write_string(r as u32 + 1, c as u16, neutralise(text)).map_err(io)?;
                            }
                        }
                    }
                }
                summary.refunds = extra_refunds.len() as u64;
                summary.events = extra_events.len() as u64;
                // Saved over a private file made first: it keeps its mode (0600).
                crate::create_private_file(&path).map_err(io)?;
                book.save(&path).map_err(io)?;
                partial.0.clear();
                summary.files.push(path);
            }
            (format, target) => {
                let (mut main, mut partial, path): (Box<dyn Write + '_>, Partial, Option<PathBuf>) = match target {
                    ExportTarget::File(path) => {
                        let file = crate::create_private_file(&path).map_err(io)?;
                        (
                            Box::new(std::io::BufWriter::with_capacity(1 << 16, file)),
                            Partial(vec![path.clone()]),
                            Some(path),
                        )
                    }
                    ExportTarget::Stream(w) => (Box::new(w), Partial(Vec::new()), None),
                };
                // CSV refunds and events go to files beside the main one.
                let side = |what: &str, partial: &mut Partial| -> Result<Option<csv::Writer<std::fs::File>>> {
                    let Some(p) = &path else {
                        return Err(LedgerError::Conflict(format!(
                            "export: {what} in CSV go to a file beside the main one: name a file (-o FILE.csv)"
                        )));
                    };
                    let file = sibling(p, what);
                    partial.0.push(file.clone());
                    Ok(Some(csv::Writer::from_writer(crate::create_private_file(&file).map_err(io)?)))
                };
                let csv_mode = format == ExportFormat::Csv;
                let mut refunds_csv =
                    if csv_mode && options.with_refunds { side("refunds", &mut partial)? } else { None };
                let mut events_csv = if csv_mode && options.with_events { side("events", &mut partial)? } else { None };
                if let Some(w) = refunds_csv.as_mut() {
                    w.write_record(REFUND_COLUMNS).map_err(io)?;
                }
                if let Some(w) = events_csv.as_mut() {
                    w.write_record(EVENT_COLUMNS).map_err(io)?;
                }
                if csv_mode && options.csv_bom {
                    main.write_all("\u{feff}".as_bytes()).map_err(io)?;
                }
                // CSV through the csv crate; JSON Lines straight to the stream.
                enum Sink<'w> {
                    Csv(csv::Writer<Box<dyn Write + 'w>>),
                    Lines(Box<dyn Write + 'w>),
                }
                let mut sink = if csv_mode {
                    let mut w = csv::Writer::from_writer(main);
                    w.write_record(PAYMENT_COLUMNS).map_err(io)?;
                    Sink::Csv(w)
                } else {
                    Sink::Lines(main)
                };
                let mut buffer = Vec::<u8>::new();
                let mut renderer = Renderer::new(tz);
                let mut numbers = itoa::Buffer::new();
                self.each_line(filter, |line| {
                    let exp = known_exponent(&line.currency);
                    let refunds = if options.with_refunds {
                        self.refund_texts(line.id, &line.reference, tz)?
                    } else {
                        Vec::new()
                    };
                    let events =
                        if options.with_events { self.event_texts(line.id, &line.reference, tz)? } else { Vec::new() };
                    summary.refunds += refunds.len() as u64;
                    summary.events += events.len() as u64;
                    match &mut sink {
                        Sink::Csv(w) => {
                            for cell in line.cells() {
                                w.write_field(neutralise(renderer.render(cell, exp)).as_bytes()).map_err(io)?;
                            }
                            w.write_record(None::<&[u8]>).map_err(io)?;
                            if let Some(rw) = refunds_csv.as_mut() {
                                for r in &refunds {
                                    rw.write_record(r.iter().map(|t| neutralise(t).into_owned())).map_err(io)?;
                                }
                            }
                            if let Some(ew) = events_csv.as_mut() {
                                for e in &events {
                                    ew.write_record(e.iter().map(|t| neutralise(t).into_owned())).map_err(io)?;
                                }
                            }
                        }
                        Sink::Lines(out) => {
                            // Written by hand, in column order: one line costs no allocation.
                            buffer.clear();
                            buffer.push(b'{');
                            for (c, (name, cell)) in PAYMENT_COLUMNS.iter().zip(line.cells()).enumerate() {
                                if c > 0 {
                                    buffer.push(b',');
                                }
                                buffer.push(b'"');
                                buffer.extend_from_slice(name.as_bytes());
                                buffer.extend_from_slice(b"\":");
                                match cell {
                                    Cell::Minor(m) => buffer.extend_from_slice(numbers.format(m).as_bytes()),
                                    Cell::Empty | Cell::Text("") => buffer.extend_from_slice(b"null"),
                                    other => {
                                        serde_json::to_writer(&mut buffer, renderer.render(other, exp)).map_err(io)?
                                    }
                                }
                            }
                            let as_objects = |columns: &[&str], rows: &[Vec<String>]| {
                                rows.iter()
                                    .map(|r| {
                                        columns
                                            .iter()
                                            .zip(r)
                                            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                                            .collect::<serde_json::Map<_, _>>()
                                    })
                                    .collect::<Vec<_>>()
                            };
                            for (name, columns, rows, wanted) in [
                                ("refunds", REFUND_COLUMNS, &refunds, options.with_refunds),
                                ("events", EVENT_COLUMNS, &events, options.with_events),
                            ] {
                                if wanted {
                                    buffer.extend_from_slice(format!(",\"{name}\":").as_bytes());
                                    serde_json::to_writer(&mut buffer, &as_objects(columns, rows)).map_err(io)?;
                                }
                            }
                            buffer.extend_from_slice(b"}\n");
                            out.write_all(&buffer).map_err(io)?;
                        }
                    }
                    summary.payments += 1;
                    tick(&mut sums, line, summary.payments, &mut cancelled);
                    Ok(!cancelled)
                })?;
                match sink {
                    Sink::Csv(mut w) => w.flush().map_err(io)?,
                    Sink::Lines(mut out) => out.flush().map_err(io)?,
                }
                if cancelled {
                    return Err(LedgerError::Cancelled);
                }
                for w in [refunds_csv.as_mut(), events_csv.as_mut()].into_iter().flatten() {
                    w.flush().map_err(io)?;
                }
                summary.files = partial.0.clone();
                partial.0.clear();
            }
        }
        if summary.payments == 0 || total == 0 {
            progress(summary.payments, total);
        }
        summary.sums = sums.into_iter().map(|(c, (n, m))| (c, n, m)).collect();
        Ok(summary)
    }
}
