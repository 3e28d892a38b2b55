//! Pockyt (formerly Yuansfer): JSON over POST, every value a string, MD5 `verifySign`.

pub mod client;
pub mod customers;
pub mod gateway;
pub mod rules;
pub mod signing;
pub mod status;
pub mod transformers;

pub use gateway::PROVIDER;

pub use client::PockytClient;
pub use customers::*;
pub use transformers::*;

/// Production base URL.
pub const PRODUCTION_URL: &str = "https://mapi.yuansfer.com";
/// Sandbox base URL given by the current docs.
pub const SANDBOX_URL: &str = "https://mapi.yuansferdev.com";

pub const SECURE_PAY_PATH: &str = "/online/v3/secure-pay";
pub const TRAN_QUERY_PATH: &str = "/app-data-search/v3/tran-query";
pub const COUNTER_QR_PATH: &str = "/app-instore/v3/create-trans-qrcode";
pub const REFUND_PATH: &str = "/app-data-search/v3/refund";
pub const CANCEL_PATH: &str = "/app-data-search/v3/cancel";
pub const CUSTOMER_CREATE_PATH: &str = "/v1/customers/create";
pub const CUSTOMER_RETRIEVE_PATH: &str = "/v1/customers/retrieve";
pub const CUSTOMER_UPDATE_PATH: &str = "/v1/customers/update";

/// `ret_code` meaning success; nothing else is.
pub const RET_SUCCESS: &str = "000100";

/// Link schemes Pockyt's counter QR may return besides https: WeChat Pay's `weixin:`.
pub const WALLET_LINK_SCHEMES: &[&str] = &["weixin"];

/// Pockyt's documented example merchant (public test values from its signing docs, not a
/// secret): the demo profile and the sandbox use it.
pub mod test_merchant {
    pub const MERCHANT_NO: &str = "200043";
    pub const STORE_NO: &str = "300014";
    pub const TOKEN: &str = "5cbfb079f15b150122261c8537086d77a";
}
