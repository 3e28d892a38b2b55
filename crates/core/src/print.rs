//! Printing: a paid sale's receipt, or a sale's QR (a "table QR" for a payment link), laid
//! out for 58 mm and 80 mm receipt printers and for A4, as a page the system print dialog
//! prints. Text is escaped; nothing is fetched (the QR is inline SVG).

use crate::i18n;
use crate::{AppError, Paydesk, PaymentView};

/// Paper the layout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    #[serde(rename = "58mm")]
    Mm58,
    #[serde(rename = "80mm")]
    Mm80,
    A4,
}

impl Paper {
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "58" | "58mm" => Ok(Self::Mm58),
            "80" | "80mm" => Ok(Self::Mm80),
            "a4" => Ok(Self::A4),
            other => Err(AppError::invalid("paper", format!("58mm, 80mm or a4 (got '{other}')"))),
        }
    }

    /// The CSS page size and the printable width of the content.
    fn page(self) -> (&'static str, &'static str) {
        match self {
            Self::Mm58 => ("58mm auto", "48mm"),
            Self::Mm80 => ("80mm auto", "72mm"),
            Self::A4 => ("A4", "120mm"),
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(paper: Paper, title: &str, body: &str) -> String {
    let (size, width) = paper.page();
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><style>
@page {{ size: {size}; margin: 3mm; }}
body {{ font-family: system-ui, sans-serif; color: #000; background: #fff; margin: 0; }}
.sheet {{ width: {width}; margin: 0 auto; text-align: center; }}
h1 {{ font-size: 1.1em; margin: 0.3em 0; }} .amount {{ font-size: 1.8em; font-weight: 700; margin: 0.3em 0; }}
dl {{ display: grid; grid-template-columns: auto 1fr; gap: 0.1em 0.6em; text-align: left; font-size: 0.85em; }}
dt {{ color: #444; }} dd {{ margin: 0; word-break: break-all; }}
svg {{ width: 100%; height: auto; }} .note {{ font-size: 0.8em; }}
</style></head><body><div class="sheet" data-paper="{paper:?}">{body}</div></body></html>"#,
        title = escape(title),
    )
}

impl Paydesk {
    /// The shop's name as printed and shown to customers: the one set in Settings, else
    /// the profile's.
    pub fn shop_name(&self, profile: &str) -> String {
        crate::settings::LocalSettings::load(self.home())
            .shop_name
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| profile.to_string())
    }

    /// A paid sale's receipt: shop (profile), amount, method, reference, time.
    pub fn receipt_html(&self, reference: &str, paper: Paper) -> Result<String, AppError> {
        let p: PaymentView = self.payment(reference)?;
        if !p.status.is_paid() {
            return Err(AppError::NotAllowed {
                message: format!("Payment {reference} is {}; only a paid sale has a receipt.", p.status.as_str()),
            });
        }
        let tz = crate::books::shop_time_zone();
        let when = paydesk_ledger::query::local_time(&p.created_at, &tz);
        let locale = i18n::current();
        let tr = |s: &str| i18n::tr(locale, s);
        let method = match (p.method.as_str(), &p.wallet_label) {
            ("qr", Some(w)) => i18n::tr_with(locale, "{wallet} (counter QR)", &[("wallet", &tr(w))]),
            ("qr", None) => tr("Counter QR"),
            (_, Some(w)) => i18n::tr_with(locale, "{wallet} (payment link)", &[("wallet", &tr(w))]),
            _ => tr("Payment link"),
        };
        let mut rows = vec![
            (tr("Method"), method),
            (tr("Reference"), p.reference.clone()),
            (tr("Time"), when),
            (tr("Status"), tr(p.status.label())),
        ];
        if let Some(t) = &p.transaction_no {
            rows.push((tr("Transaction"), t.clone()));
        }
        let dl: String = rows.iter().map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(v))).collect();
        let body = format!(
            r#"<h1>{shop}</h1><div class="amount">{amount}</div><dl>{dl}</dl><p class="note">{thanks}</p>"#,
            shop = escape(&self.shop_name(&p.profile)),
            amount = escape(&crate::display::grouped_amount(&p.amount, &p.currency)),
            thanks = escape(&tr("Thank you")),
        );
        Ok(page(paper, &i18n::tr_with(locale, "Receipt {reference}", &[("reference", &p.reference)]), &body))
    }

    /// A sale's QR to print (a table QR from a payment link), with its amount.
    pub fn qr_print_html(&self, reference: &str, paper: Paper) -> Result<String, AppError> {
        let p = self.payment(reference)?;
        let link = p
            .link
            .clone()
            .ok_or_else(|| AppError::NotAllowed { message: format!("Payment {reference} has no link to print.") })?;
        let svg = crate::qr::svg(&link)?;
        let body = format!(
            r#"<h1>{shop}</h1><div class="amount">{amount}</div>{svg}<p class="note">{scan} · {reference}</p>"#,
            shop = escape(&self.shop_name(&p.profile)),
            amount = escape(&crate::display::grouped_amount(&p.amount, &p.currency)),
            scan = escape(&i18n::tr(i18n::current(), "Scan to pay")),
            reference = escape(&p.reference),
        );
        Ok(page(paper, &format!("QR {}", p.reference), &body))
    }
}

/// The printers this computer can print to, as its print system lists them: what the
/// window says before opening a print dialog that could only save a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Printers {
    /// Whether the list is known: CUPS answered, or there is no CUPS and so no printer.
    /// Not known where printing goes another way (Windows): the system dialog says.
    pub known: bool,
    pub names: Vec<String>,
}

/// Asks CUPS (`lpstat -e`, at most 3 s). Blocking: call it off the async workers.
pub fn printers() -> Printers {
    if cfg!(windows) {
        return Printers { known: false, names: Vec::new() };
    }
    let child = std::process::Command::new("lpstat")
        .arg("-e")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        // No CUPS client: nothing here prints but the dialog's "print to file".
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Printers { known: true, names: Vec::new() },
        Err(_) => return Printers { known: false, names: Vec::new() },
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut out = String::new();
                if let Some(mut stdout) = child.stdout.take() {
                    use std::io::Read;
                    let _ = stdout.by_ref().take(64 * 1024).read_to_string(&mut out);
                }
                // A scheduler that is not running answers with an error: no printer either.
                let names = if status.success() { printer_names(&out) } else { Vec::new() };
                return Printers { known: true, names };
            }
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Printers { known: false, names: Vec::new() };
            }
        }
    }
}

/// `lpstat -e` lists one destination per line; anything else (a message, control
/// characters, an endless name) is not a printer.
fn printer_names(listed: &str) -> Vec<String> {
    listed
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty() && name.len() <= 127 && !name.contains(char::is_whitespace))
        .filter(|name| !name.chars().any(char::is_control))
        .take(100)
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod printer_tests {
    use super::printer_names;

    #[test]
    fn printers_are_the_destinations_lpstat_lists() {
        assert_eq!(printer_names("Office_Laser\nPDF\n\n"), ["Office_Laser", "PDF"]);
        assert!(printer_names("lpstat: No destinations added.\n").is_empty());
        assert!(printer_names("").is_empty());
    }
}
