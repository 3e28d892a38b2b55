//! `paydesk`: the Paydesk core, headless. With `--json`, stdout carries exactly one JSON
//! document; logs and progress go to stderr; a refused command exits non-zero.

use clap::{Parser, Subcommand};
use paydesk_core::demo;
use paydesk_core::i18n;
use paydesk_core::{
    books::TxQuery, secrets, AppError, CreatePayment, CustomerFields, CustomerKey, Paydesk, Payer, ProfileInput,
    DEMO_PROFILE,
};
use paydesk_gateways::ApiSecret;
use paydesk_sandbox::{Merchant, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "paydesk", version, about = "Paydesk merchant console, headless")]
struct Cli {
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The ledger to use: a shared PostgreSQL ledger (postgres://user@host:port/db) or a
    /// ledger file; default: PAYDESK_LEDGER, else Settings' shared ledger, else the file in
    /// the home folder.
    #[arg(long, global = true, value_name = "URL")]
    ledger: Option<String>,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run; boxing the larger variants would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the provider sandbox standalone until interrupted.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8787")]
        bind: SocketAddr,
        /// Base URL for cashier links when bound to a non-loopback address.
        #[arg(long)]
        public_url: Option<String>,
        /// The emulated merchant (default: Pockyt's documented example, 200043).
        #[arg(long, default_value = paydesk_sandbox::DEMO_MERCHANT_NO)]
        merchant_no: String,
        #[arg(long, default_value = paydesk_sandbox::DEMO_STORE_NO)]
        store_no: String,
        /// The emulated merchant's API token (a test value; default: the documented example).
        #[arg(long, default_value = paydesk_sandbox::DEMO_TOKEN, hide_default_value = true)]
        token: String,
        /// Keep the sandbox's payments and customers in this file across restarts.
        #[arg(long)]
        state_file: Option<PathBuf>,
    },
    /// Merchant profiles (the token is kept in the OS keyring, see `secret`).
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// API tokens in the OS keyring.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Take a payment.
    #[command(subcommand)]
    Pay(PayCommand),
    /// Transactions in the ledger.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Registered customers (Pockyt customers API), kept in the ledger too.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Receive provider notifications (IPN), headless.
    #[command(subcommand)]
    Ipn(IpnCommand),
    /// Cards on file (PayKKa tokens).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Recurring agreements (PayKKa).
    #[command(subcommand)]
    Recurring(RecurringCommand),
    /// Apple Pay merchant sessions (PayKKa).
    #[command(subcommand)]
    Applepay(ApplePayCommand),
    /// The ledger itself: exports, tamper check, backup and restore (never the network).
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Reports over the ledger.
    #[command(subcommand)]
    Report(ReportCommand),
}

/// Which payments: the shop's local days, and any of the other filters.
#[derive(clap::Args, Clone, Default)]
struct FilterArgs {
    /// today, yesterday, this_week, this_month (or give --from/--to).
    #[arg(long)]
    period: Option<String>,
    /// First local day, inclusive (2026-11-01).
    #[arg(long)]
    from: Option<String>,
    /// Last local day, inclusive.
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    provider: Option<String>,
    #[arg(long)]
    profile: Option<String>,
    /// Only this shop's payments (its profiles').
    #[arg(long)]
    shop: Option<String>,
    /// qr, link, or a wallet (alipay).
    #[arg(long)]
    method: Option<String>,
    #[arg(long)]
    currency: Option<String>,
    #[arg(long)]
    min_amount: Option<String>,
    #[arg(long)]
    max_amount: Option<String>,
    /// The start of a reference, provider transaction number or customer number.
    #[arg(long, alias = "text")]
    search: Option<String>,
}

impl From<FilterArgs> for TxQuery {
    fn from(a: FilterArgs) -> Self {
        TxQuery {
            period: a.period,
            from: a.from,
            to: a.to,
            status: a.status,
            provider: a.provider,
            profile: a.profile,
            shop: a.shop,
            method: a.method,
            currency: a.currency,
            min_amount: a.min_amount,
            max_amount: a.max_amount,
            text: a.search,
            limit: None,
            after: None,
        }
    }
}

