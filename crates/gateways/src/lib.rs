//! Payment provider gateways.
//!
//! Each provider lives in its own module with the same shape:
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
pub use paydesk_types::{Currency, Money};
pub use secret::ApiSecret;
