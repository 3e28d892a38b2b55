//! `pay link|qr`: selling from a script.

use crate::*;

#[derive(clap::Args)]
pub(crate) struct SaleArgs {
    #[arg(long, default_value = DEMO_PROFILE)]
    profile: String,
    /// As typed ("13.00"); a negative value is refused with a clear reason.
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    #[arg(long)]
    currency: String,
    /// The wallet, where the provider asks for one (alipay, wechatpay, ...). `--vendor`,
    /// its first name, still works.
    #[arg(long, visible_alias = "vendor", default_value = "")]
    wallet: String,
    #[arg(long)]
    description: Option<String>,
    /// automatic (default) or manual: authorise now, capture later (where the provider
    /// offers capture).
    #[arg(long)]
    capture: Option<String>,
    /// The shop's id for the shopper, for cards on file (where the provider keeps them).
    #[arg(long)]
    shopper_reference: Option<String>,
    /// Keep the card for the shopper's next payment (needs --shopper-reference).
    #[arg(long)]
    save_card: bool,
    /// Collect what is still due on this partly paid payment (its reference); the two are
    /// linked in their histories, and its payer is reused.
    #[arg(long)]
    rest_of: Option<String>,
    /// Write the payment's QR code to this file: SVG if it ends in .svg, else PNG.
    #[arg(long)]
    qr: Option<PathBuf>,
    #[command(flatten)]
    payer: PayerArgs,
}

/// The payer and channel, where the provider asks.
#[derive(clap::Args)]
pub(crate) struct PayerArgs {
    /// NET_BANKING, STORE or EWALLET.
    #[arg(long)]
    channel: Option<String>,
    /// The payer's mobile: 09 and 8 digits.
    #[arg(long)]
    mobile: Option<String>,
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// The payer's own IP address (a provider may limit payments per address).
    #[arg(long)]
    payer_ip: Option<String>,
    /// NET_BANKING: the payer's account(s), 808-0368988888888, several separated by ','.
    #[arg(long)]
    bank_number: Option<String>,
    /// The way within the channel (STORE: a chain such as 711).
    #[arg(long)]
    way_code: Option<String>,
    /// STORE: the payer's postcode and address.
    #[arg(long)]
    postcode: Option<String>,
    #[arg(long)]
    address: Option<String>,
    /// Returned as is by the provider.
    #[arg(long)]
    remark: Option<String>,
}

impl From<PayerArgs> for Payer {
    fn from(a: PayerArgs) -> Self {
        Payer {
            channel: a.channel,
            way_code: a.way_code,
            bank_number: a.bank_number,
            mobile: a.mobile,
            first_name: a.first_name,
            last_name: a.last_name,
            email: a.email,
            ip_address: a.payer_ip,
            postcode: a.postcode,
            address: a.address,
            remark: a.remark,
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum PayCommand {
    /// A hosted payment link (or the provider's hosted checkout).
    Link {
        #[command(flatten)]
        sale: SaleArgs,
        /// ONLINE (default), WAP or APP (a phone's browser or app: give --os-type), YIP, MWEB.
        #[arg(long)]
        terminal: Option<String>,
        /// IOS or ANDROID, for a WAP or APP terminal.
        #[arg(long)]
        os_type: Option<String>,
        /// Attach a registered customer (with --wallet creditcard: the hosted card checkout
        /// for that customer).
        #[arg(long)]
        customer_no: Option<String>,
    },
    /// A counter QR the customer scans with the wallet (alipay, wechatpay, cashapppay).
    Qr {
        #[command(flatten)]
        sale: SaleArgs,
    },
}

/// A file the command will write must have a folder to go in, before anything is sold.
pub(crate) fn check_writable_target(path: &std::path::Path) -> Result<(), AppError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(AppError::invalid(
            "qr",
            format!("the folder {} does not exist; nothing was sold", folder.display()),
        ));
    }
    if path.is_dir() {
        return Err(AppError::invalid("qr", format!("{} is a folder, not a file name", path.display())));
    }
    Ok(())
}

/// `pay link|qr`: a sale, its QR written where asked.
pub(crate) async fn pay(cmd: PayCommand) -> Result<Output, AppError> {
    let (sale, method, terminal, os_type, customer_no) = match cmd {
        PayCommand::Link { sale, terminal, os_type, customer_no } => (sale, "link", terminal, os_type, customer_no),
        PayCommand::Qr { sale } => (sale, "qr", None, None, None),
    };
    let SaleArgs {
        profile,
        amount,
        currency,
        wallet,
        description,
        qr,
        capture,
        shopper_reference,
        save_card,
        rest_of,
        payer,
    } = sale;
    if let Some(path) = &qr {
        check_writable_target(path)?;
    }
    let paydesk = open()?;
    paydesk.ensure_demo(&profile).await?;
    let request = CreatePayment {
        profile,
        amount,
        currency,
        wallet,
        terminal,
        os_type,
        description,
        method: Some(method.into()),
        customer_no,
        capture,
        shopper_reference,
        save_card,
        payer: Payer::from(payer).tidied(),
        rest_of,
    };
    let view = paydesk.create_payment(&request).await?;
    let mut doc = to_json(&view);
    if let Some(path) = qr {
        // .svg for print, anything else PNG.
        let bytes = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg")) {
            let link = view.link.as_deref().unwrap_or_default();
            paydesk_core::qr::svg(link)?.into_bytes()
        } else {
            paydesk.qr_png(&view.reference, 480)?
        };
        // The payment exists whatever happens to the file: say so, with its reference.
        let written =
            paydesk_ledger::create_private_file(&path).and_then(|mut f| std::io::Write::write_all(&mut f, &bytes));
        if let Err(e) = written {
            return Err(AppError::invalid(
                "qr",
                format!(
                    "payment {} was created, but its QR could not be written to {} ({e}); write it again with `tx show`",
                    view.reference,
                    path.display()
                ),
            ));
        }
        doc["qr"] = json!(path);
    }
    let text = format!(
        "{} {} {} via {}\nreference {}\nlink {}",
        view.status.as_str(),
        view.amount,
        view.currency,
        view.wallet_label.clone().unwrap_or_default(),
        view.reference,
        view.link.clone().unwrap_or_default()
    );
    out(doc, text)
}