#[derive(Subcommand)]
enum LedgerCommand {
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
enum ReportCommand {
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

#[derive(Subcommand)]
enum TokenCommand {
    /// The shopper's cards on file, asked of the provider (and kept in the ledger).
    List {
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        shopper_reference: String,
    },
    /// Removes a card on file.
    Remove {
        token: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        shopper_reference: String,
    },
}

#[derive(Subcommand)]
enum RecurringCommand {
    /// Cancels a shopper's recurring agreement.
    Cancel {
        agreement_id: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        shopper_reference: String,
    },
}

#[derive(Subcommand)]
enum ApplePayCommand {
    /// An Apple Pay merchant session for a domain (no scheme, no port).
    Session {
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        domain: String,
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Subcommand)]
enum ProfileCommand {
    Add {
        name: String,
        #[arg(long, default_value = "pockyt")]
        provider: String,
        /// "sandbox", "production" or a URL.
        #[arg(long)]
        base_url: String,
        /// Pockyt's (or Vexora's) merchant number.
        #[arg(long)]
        merchant_no: Option<String>,
        /// Pockyt's store number.
        #[arg(long)]
        store_no: Option<String>,
        /// PayKKa's merchant id.
        #[arg(long)]
        merchant_id: Option<String>,
        /// PayKKa's app id (x-paykka-appid).
        #[arg(long)]
        app_id: Option<String>,
        /// PayKKa's platform public key (a PEM file), to verify its answers and webhooks.
        #[arg(long)]
        platform_public_key: Option<PathBuf>,
        /// PayKKa: refuse answers that are not signed with the platform key (the documents
        /// do not say answers are signed; by default a signature is checked when present).
        #[arg(long)]
        require_signed_answers: bool,
        /// Vexora: the counter's public IP address, sent as the payer's (a cashier cannot
        /// know the customer's; `pay --payer-ip` still gives one).
        #[arg(long)]
        public_ip: Option<String>,
        #[arg(long)]
        ipn_url: Option<String>,
        #[arg(long)]
        callback_url: Option<String>,
        /// The shop it sells for (several shops may share one ledger); default "main", and
        /// the same shop when replacing.
        #[arg(long)]
        shop: Option<String>,
        /// Run the IPN listener for this profile on ADDR:PORT (`paydesk ipn listen`, the app).
        #[arg(long)]
        ipn_listen: Option<String>,
        /// Allow addresses on the shop's private network (10/8, 172.16/12, 192.168/16, fc00::/7)
        /// for the base URL, notification and return URLs and the provider's links.
        #[arg(long)]
        private_network: bool,
        /// Replace the profile of this name (refused otherwise; changing where its sales go
        /// needs the profile's secret on this computer).
        #[arg(long)]
        replace: bool,
        /// Read the profile's secret (API token, app secret or private key) from standard
        /// input and save it in the OS keyring in the same step (production profiles need it).
        #[arg(long)]
        secret_stdin: bool,
    },
    List,
    Show {
        name: String,
    },
    /// Removes the profile and its saved token; its payments stay in the ledger.
    Remove {
        name: String,
    },
    /// Every change of profiles (or of one), newest first: what changed, when, by which process.
    History {
        name: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Checks the URL, merchant and token with a harmless query.
    Test {
        name: String,
        /// Also each request and answer (signatures removed), the clock skew to the
        /// provider, and a plain diagnosis: what to send the provider's support.
        #[arg(long)]
        verbose: bool,
    },
    /// Writes the last exchanges of this profile with its provider (payments' requests and
    /// answers, connection tests), signatures removed, for the provider's support.
    Transcript {
        name: String,
        #[arg(long, default_value_t = 20)]
        last: usize,
        /// A file to write (0600) instead of standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Reads the API token from standard input and saves it in the OS keyring.
    Set { profile: String },
    /// Deletes the saved token.
    Delete { profile: String },
}

#[derive(clap::Args)]
struct SaleArgs {
    #[arg(long, default_value = DEMO_PROFILE)]
    profile: String,
    /// As typed ("13.00"); a negative value is refused with a clear reason.
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    #[arg(long)]
    currency: String,
    /// The wallet, where the provider asks for one (Pockyt: alipay, wechatpay, ...).
    #[arg(long, default_value = "")]
    vendor: String,
    #[arg(long)]
    description: Option<String>,
    /// automatic (default) or manual: authorise now, capture later (PayKKa).
    #[arg(long)]
    capture: Option<String>,
    /// The shop's id for the shopper, for cards on file (PayKKa).
    #[arg(long)]
    shopper_reference: Option<String>,
    /// Keep the card for the shopper's next payment (PayKKa; needs --shopper-reference).
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

/// The payer and channel, where the provider asks (Vexora).
#[derive(clap::Args)]
struct PayerArgs {
    /// NET_BANKING, STORE or EWALLET (Vexora).
    #[arg(long)]
    channel: Option<String>,
    /// The payer's mobile: 09 and 8 digits (Vexora).
    #[arg(long)]
    mobile: Option<String>,
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// The payer's own IP address (Vexora limits payments per address).
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
enum PayCommand {
    /// A hosted payment link (Pockyt SecurePay).
    Link {
        #[command(flatten)]
        sale: SaleArgs,
        /// ONLINE (default), WAP or APP (a phone's browser or app: give --os-type), YIP, MWEB.
        #[arg(long)]
        terminal: Option<String>,
        /// IOS or ANDROID, for a WAP or APP terminal.
        #[arg(long)]
        os_type: Option<String>,
        /// Attach a registered customer (with --vendor creditcard: Pockyt's hosted card
        /// checkout for that customer).
        #[arg(long)]
        customer_no: Option<String>,
    },
    /// A counter QR the customer scans with the wallet (alipay, wechatpay, cashapppay).
    Qr {
        #[command(flatten)]
        sale: SaleArgs,
    },
}

#[derive(clap::Args)]
struct ContactArgs {
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Two letters, ISO 3166 (US needs --state).
    #[arg(long)]
    country_code: Option<String>,
    /// The shop's own id for this customer.
    #[arg(long)]
    customer_code: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    mobile_number: Option<String>,
    #[arg(long)]
    company: Option<String>,
    #[arg(long)]
    street: Option<String>,
    #[arg(long)]
    street2: Option<String>,
    #[arg(long)]
    city: Option<String>,
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    zip: Option<String>,
    #[arg(long)]
    country: Option<String>,
    /// yyyy-MM-dd
    #[arg(long)]
    date_of_birth: Option<String>,
    #[arg(long)]
    lang: Option<String>,
    /// INDIVIDUAL (Pockyt's default) or BUSINESS.
    #[arg(long)]
    profile_type: Option<String>,
}

impl From<ContactArgs> for CustomerFields {
    fn from(a: ContactArgs) -> Self {
        CustomerFields {
            customer_code: a.customer_code,
            first_name: a.first_name,
            last_name: a.last_name,
            email: a.email,
            country_code: a.country_code,
            phone: a.phone,
            mobile_number: a.mobile_number,
            company: a.company,
            street: a.street,
            street2: a.street2,
            city: a.city,
            state: a.state,
            zip: a.zip,
            country: a.country,
            date_of_birth: a.date_of_birth,
            profile_type: a.profile_type,
            lang: a.lang,
        }
    }
}

#[derive(Subcommand)]
enum CustomerCommand {
    Create {
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[command(flatten)]
        contact: ContactArgs,
    },
    /// Looks a customer up at the provider (by number, or --by-code for the shop's id).
    Get {
        customer: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        by_code: bool,
    },
    /// Changes contact details.
    Update {
        customer_no: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[command(flatten)]
        contact: ContactArgs,
    },
    /// Customers kept in the ledger.
    List {
        #[arg(long)]
        profile: Option<String>,
        #[arg(long)]
        search: Option<String>,
    },
    /// Erases a payer the counter kept for next time (by their mobile number). Payers are
    /// kept once per ledger, for every profile: the payer is erased for all of them.
    Forget {
        #[arg(long)]
        mobile: String,
        /// The profile the cashier sells with (checked; says where the request came from).
        #[arg(long)]
        profile: Option<String>,
    },
}

#[derive(Subcommand)]
enum TxCommand {
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

#[derive(Subcommand)]
enum IpnCommand {
    /// Listens on --bind, or else on the address --profile asks for, or else on every
    /// address profiles ask for (profile add --ipn-listen).
    Listen {
        #[arg(long)]
        bind: Option<SocketAddr>,
        #[arg(long)]
        profile: Option<String>,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    paydesk_core::raise_open_files_limit();
    let cli = Cli::parse();
    let json_mode = cli.json;
    let _ = LEDGER.set(cli.ledger.clone().filter(|l| !l.trim().is_empty()));
    i18n::set_current(paydesk_core::settings::chosen_locale(&paydesk_core::paths::home()));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let result = runtime.block_on(run(cli));
    match result {
        Ok(output) => {
            if output.data_on_stdout {
                eprintln!("paydesk: {}", paydesk_gateways::text::escape_for_terminal(&output.text));
            } else if json_mode {
                println!("{}", serde_json::to_string_pretty(&output.json).expect("serializable output"));
            } else {
                // Whatever a provider or a ledger row holds, the terminal shows it, never obeys it.
                println!("{}", paydesk_gateways::text::escape_for_terminal(&output.text));
            }
            if output.code != 0 {
                std::process::exit(output.code);
            }
        }
        Err(e) => {
            if json_mode {
                println!("{}", json!({ "error": e }));
            }
            // In English the message as it is, with its command-line hints; in another
            // language the same error in that language, then the exact English detail.
            let locale = i18n::current();
            if locale != i18n::Locale::En {
                let said = e.clone().for_people_in(locale).to_string();
                eprintln!("paydesk: {}", paydesk_gateways::text::escape_for_terminal(&said));
            }
            eprintln!("paydesk: {}", paydesk_gateways::text::escape_for_terminal(&e.to_string()));
            std::process::exit(1);
        }
    }
}

struct Output {
    json: Value,
    text: String,
    /// Standard output carries the data itself (an export to `-o -`): say nothing more there.
    data_on_stdout: bool,
    /// Exit status (a ledger that does not verify exits 1 with its report).
    code: i32,
}

/// A human message in the language in use (`PAYDESK_LANG`, Settings, else the system's):
/// `english` is the catalog key, `{name}`s filled from `values`. JSON is never translated.
fn say(english: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let values: Vec<(&str, String)> = values.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    i18n::tr_with(i18n::current(), english, &values)
}

/// A secret typed or piped on standard input (`secret set`, `profile add --secret-stdin`).
fn read_secret_from_stdin() -> Result<ApiSecret, AppError> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| AppError::Internal { message: format!("cannot read standard input: {e}") })?;
    Ok(ApiSecret::new(input))
}

fn out(json: Value, text: impl Into<String>) -> Result<Output, AppError> {
    Ok(Output { json, text: text.into(), data_on_stdout: false, code: 0 })
}

/// `--ledger`, when given.
static LEDGER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn open() -> Result<Arc<Paydesk>, AppError> {
    let home = paydesk_core::paths::home();
    Ok(Arc::new(match LEDGER.get().cloned().flatten() {
        Some(ledger) => Paydesk::open_at(&home, &paydesk_ledger::Location::parse(&ledger))?,
        None => Paydesk::open(&home)?,
    }))
}

/// The demo profile runs on an in-process sandbox whose payments persist in the home folder.
async fn ensure_demo(paydesk: &Arc<Paydesk>, profile: &str) -> Result<(), AppError> {
    if paydesk_core::is_demo_name(profile) && paydesk.demo().is_none() {
        start_demo(paydesk).await?;
    }
    Ok(())
}

/// Starts the embedded sandbox (state shared by every process through its SQLite file) and
/// switches the core's demo profile on against it.
async fn start_demo(paydesk: &Arc<Paydesk>) -> Result<(), AppError> {
    let options = paydesk_sandbox::demo::DemoSandboxOptions::from_env()
        .map_err(|m| AppError::invalid("PAYDESK_SANDBOX_BIND", m))?;
    let setup = paydesk_sandbox::demo::start(paydesk.home(), &options)
        .await
        .map_err(|message| AppError::Internal { message })?;
    demo::enable(paydesk, setup).await?;
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serializable")
}

async fn run(cli: Cli) -> Result<Output, AppError> {
    match cli.command {
        Command::Sandbox { bind, public_url, merchant_no, store_no, token, state_file } => {
            let merchant = Merchant { merchant_no, store_no, token: ApiSecret::new(token) };
            let config = SandboxConfig { public_url, merchants: vec![merchant], state_file, ..Default::default() };
            run_sandbox(bind, config, cli.json).await
        }
        Command::Profile(cmd) => profile(cmd).await,
        Command::Secret(cmd) => secret(cmd).await,
        Command::Pay(cmd) => {
            let (sale, method, terminal, os_type, customer_no) = match cmd {
                PayCommand::Link { sale, terminal, os_type, customer_no } => {
                    (sale, "link", terminal, os_type, customer_no)
                }
                PayCommand::Qr { sale } => (sale, "qr", None, None, None),
            };
            let SaleArgs {
                profile,
                amount,
                currency,
                vendor,
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
            ensure_demo(&paydesk, &profile).await?;
            let request = CreatePayment {
                profile,
                amount,
                currency,
                vendor,
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
                let written = paydesk_ledger::create_private_file(&path)
                    .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes));
                if let Err(e) = written {
                    return Err(AppError::invalid(
                        "qr",
                        format!(
                            "qr: payment {} was created, but its QR could not be written to {} ({e}); write it again with `tx show`",
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
                view.vendor_label.clone().unwrap_or_default(),
                view.reference,
                view.link.clone().unwrap_or_default()
            );
            out(doc, text)
        }
        Command::Tx(cmd) => tx(cmd).await,
        Command::Ledger(cmd) => ledger(cmd, cli.json),
        Command::Report(ReportCommand::Daily { from, to, period, profile, shop, by }) => {
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
        Command::Token(TokenCommand::List { profile, shopper_reference }) => {
            let paydesk = open()?;
            ensure_demo(&paydesk, &profile).await?;
            let tokens = paydesk.tokens(&profile, &shopper_reference).await?;
            let text = tokens
                .iter()
                .map(|t| {
                    // The card in words first where the provider names it; the token stays, a
                    // removal needs it.
                    let card = match (&t.card_brand, &t.last4) {
                        (Some(brand), Some(last4)) => format!("{brand} **** {last4}"),
                        (None, Some(last4)) => format!("**** {last4}"),
                        _ => t.payment_method.clone(),
                    };
                    let expiry = t.expiry.as_deref().unwrap_or("-");
                    format!("{card}  {expiry}  {}  {}  {}", t.token_usage, t.status, t.token)
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&tokens), text)
        }
        Command::Token(TokenCommand::Remove { token, profile, shopper_reference }) => {
            let paydesk = open()?;
            ensure_demo(&paydesk, &profile).await?;
            paydesk.remove_token(&profile, &shopper_reference, &token).await?;
            let text = say("removed card {token}", &[("token", &token)]);
            out(json!({"removed": token, "shopper_reference": shopper_reference}), text)
        }
        Command::Recurring(RecurringCommand::Cancel { agreement_id, profile, shopper_reference }) => {
            let paydesk = open()?;
            ensure_demo(&paydesk, &profile).await?;
            paydesk.cancel_recurring(&profile, &shopper_reference, &agreement_id).await?;
            out(
                json!({"cancelled": agreement_id, "shopper_reference": shopper_reference}),
                say("recurring agreement {agreement} cancelled", &[("agreement", &agreement_id)]),
            )
        }
        Command::Applepay(ApplePayCommand::Session { profile, domain, display_name }) => {
            let paydesk = open()?;
            ensure_demo(&paydesk, &profile).await?;
            let session = paydesk.apple_pay_session(&profile, &domain, display_name.as_deref()).await?;
            out(session.clone(), session.to_string())
        }
        Command::Customer(cmd) => customer(cmd).await,
        Command::Ipn(IpnCommand::Listen { bind, profile }) => {
            let paydesk = open()?;
            let bind = match (bind, profile) {
                (Some(b), _) => Some(b),
                (None, Some(name)) => {
                    let p = paydesk.profile(&name)?;
                    let addr = p.ipn_listen.ok_or_else(|| {
                        AppError::invalid(
                            "bind",
                            format!("bind: profile '{name}' asks for no listener; give --bind ADDR:PORT or set --ipn-listen on it"),
                        )
                    })?;
                    Some(
                        addr.parse()
                            .map_err(|_| AppError::invalid("bind", format!("bind: '{addr}' is not ADDR:PORT")))?,
                    )
                }
                (None, None) => None,
            };
            let (_explicit, addrs) = match bind {
                Some(bind) => {
                    let l = paydesk_core::ipn::serve(paydesk.clone(), bind).await?;
                    let addr = l.addr();
                    (Some(l), vec![addr])
                }
                None => (None, paydesk_core::ipn::start_for_profiles(&paydesk).await?),
            };
            if addrs.is_empty() {
                return Err(AppError::invalid(
                    "bind",
                    "bind: no profile asks for an IPN listener; give --bind ADDR:PORT or `profile add --ipn-listen`",
                ));
            }
            // `listening`: the older Pockyt address; `notify`: where any provider posts for a profile.
            let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}/ipn/pockyt")).collect();
            let notify: Vec<String> =
                addrs.iter().map(|a| format!("http://{a}/notify/{{provider}}/{{profile}}")).collect();
            let doc = if urls.len() == 1 {
                json!({"listening": urls[0], "notify": notify[0]})
            } else {
                json!({"listening": urls, "notify": notify})
            };
            announce(cli.json, doc, &say("notification listener at {addresses}", &[("addresses", &notify.join(", "))]));
            wait_for_interrupt().await;
            out(json!({"stopped": true}), say("stopped", &[]))
        }
    }
}

/// A file the command will write must have a folder to go in, before anything is sold.
fn check_writable_target(path: &std::path::Path) -> Result<(), AppError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(AppError::invalid(
            "qr",
            format!("qr: the folder {} does not exist; nothing was sold", folder.display()),
        ));
    }
    if path.is_dir() {
        return Err(AppError::invalid("qr", format!("qr: {} is a folder, not a file name", path.display())));
    }
    Ok(())
}

/// Long-running commands print their address at once (stdout, flushed), then wait.
fn announce(json_mode: bool, doc: Value, text: &str) {
    let mut stdout = std::io::stdout().lock();
    if json_mode {
        let _ = writeln!(stdout, "{doc}");
    } else {
        let _ = writeln!(stdout, "{text}");
    }
    let _ = stdout.flush();
}

async fn wait_for_interrupt() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn run_sandbox(bind: SocketAddr, config: SandboxConfig, json_mode: bool) -> Result<Output, AppError> {
    let merchant = config.merchants.first().cloned().expect("one merchant");
    let (merchant_no, store_no) = (merchant.merchant_no, merchant.store_no);
    let sandbox = Sandbox::start(bind, config)
        .await
        .map_err(|e| AppError::Internal { message: format!("cannot start the sandbox on {bind}: {e}") })?;
    announce(
        json_mode,
        json!({"address": sandbox.addr().to_string(), "base_url": sandbox.base_url()}),
        &format!("Pockyt sandbox at {} (merchantNo {merchant_no}, storeNo {store_no})", sandbox.base_url()),
    );
    wait_for_interrupt().await;
    // The address was the document; nothing more on stdout.
    std::process::exit(0);
}

async fn profile(cmd: ProfileCommand) -> Result<Output, AppError> {
    let paydesk = open()?;
    match cmd {
        ProfileCommand::Add {
            name,
            provider,
            base_url,
            merchant_no,
            store_no,
            merchant_id,
            app_id,
            platform_public_key,
            require_signed_answers,
            public_ip,
            ipn_url,
            callback_url,
            ipn_listen,
            private_network,
            replace,
            secret_stdin,
            shop,
        } => {
            let platform_public_key = match platform_public_key {
                Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| {
                    AppError::invalid(
                        "platform_public_key",
                        format!("platform_public_key: cannot read {} ({e})", path.display()),
                    )
                })?),
                None => None,
            };
            // Each provider's settings come as their own flags; the provider says which it needs.
            let settings = [
                ("merchant_no", merchant_no),
                ("store_no", store_no),
                ("merchant_id", merchant_id),
                ("app_id", app_id),
                ("platform_public_key", platform_public_key),
                ("require_signed_answers", require_signed_answers.then(|| "true".to_string())),
                ("public_ip", public_ip),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), Value::String(v))))
            .collect();
            let input = ProfileInput {
                name,
                provider,
                base_url,
                ipn_url,
                callback_url,
                ipn_listen,
                private_network,
                replace,
                shop,
                settings,
            };
            if secret_stdin {
                // Checked first, so a bad form never leaves a stray keyring entry.
                let profile: paydesk_core::Profile = input.clone().validate()?.into();
                let secret = read_secret_from_stdin()?;
                secrets::save_secret(&profile, &secret)?;
            }
            let p = paydesk.save_profile(input)?;
            for warning in &p.warnings {
                eprintln!("paydesk: warning: {warning}");
            }
            let text = say(
                "saved profile {profile} ({provider}, {url})",
                &[("profile", &p.name), ("provider", &p.provider), ("url", &p.base_url)],
            );
            out(to_json(&p), text)
        }
        ProfileCommand::List => {
            let list = paydesk.profiles()?;
            let text = list
                .iter()
                .map(|p| format!("{}\t{}\t{}\t{}", p.name, p.provider, p.environment.as_str(), p.base_url))
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&list), text)
        }
        ProfileCommand::History { name, limit } => {
            let changes = paydesk.profile_history(name.as_deref(), limit)?;
            let text = changes
                .iter()
                .map(|e| {
                    let changed = e.detail["changed"]
                        .as_array()
                        .map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "));
                    format!(
                        "{}\t{}\t{}\t{}",
                        e.at,
                        e.kind,
                        e.detail["profile"].as_str().unwrap_or(""),
                        changed.unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&changes), text)
        }
        ProfileCommand::Show { name } => {
            let p = paydesk.profile(&name)?;
            let saved = secrets::status_of(&p);
            let mut doc = to_json(&p);
            doc["token"] = json!(saved);
            let mut text = format!(
                "{}\nprovider {}\nenvironment {}\nbase_url {}\n",
                p.name,
                p.provider,
                p.environment.as_str(),
                p.base_url
            );
            for (key, value) in &p.settings {
                text.push_str(&format!("{key} {value}\n"));
            }
            text.push_str(&format!(
                "ipn_url {}\ncallback_url {}\ntoken {saved}",
                p.ipn_url.clone().unwrap_or_default(),
                p.callback_url.clone().unwrap_or_default()
            ));
            out(doc, text)
        }
        ProfileCommand::Test { name, verbose: false } => {
            ensure_demo(&paydesk, &name).await?;
            let message = paydesk.test_connection(&name).await?;
            out(json!({"profile": name, "ok": true, "message": message}), message)
        }
        ProfileCommand::Test { name, verbose: true } => {
            ensure_demo(&paydesk, &name).await?;
            let report = paydesk.diagnose_connection(&name).await?;
            let mut text = format!("{}: {}\n{}", report.diagnosis, report.profile, report.message);
            if let Some(skew) = report.clock_skew_ms {
                text.push_str(&format!("\nclock skew to the provider: {:+.1} s", skew as f64 / 1000.0));
            }
            for x in &report.exchanges {
                text.push_str(&format!("\n{}", serde_json::to_string_pretty(x).unwrap_or_default()));
            }
            let code = if report.ok { 0 } else { 1 };
            Ok(Output { json: to_json(&report), text, data_on_stdout: false, code })
        }
        ProfileCommand::Transcript { name, last, output } => {
            ensure_demo(&paydesk, &name).await?;
            let exchanges = paydesk.transcript(&name, last)?;
            let doc = json!({"profile": name, "exchanges": exchanges});
            match output {
                Some(path) => {
                    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                    paydesk_ledger::create_private_file(&path)
                        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
                        .map_err(|e| {
                            AppError::invalid("output", format!("output: cannot write {} ({e})", path.display()))
                        })?;
                    let said = say("written to {file}", &[("file", &path.display())]);
                    out(json!({"profile": name, "exchanges": exchanges.len(), "file": path}), said)
                }
                None => {
                    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                    out(doc, text)
                }
            }
        }
        ProfileCommand::Remove { name } => {
            let removed = paydesk.remove_profile(&name)?;
            if !removed {
                return Err(AppError::ProfileNotFound { message: format!("No profile named '{name}'"), profile: name });
            }
            let token_deleted = secrets::delete_token(&name).unwrap_or(false);
            out(
                json!({"removed": name, "token_deleted": token_deleted}),
                say("removed profile {profile}; its payments stay in the ledger", &[("profile", &name)]),
            )
        }
    }
}

async fn secret(cmd: SecretCommand) -> Result<Output, AppError> {
    match cmd {
        SecretCommand::Set { profile } => {
            // A secret for a profile that does not exist would sit in the keyring unused.
            let found = open()?.profile(&profile).map_err(|e| match e {
                AppError::ProfileNotFound { profile, .. } => AppError::ProfileNotFound {
                    message: format!(
                        "No profile named '{profile}'; add it first (`paydesk profile add`), then save its secret."
                    ),
                    profile,
                },
                other => other,
            })?;
            secrets::save_secret(&found, &read_secret_from_stdin()?)?;
            let text = say("secret for {profile} saved in the OS keyring", &[("profile", &profile)]);
            out(json!({"profile": profile, "token": "saved"}), text)
        }
        SecretCommand::Delete { profile } => {
            let deleted = secrets::delete_token(&profile)?;
            out(json!({"profile": profile, "deleted": deleted}), if deleted { "deleted" } else { "no token was saved" })
        }
    }
}

/// The payment, checked against `--profile` when given, with its profile's demo sandbox
/// running if it is the demo's.
async fn payment_for(
    paydesk: &Arc<Paydesk>,
    reference: &str,
    profile: Option<String>,
) -> Result<paydesk_core::PaymentView, AppError> {
    let payment = payment_of_profile(paydesk, reference, profile)?;
    ensure_demo(paydesk, &payment.profile).await?;
    Ok(payment)
}

/// The payment, refused when `--profile` names another profile than its own.
fn payment_of_profile(
    paydesk: &Paydesk,
    reference: &str,
    profile: Option<String>,
) -> Result<paydesk_core::PaymentView, AppError> {
    let payment = paydesk.payment(reference)?;
    if let Some(p) = profile.filter(|p| *p != payment.profile) {
        return Err(AppError::invalid(
            "profile",
            format!("profile: payment {reference} belongs to '{}', not '{p}'", payment.profile),
        ));
    }
    Ok(payment)
}

fn ledger(cmd: LedgerCommand, json_mode: bool) -> Result<Output, AppError> {
    use paydesk_core::books::{ExportFormat, ExportOptions};
    use paydesk_ledger::export::ExportTarget;
    let paydesk = open()?;
    match cmd {
        LedgerCommand::Export { format, output, filter, refunds, events, bom } => {
            let format = ExportFormat::parse(&format)
                .ok_or_else(|| AppError::invalid("format", format!("format: csv, xlsx or jsonl (got '{format}')")))?;
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
                        format!("output: {} already exists; name a new file", output.display()),
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

async fn tx(cmd: TxCommand) -> Result<Output, AppError> {
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
                        .ok_or_else(|| AppError::invalid("after", "after: the cursor a page printed, TIME,ID"))?;
                    let id = id.parse().map_err(|_| AppError::invalid("after", "after: TIME,ID with a numeric id"))?;
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
                        .map_err(|e| {
                            AppError::invalid("output", format!("output: cannot write {} ({e})", path.display()))
                        })?;
                    let text = say("written to {file}", &[("file", &path.display())]);
                    out(json!({"reference": reference, "file": path}), text)
                }
                None => out(json!({"reference": reference, "html": &html}), html),
            }
        }
        TxCommand::Totals { filter, by: Some(by) } => {
            if by != "shop" {
                return Err(AppError::invalid("by", format!("by: shop is the one grouping of totals (got '{by}')")));
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
                ensure_demo(&paydesk, q.profile.as_deref().unwrap_or(DEMO_PROFILE)).await?;
            }
            let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let stop = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            });
            let report = |p: paydesk_core::bulk::BulkProgress| {
                eprint!("\rrefreshing {}/{} ({} failed)", p.done, p.total, p.failures);
                if p.done == p.total {
                    eprintln!();
                }
            };
            let options = paydesk_core::bulk::BulkOptions { concurrency, per_provider_rate: rate };
            let summary = paydesk.refresh_all(&q, options, &report, &cancel).await?;
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
                ensure_demo(&paydesk, DEMO_PROFILE).await?;
            }
            let summary = paydesk.recover(profile.as_deref()).await?;
            let text = summary.describe();
            out(to_json(&summary), text)
        }
    }
}

