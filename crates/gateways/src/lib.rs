//! Payment provider gateways.
//!
//! Each provider lives in its own folder with the same shape, and is registered by two lines
//! of this file: its `mod` and its place in [`PROVIDERS`]. Its shape:
//! `signing` (the provider's signature scheme, pinned by known-answer vectors),
//! `transformers` (typed requests/responses and the wire form of amounts),
//! `status` mapping into [`PaymentStatus`], and a `client` that talks HTTP.
//! Inside the app, money is always [`Money`]: integer minor units plus a currency.

pub mod customers;
pub mod demo;
pub mod error;
pub mod gateway;
pub mod http;
pub mod links;
pub mod paykka;
pub mod pockyt;
pub mod provider;
pub mod registry;
pub mod secret;
pub mod settings;
pub mod text;
pub mod vexora;

pub use error::{GatewayError, ValidationError};
pub use paydesk_types::status::{
    Balances, MovementKind, MovementStatus, PaymentReport, PaymentStatus, RefundState, RefundStatus,
};
pub use paydesk_types::{money, scrub, status};
pub use paydesk_types::{Currency, Money, RuleId};
pub use secret::ApiSecret;

/// Every provider Paydesk speaks, in the order they are offered; the first is the default.
pub static PROVIDERS: &[&dyn provider::Provider] = &[&pockyt::PROVIDER, &paykka::PROVIDER, &vexora::PROVIDER];
