//! `ledger …` and `report daily`: the books as a whole.

use crate::*;

#[derive(Subcommand)]
pub(crate) enum LedgerCommand {
    /// Replays the sales this counter journaled while the shared ledger was away, now
    /// (every command also does it by itself once the server is back). Exit 1 while some wait.
    Sync,
    /// Writes the filtered payments (and on request their refunds and events) to a file.
    Export {
        /// csv, xlsx or jsonl.
        #[arg(long)]
        format: String,
        /// The file to write; `-` for standard output (csv, jsonl).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        #[command(flatten)]
        filter: FilterArgs,
        /// Also the refunds (CSV: FILE.refunds.csv; XLSX: a sheet; JSONL: in each line).
        #[arg(long)]
        refunds: bool,
        /// Also the events (CSV: FILE.events.csv; XLSX: a sheet; JSONL: in each line).
        #[arg(long)]
        events: bool,
        /// Start a CSV with a UTF-8 byte order mark (older Excel).
        #[arg(long)]
        bom: bool,
    },
    /// Checks the hash chain against every row, all in one snapshot; exits 1 naming the
    /// first bad one. Prints the head to keep; with --head, also checks the ledger still
    /// runs through a head kept earlier (nothing cut off and rebuilt).
    Verify {
        /// A head printed by an earlier verify
        #[arg(long)]
        head: Option<String>,
    },
    /// A consistent copy of the ledger, safe while the app runs.
    Backup { file: PathBuf },
    /// Puts a backup back after verifying it. Refuses a file that is not a Paydesk ledger,
    /// and one holding fewer payments than the ledger now unless --replace-newer; the
    /// ledger as it was is kept beside it as a dated safety copy.
    Restore {
        file: PathBuf,
        #[arg(long)]
        replace_newer: bool,
    },
    /// Copies this ledger into a shared PostgreSQL ledger (migrating it), then checks both
    /// sides hold the same rows and totals. Safe to run again; no secret travels. With
    /// `--from URL`, the other way: that shared ledger into a new SQLite file `--to FILE`.
    Copy {
        /// postgres://user@host:port/db, or with --from a new SQLite file
        #[arg(long)]
        to: String,
        /// postgres://user@host:port/db to copy from
        #[arg(long)]
        from: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ReportCommand {
    /// Daily takings by currency: money taken (gross), refunded and net, with a total row.
    Daily {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        profile: Option<String>,
        /// Only this shop's payments.
        #[arg(long)]
        shop: Option<String>,
        /// `provider`: one row per day, currency and provider.
        #[arg(long, value_parser = ["provider"])]
        by: Option<String>,
    },
}

pub(crate) fn ledger(cmd: LedgerCommand, json_mode: bool) -> Result<Output, AppError> {
    use paydesk_core::books::ExportOptions;
    use paydesk_ledger::export::ExportTarget;
    let paydesk = open()?;
    match cmd {
        LedgerCommand::Export { format, output, filter, refunds, events, bom } => {
            let format = paydesk_core::books::export_format(&format)?;
            let options = ExportOptions { with_refunds: refunds, with_events: events, csv_bom: bom };
            let q = TxQuery::from(filter);
            let to_stdout = output.as_os_str() == "-";
            let mut progress = |done: u64, total: u64| {
                if !to_stdout || !json_mode {
                    eprint!("\rexporting {done}/{total}");
                    if done == total {
                        eprintln!();
                    }
                }
                true
            };
            let summary = if to_stdout {
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                paydesk.export(&q, format, &options, ExportTarget::Stream(&mut lock), &mut progress)?
            } else {
                if output.exists() {
                    return Err(AppError::invalid(
                        "output",
                        format!("{} already exists; name a new file", output.display()),
                    ));
                }
                paydesk.export(&q, format, &options, ExportTarget::File(output.clone()), &mut progress)?
            };
            let target = if to_stdout { say("standard output", &[]) } else { output.display().to_string() };
            let text = say(
                "exported {payments} payments ({refunds} refunds, {events} events) to {target}",
                &[
                    ("payments", &summary.payments),
                    ("refunds", &summary.refunds),
                    ("events", &summary.events),
                    ("target", &target),
                ],
            );
            Ok(Output { json: to_json(&summary), text, data_on_stdout: to_stdout, code: 0 })
        }
        LedgerCommand::Verify { head } => {
            let report = match &head {
                None => paydesk.verify_ledger()?,
                Some(kept) => paydesk.verify_ledger_against(kept)?,
            };
            let text = match &report.problem {
                None if report.extends_kept_head == Some(true) => say(
                    "ledger verified: {entries} entries, head {head}; it still holds the kept head",
                    &[("entries", &report.entries), ("head", &report.head)],
                ),
                None => say(
                    "ledger verified: {entries} entries, head {head}",
                    &[("entries", &report.entries), ("head", &report.head)],
                ),
                Some(p) => say(
                    "ledger does NOT verify at {at}: {problem}",
                    &[("at", &report.at.clone().unwrap_or_default()), ("problem", p)],
                ),
            };
            let code = if report.ok { 0 } else { 1 };
            Ok(Output { json: to_json(&report), text, data_on_stdout: false, code })
        }
        LedgerCommand::Copy { to, from: Some(url) } => {
            let report = paydesk.copy_ledger_from(&url, std::path::Path::new(&to))?;
            let payments = report.rows.get("payments").copied().unwrap_or(0);
            let text = say(
                "shared ledger copied to {file}: {payments} payments, totals checked on both sides",
                &[("file", &to), ("payments", &payments)],
            );
            out(to_json(&report), text)
        }
        LedgerCommand::Copy { to, from: None } => {
            let report = paydesk.copy_ledger_to(&to)?;
            let payments = report.rows.get("payments").copied().unwrap_or(0);
            let mut text = say(
                "ledger copied to the shared ledger: {payments} payments ({inserted} added, {there} already there), totals checked on both sides",
                &[("payments", &payments), ("inserted", &report.inserted), ("there", &report.already_there)],
            );
            // A reference there with other content is never overwritten: said, and exit 1.
            let code = if report.conflicts.is_empty() { 0 } else { 1 };
            if code == 1 {
                text.push('\n');
                text.push_str(&say(
                    "not copied, already in the shared ledger with other content: {references}",
                    &[("references", &report.conflicts.join(", "))],
                ));
            }
            Ok(Output { json: to_json(&report), text, data_on_stdout: false, code })
        }
        LedgerCommand::Sync => {
            let report = paydesk.sync_ledger()?;
            let text = if report.waiting > 0 {
                say(
                    "the shared ledger is still away: {waiting} sales wait in this counter's journal",
                    &[("waiting", &report.waiting)],
                )
            } else {
                say(
                    "in the shared ledger: {replayed} journaled sales replayed, {there} already there",
                    &[("replayed", &report.replayed), ("there", &report.already_there)],
                )
            };
            let code = if report.waiting > 0 { 1 } else { 0 };
            Ok(Output { json: to_json(&report), text, data_on_stdout: false, code })
        }
        LedgerCommand::Backup { file } => {
            paydesk.backup_ledger(&file)?;
            let text = say("ledger copied to {file}", &[("file", &file.display())]);
            out(json!({"backup": file}), text)
        }
        LedgerCommand::Restore { file, replace_newer } => {
            let report = paydesk.restore_ledger(&file, replace_newer)?;
            out(
                to_json(&report),
                say(
                    "ledger restored from {file} and verified ({entries} entries)",
                    &[("file", &file.display()), ("entries", &report.chain.entries)],
                ),
            )
        }
    }
}

/// `report daily`.
pub(crate) fn report(cmd: ReportCommand) -> Result<Output, AppError> {
    let ReportCommand::Daily { from, to, period, profile, shop, by } = cmd;
    let paydesk = open()?;
    let q = TxQuery { from, to, period, profile, shop, ..TxQuery::default() };
    let days = paydesk.daily_report(&q, by.is_some())?;
    let text = days
        .iter()
        .map(|d| {
            format!(
                "{:<10}  {}  {:<8} {:>5}  gross {}  refunded {}  net {}",
                d.day,
                d.currency,
                d.provider.as_deref().unwrap_or(""),
                d.count,
                d.takings.gross,
                d.takings.refunded,
                d.takings.net
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    out(to_json(&days), text)
}