fn customer_text(c: &paydesk_ledger::CustomerRow) -> String {
    format!(
        "{}  {} {}  <{}>  code {}",
        c.customer_no,
        c.first_name.clone().unwrap_or_default(),
        c.last_name.clone().unwrap_or_default(),
        c.email.clone().unwrap_or_default(),
        c.customer_code.clone().unwrap_or_else(|| "-".into())
    )
}

async fn customer(cmd: CustomerCommand) -> Result<Output, AppError> {
    let paydesk = open()?;
    match cmd {
        CustomerCommand::Create { profile, contact } => {
            ensure_demo(&paydesk, &profile).await?;
            let c = paydesk.create_customer(&profile, &contact.into()).await?;
            let text = customer_text(&c);
            out(to_json(&c), text)
        }
        CustomerCommand::Get { customer, profile, by_code } => {
            ensure_demo(&paydesk, &profile).await?;
            let key = if by_code { CustomerKey::CustomerCode(customer) } else { CustomerKey::CustomerNo(customer) };
            let c = paydesk.get_customer(&profile, &key).await?;
            let text = customer_text(&c);
            out(to_json(&c), text)
        }
        CustomerCommand::Update { customer_no, profile, contact } => {
            ensure_demo(&paydesk, &profile).await?;
            let c = paydesk.update_customer(&profile, &customer_no, &contact.into()).await?;
            let text = customer_text(&c);
            out(to_json(&c), text)
        }
        CustomerCommand::List { profile, search } => {
            let list = paydesk.customers(profile.as_deref(), search.as_deref())?;
            let text = list.iter().map(customer_text).collect::<Vec<_>>().join("\n");
            out(to_json(&list), text)
        }
        CustomerCommand::Forget { mobile, profile } => {
            if let Some(name) = &profile {
                paydesk.profile(name)?;
            }
            let forgotten = paydesk.forget_payer(&mobile)?;
            let text = if forgotten {
                say("payer {mobile} forgotten", &[("mobile", &mobile)])
            } else {
                say("nothing was kept for {mobile}", &[("mobile", &mobile)])
            };
            let mut doc = json!({"mobile": mobile, "forgotten": forgotten});
            if let Some(name) = profile {
                doc["profile"] = json!(name);
            }
            out(doc, text)
        }
    }
}
