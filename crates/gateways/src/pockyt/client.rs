//! HTTP client for Pockyt: adds merchantNo/storeNo, signs, posts JSON, reads the envelope.

use super::customers::*;
use super::transformers::*;
use super::*;
use crate::gateway::{Exchange, Outcome};
use crate::{ApiSecret, GatewayError};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct PockytClient {
    http: reqwest::Client,
    base_url: String,
    merchant_no: String,
    store_no: String,
    token: ApiSecret,
}

impl std::fmt::Debug for PockytClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PockytClient")
            .field("base_url", &self.base_url)
            .field("merchant_no", &self.merchant_no)
            .field("store_no", &self.store_no)
            .field("token", &self.token)
            .finish()
    }
}

impl PockytClient {
    pub fn new(base_url: &str, merchant_no: &str, store_no: &str, token: ApiSecret) -> Self {
        Self::with_http(crate::http::client(), base_url, merchant_no, store_no, token)
    }

    /// With a shared HTTP client (one per profile, reused for every call).
    pub fn with_http(
        http: reqwest::Client,
        base_url: &str,
        merchant_no: &str,
        store_no: &str,
        token: ApiSecret,
    ) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            merchant_no: merchant_no.into(),
            store_no: store_no.into(),
            token,
        }
    }

    /// Whether fields Pockyt sent carry a good `verifySign` for this merchant's token.
    pub fn verifies(&self, fields: &BTreeMap<String, String>) -> bool {
        signing::verify(fields, &self.token)
    }

    /// Adds the merchant fields and the signature to a request's parameters.
    pub fn signed_params(&self, mut params: BTreeMap<String, String>) -> BTreeMap<String, String> {
        params.insert("merchantNo".into(), self.merchant_no.clone());
        params.insert("storeNo".into(), self.store_no.clone());
        params.retain(|_, v| !v.is_empty());
        let sign = signing::sign(&params, &self.token);
        params.insert(signing::SIGN_FIELD.into(), sign);
        params
    }

    async fn call<T: for<'de> serde::Deserialize<'de>>(
        &self,
        path: &str,
        params: BTreeMap<String, String>,
    ) -> Outcome<T> {
        self.call_with(path, params, parse_envelope).await
    }

    async fn call_with<T>(
        &self,
        path: &str,
        params: BTreeMap<String, String>,
        parse: impl Fn(&Value) -> Result<T, GatewayError>,
    ) -> Outcome<T> {
        let request = self.signed_params(params);
        let body = serde_json::to_value(&request).expect("string map");
        let mut exchange = Exchange {
            method: "POST".into(),
            path: path.into(),
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body,
            http_status: None,
            response: None,
            server_date: None,
        };
        let url = format!("{}{}", self.base_url, path);
        let bytes = match crate::http::send(self.http.post(&url).json(&request), "Pockyt", &mut exchange).await {
            Ok(answer) => answer.body,
            Err(e) => return Outcome { exchange: Some(exchange), result: Err(e) },
        };
        let result = crate::http::json_answer(&bytes, "Pockyt", &mut exchange).and_then(|v| parse(&v));
        Outcome { exchange: Some(exchange), result }
    }

    pub async fn secure_pay(&self, req: &SecurePayRequest) -> Outcome<SecurePayResult> {
        self.call(SECURE_PAY_PATH, req.to_params()).await
    }

    pub async fn tran_query(&self, req: &TranQueryRequest) -> Outcome<TransactionInfo> {
        self.call(TRAN_QUERY_PATH, req.to_params()).await
    }

    pub async fn counter_qr(&self, req: &CounterQrRequest) -> Outcome<CounterQrResult> {
        self.call(COUNTER_QR_PATH, req.to_params()).await
    }

    pub async fn refund(&self, req: &RefundRequest) -> Outcome<RefundResult> {
        self.call(REFUND_PATH, req.to_params()).await
    }

    pub async fn cancel(&self, req: &TranQueryRequest) -> Outcome<CancelResult> {
        self.call_with(CANCEL_PATH, req.to_params(), |v| {
            // Some answers carry no result object at all: success is the ret_code.
            let mut v = v.clone();
            if v.get("result").is_none_or(Value::is_null) {
                v["result"] = serde_json::json!({});
            }
            parse_envelope(&v)
        })
        .await
    }

    fn with_timestamp(mut params: BTreeMap<String, String>) -> BTreeMap<String, String> {
        params.insert("timestamp".into(), customer_timestamp(jiff::Timestamp::now()));
        params
    }

    pub async fn customer_create(&self, fields: &CustomerFields) -> Outcome<Customer> {
        self.call_with(CUSTOMER_CREATE_PATH, Self::with_timestamp(fields.to_params()), parse_customer).await
    }

    pub async fn customer_retrieve(&self, key: &CustomerKey) -> Outcome<Customer> {
        self.call_with(CUSTOMER_RETRIEVE_PATH, Self::with_timestamp(key.to_params()), parse_customer).await
    }

    /// Updates contact data only (never payment credentials).
    pub async fn customer_update(&self, customer_no: &str, changes: &CustomerFields) -> Outcome<Customer> {
        let mut params = changes.to_params();
        params.insert("customerNo".into(), customer_no.into());
        self.call_with(CUSTOMER_UPDATE_PATH, Self::with_timestamp(params), parse_customer).await
    }
}
