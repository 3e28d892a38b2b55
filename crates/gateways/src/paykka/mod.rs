//! PayKKa acquiring API v3: JSON bodies, amounts as integer minor units,
//! SHA256-with-RSA signed headers. Only signing and amount conversion exist so far.

pub mod client;
pub mod gateway;
pub mod signing;
pub mod transformers;

pub use gateway::PROVIDER;

pub const PRODUCTION_URL: &str = "https://openapi.paykka.com";
pub const SANDBOX_URL: &str = "https://openapi-sandbox.paykka.com";
