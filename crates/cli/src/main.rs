//! `paydesk`: the Paydesk core, headless. With `--json`, stdout carries exactly one JSON
//! document; logs and progress go to stderr; a refused command exits non-zero.

use clap::{Parser, Subcommand};
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

mod cards;
mod customer;
mod declared;
mod filters;
mod ledger;
mod profile;
mod sale;
mod servers;
mod tx;

use cards::*;
use customer::*;
use filters::*;
use ledger::*;
use profile::*;
use sale::*;
use servers::*;
use tx::*;

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
    Sandbox(servers::SandboxArgs),
    /// Merchant profiles (the API secret is kept in the OS keyring, see `secret`).
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// API secrets in the OS keyring.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Take a payment.
    #[command(subcommand)]
    Pay(PayCommand),
    /// Transactions in the ledger.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Registered customers (where the provider keeps them), kept in the ledger too.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// Receive provider notifications (IPN), headless.
    #[command(subcommand)]
    Ipn(NotificationsCommand),
    /// Cards on file (the provider's tokens for them).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Recurring agreements.
    #[command(subcommand)]
    Recurring(RecurringCommand),
    /// Apple Pay merchant sessions.
    #[command(subcommand)]
    Applepay(ApplePayCommand),
    /// The ledger itself: exports, tamper check, backup and restore (never the network).
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Reports over the ledger.
    #[command(subcommand)]
    Report(ReportCommand),
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    paydesk_core::app::prepare();
    let cli = Cli::parse();
    let json_mode = cli.json;
    let _ = LEDGER.set(cli.ledger.clone().filter(|l| !l.trim().is_empty()));
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

fn out(json: Value, text: impl Into<String>) -> Result<Output, AppError> {
    Ok(Output { json, text: text.into(), data_on_stdout: false, code: 0 })
}

/// `--ledger`, when given.
static LEDGER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn open() -> Result<Arc<Paydesk>, AppError> {
    let startup = paydesk_core::app::Startup {
        ledger: LEDGER.get().cloned().flatten(),
        demo: Some(paydesk_sandbox::demo::launcher()),
        demo_listener: false,
    };
    paydesk_core::app::open(&paydesk_core::paths::home(), &startup)
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serializable")
}

async fn run(cli: Cli) -> Result<Output, AppError> {
    match cli.command {
        Command::Sandbox(args) => servers::sandbox(args, cli.json).await,
        Command::Profile(cmd) => profile::profile(cmd).await,
        Command::Secret(cmd) => profile::secret(cmd).await,
        Command::Pay(cmd) => sale::pay(cmd).await,
        Command::Tx(cmd) => tx::tx(cmd).await,
        Command::Ledger(cmd) => ledger::ledger(cmd, cli.json),
        Command::Report(cmd) => ledger::report(cmd),
        Command::Token(cmd) => cards::cards(cards::CardCommand::Token(cmd)).await,
        Command::Recurring(cmd) => cards::cards(cards::CardCommand::Recurring(cmd)).await,
        Command::Applepay(cmd) => cards::cards(cards::CardCommand::Applepay(cmd)).await,
        Command::Customer(cmd) => customer::customer(cmd).await,
        Command::Ipn(cmd) => servers::notifications(cmd, cli.json).await,
    }
}
