//! Vexora (Taiwan checkout): header `merchantNo`, JSON bodies of strings, MD5 `sign`,
//! amounts in whole New Taiwan dollars. Payment links (shown as a QR at the counter),
//! status queries and signed notifications; no refunds or cancels through the API.

pub mod client;
pub mod gateway;
pub mod signing;
pub mod transformers;

pub use gateway::PROVIDER;

pub use client::VexoraClient;

/// Base URLs are per region; Taiwan's are the defaults `--base-url sandbox|production`
/// stand for.
pub const SANDBOX_URL: &str = "https://sandbox-api.vexora.com/tw";
pub const PRODUCTION_URL: &str = "https://api.vexora.com/tw";

pub const CHECKOUT_PATH: &str = "/v1/vexora/checkout";
pub const QUERY_PATH: &str = "/v1/vexora/queryPayInResult";
