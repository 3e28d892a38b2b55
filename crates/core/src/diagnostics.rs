//! What a shop can send its provider's support when a profile does not connect: Test
//! connection's verdict in plain words, the clock skew to the provider, and the scrubbed
//! exchanges (ActiveMerchant's transcripts): no secret and no signature, ever.

use crate::error::AppError;
use crate::payments::Paydesk;
use paydesk_gateways::gateway::{Exchange, PaymentRef};
use paydesk_gateways::GatewayError;
use serde::Serialize;
use serde_json::{json, Value};

/// The reference Test connection asks about: one no sale can ever have.
pub const PROBE_REFERENCE: &str = "PAYDESK-CONNECTION-TEST";

/// Past this, a provider that signs with timestamps (five minutes is usual) refuses the calls.
const CLOCK_TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// Test connection, whole.
#[derive(Debug, Serialize)]
pub struct ConnectionTest {
    pub profile: String,
    pub ok: bool,
    /// `connected`, `unreachable`, `tls`, `wrong_merchant`, `signature_refused`,
    /// `clock_off`, `unexpected_answer`, `refused` or `invalid_settings`.
    pub diagnosis: &'static str,
    pub message: String,
    /// The provider's clock minus this computer's, from its answer's `Date` (to a second).
    pub clock_skew_ms: Option<i64>,
    /// Each request and answer of the test, scrubbed.
    pub exchanges: Vec<Value>,
    #[serde(skip)]
    refusal: Option<(String, String)>,
    #[serde(skip)]
    error: Option<GatewayError>,
}

impl ConnectionTest {
    /// The verdict as Test connection has always answered: the message, or the error.
    pub fn into_result(self) -> Result<String, AppError> {
        match (self.ok, self.refusal, self.error) {
            (true, _, _) => Ok(self.message),
            (false, Some((code, _)), _) => Err(AppError::ProviderRejected { code, message: self.message }),
            (false, None, Some(e)) => Err(e.into()),
            (false, None, None) => Err(AppError::Internal { message: self.message }),
        }
    }
}

/// An exchange as support may read it: signatures removed at any depth, bodies as sent.
pub fn scrubbed(exchange: &Exchange) -> Value {
    paydesk_gateways::scrub::without_signatures(&json!({
        "method": exchange.method, "path": exchange.path, "headers": exchange.headers, "body": exchange.body,
        "http_status": exchange.http_status, "response": exchange.response, "server_date": exchange.server_date,
    }))
}

/// An HTTP `Date` ("Sat, 05 Dec 2026 08:30:00 GMT"), always in GMT.
const HTTP_DATE: &str = "%a, %d %b %Y %H:%M:%S GMT";

/// The provider's clock minus ours, from an HTTP `Date`.
fn clock_skew_ms(server_date: Option<&str>) -> Option<i64> {
    let theirs = jiff::civil::DateTime::strptime(HTTP_DATE, server_date?).ok()?;
    let theirs = theirs.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(theirs.as_millisecond() - jiff::Timestamp::now().as_millisecond())
}

fn refuses_only_in_words(provider: &str) -> bool {
    paydesk_gateways::registry::provider(provider).is_some_and(|p| p.refuses_only_in_words())
}

/// What the answer to the probe says, in words a shop owner can act on.
fn judge(
    provider: &str,
    result: &Result<paydesk_gateways::PaymentReport, GatewayError>,
    skew: Option<i64>,
) -> (&'static str, String) {
    let off = skew.filter(|s| s.abs() > CLOCK_TOLERANCE_MS);
    let clock = |why: &str| {
        let by = off.map(|s| format!(" by {} s", s.abs() / 1000)).unwrap_or_default();
        format!("{why}: this computer's clock is off{by}. Set the date and time automatically, then test again.")
    };
    match result {
        Ok(_) => ("connected", "the provider answered our signed query".into()),
        Err(e @ GatewayError::Rejected { code, message, .. }) => {
            let lower = message.to_lowercase();
            if off.is_some() || code == "206004" || lower.contains("expired") || lower.contains("timestamp") {
                ("clock_off", clock(&format!("refused ({code}: {message})")))
            } else if lower.contains("merchant") || code == "206005" {
                ("wrong_merchant", format!("refused ({code}: {message}): check the merchant numbers in the profile"))
            } else if e.is_unknown_transaction() || (refuses_only_in_words(provider) && !e.refuses_the_caller()) {
                ("connected", format!("signature accepted (asked for a reference that cannot exist: {code} {message})"))
            } else if e.refuses_the_caller() || matches!(code.as_str(), "000022" | "206002" | "206003") {
                (
                    "signature_refused",
                    format!("refused ({code}: {message}): the saved secret does not match this merchant"),
                )
            } else {
                ("refused", format!("refused ({code}: {message})"))
            }
        }
        Err(GatewayError::Unreachable { message, .. }) => {
            let lower = message.to_lowercase();
            if ["certificate", "tls", "ssl", "handshake"].iter().any(|w| lower.contains(w)) {
                ("tls", format!("the secure connection failed ({message}): check the address and the computer's date"))
            } else {
                ("unreachable", format!("no answer ({message}): check the base URL, the network and any firewall"))
            }
        }
        Err(GatewayError::Protocol { message, .. }) => {
            ("unexpected_answer", format!("an answer Paydesk cannot read: {message}"))
        }
        Err(e) => ("invalid_settings", e.to_string()),
    }
}

