//! HTTP client for Vexora: every body field a string, `timestamp` in milliseconds, `sign`
//! over the sorted fields with the app secret; the merchant in the `merchantNo` header.

use super::signing;
use super::transformers::parse_envelope;
use crate::gateway::{Exchange, Outcome};
use crate::ApiSecret;
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct VexoraClient {
    http: reqwest::Client,
    base_url: String,
    pub(crate) merchant_no: String,
    secret: ApiSecret,
}

impl std::fmt::Debug for VexoraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VexoraClient")
            .field("base_url", &self.base_url)
            .field("merchant_no", &self.merchant_no)
            .field("secret", &self.secret)
            .finish()
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl VexoraClient {
    pub fn new(http: reqwest::Client, base_url: &str, merchant_no: &str, secret: ApiSecret) -> Self {
        Self { http, base_url: base_url.trim_end_matches('/').to_string(), merchant_no: merchant_no.into(), secret }
    }

    pub(crate) fn secret(&self) -> &ApiSecret {
        &self.secret
    }

    /// Signs `fields` (with `timestamp` added) and posts them to `path` as JSON strings.
    pub async fn call<T: for<'de> serde::Deserialize<'de>>(
        &self,
        path: &str,
        mut fields: BTreeMap<String, String>,
    ) -> Outcome<T> {
        fields.retain(|_, v| !v.is_empty());
        fields.insert("timestamp".into(), now_ms().to_string());
        let sign = signing::sign(&fields, &self.secret);
        fields.insert(signing::SIGN_FIELD.into(), sign);
        let body = serde_json::to_value(&fields).unwrap_or_default();
        let headers: BTreeMap<String, String> = [
            ("content-type".to_string(), "application/json".to_string()),
            ("merchantNo".to_string(), self.merchant_no.clone()),
        ]
        .into_iter()
        .collect();
        let mut exchange = Exchange {
            method: "POST".into(),
            path: path.into(),
            headers: headers.clone(),
            body: body.clone(),
            http_status: None,
            response: None,
            server_date: None,
        };
        // The body as text and the headers once each: `.json()` would add a second Content-Type.
        let mut request = self.http.post(format!("{}{}", self.base_url, path)).body(body.to_string());
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let bytes = match crate::http::send(request, "Vexora", &mut exchange).await {
            Ok(answer) => answer.body,
            Err(e) => return Outcome { exchange: Some(exchange), result: Err(e) },
        };
        let result = crate::http::json_answer(&bytes, "Vexora", &mut exchange).and_then(|v| parse_envelope(&v));
        Outcome { exchange: Some(exchange), result }
    }
}