impl Paydesk {
    /// Checks the profile's URL, merchant and secret with a harmless signed query, and says
    /// what its answer means. The exchanges are kept in the ledger for `profile transcript`.
    pub async fn diagnose_connection(&self, name: &str) -> Result<ConnectionTest, AppError> {
        let profile = self.profile(name)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.query(PaymentRef { reference: PROBE_REFERENCE, transaction_no: None }).await;
        self.log_probe(&profile.name, &outcome.exchange)?;
        let skew = outcome.exchange.as_ref().and_then(|e| clock_skew_ms(e.server_date.as_deref()));
        let (diagnosis, said) = judge(&profile.provider, &outcome.result, skew);
        let ok = diagnosis == "connected";
        let to = format!("{} as {}", profile.base_url, profile.account_label());
        let message = if ok { format!("Connected to {to}: {said}") } else { format!("{to}: {said}") };
        let refusal = match &outcome.result {
            Err(GatewayError::Rejected { code, message, .. }) => Some((code.clone(), message.clone())),
            _ => None,
        };
        Ok(ConnectionTest {
            profile: profile.name.clone(),
            ok,
            diagnosis,
            message,
            clock_skew_ms: skew,
            exchanges: outcome.exchange.iter().map(scrubbed).collect(),
            refusal,
            error: outcome.result.err(),
        })
    }

    /// Test connection's verdict: a sentence, or the error that says what is wrong.
    pub async fn test_connection(&self, name: &str) -> Result<String, AppError> {
        self.diagnose_connection(name).await?.into_result()
    }

    /// Keeps a probe's exchange in the ledger, marked with its profile (it has no payment).
    fn log_probe(&self, profile: &str, exchange: &Option<Exchange>) -> Result<(), AppError> {
        let Some(exchange) = exchange else { return Ok(()) };
        let detail = json!({"profile": profile, "exchange": scrubbed(exchange)});
        crate::blocking(|| Ok(self.ledger().append_event(None, "probe", &detail)?))
    }

    /// The last `last` exchanges of a profile with its provider (its payments' requests and
    /// answers, and its connection tests), oldest first, scrubbed: what support asks for.
    pub fn transcript(&self, name: &str, last: usize) -> Result<Vec<Value>, AppError> {
        self.profile(name)?;
        let last = last.clamp(1, 500);
        crate::blocking(|| {
            let events = self.ledger().provider_exchanges(name, (last * 2) as i64)?;
            let mut exchanges: Vec<Value> = Vec::new();
            // Newest first: a response is met before its request.
            let mut answer: Option<Value> = None;
            for e in events {
                let reference = e.payment_id;
                match e.kind.as_str() {
                    "probe" if e.detail["profile"] == name => {
                        let mut x = e.detail["exchange"].clone();
                        x["at"] = json!(e.at);
                        x["test_connection"] = json!(true);
                        exchanges.push(x);
                    }
                    "response" => answer = Some(e.detail.clone()),
                    "request" => {
                        let mut x = paydesk_gateways::scrub::without_signatures(&e.detail);
                        x["at"] = json!(e.at);
                        x["payment_id"] = json!(reference);
                        if let Some(a) = answer.take().filter(|a| a["path"] == e.detail["path"]) {
                            x["http_status"] = a["http_status"].clone();
                            x["response"] = paydesk_gateways::scrub::without_signatures(&a["body"]);
                        }
                        exchanges.push(x);
                    }
                    _ => {}
                }
                if exchanges.len() == last {
                    break;
                }
            }
            exchanges.reverse();
            Ok(exchanges)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_read_from_the_answers_date() {
        let now = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(7);
        let skew = clock_skew_ms(Some(&now.strftime(HTTP_DATE).to_string())).unwrap();
        assert_eq!(clock_skew_ms(Some("Sat, 05 Dec 2026 08:30:00 GMT")).map(|s| s != 0), Some(true));
        assert!((skew - 7 * 60 * 1000).abs() < 2000, "{skew}");
        assert_eq!(clock_skew_ms(Some("yesterday")), None);
    }

    #[test]
    fn each_answer_is_named_in_plain_words() {
        let refused = |code: &str, message: &str| {
            Err(GatewayError::Rejected {
                provider: "PayKKa",
                code: code.into(),
                message: message.into(),
                transient: false,
            })
        };
        assert_eq!(judge("paykka", &refused("206024", "order does not exist"), None).0, "connected");
        assert_eq!(judge("paykka", &refused("206003", "signature error"), None).0, "signature_refused");
        assert_eq!(judge("paykka", &refused("206004", "signature expired"), None).0, "clock_off");
        assert_eq!(judge("paykka", &refused("206005", "merchant does not exist"), None).0, "wrong_merchant");
        let pockyt_merchant = Err(GatewayError::Rejected {
            provider: "Pockyt",
            code: "000021".into(),
            message: "merchantNo/storeNo has no related information".into(),
            transient: false,
        });
        assert_eq!(
            judge("pockyt", &pockyt_merchant, None).0,
            "wrong_merchant",
            "000021 about the merchant, not the sale"
        );
        let far = Some(20 * 60 * 1000);
        assert_eq!(judge("paykka", &refused("206003", "signature error"), far).0, "clock_off");
        let unreachable = Err(GatewayError::Unreachable { provider: "PayKKa", message: "Connection refused".into() });
        assert_eq!(judge("paykka", &unreachable, None).0, "unreachable");
        let tls = Err(GatewayError::Unreachable { provider: "PayKKa", message: "invalid peer certificate".into() });
        assert_eq!(judge("paykka", &tls, None).0, "tls");
        let odd = Err(GatewayError::Protocol { provider: "PayKKa", message: "data: missing field `status`".into() });
        assert!(judge("paykka", &odd, None).1.contains("status"), "names the field");
    }
}
