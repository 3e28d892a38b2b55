//! Cards on file, recurring agreements and Apple Pay sessions, for the providers that
//! offer them. Cards seen are kept in the ledger, so the list reads offline and a removal
//! is an event.

use crate::{AppError, Paydesk};
use paydesk_gateways::text;
use paydesk_gateways::GatewayError;
use paydesk_gateways::RuleId;
use paydesk_ledger::TokenRow;

fn check_shopper(shopper: &str) -> Result<&str, AppError> {
    let shopper = shopper.trim();
    if shopper.is_empty() {
        return Err(AppError::invalid("shopper_reference", "is required").because(RuleId::Required));
    }
    text::check_line("shopper_reference", shopper, 64)?;
    Ok(shopper)
}

impl Paydesk {
    /// The shopper's cards, asked of the provider and kept in the ledger.
    pub async fn tokens(&self, profile: &str, shopper: &str) -> Result<Vec<TokenRow>, AppError> {
        let shopper = check_shopper(shopper)?;
        let profile = self.profile(profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.tokens(shopper).await;
        self.log_exchange(None, &outcome.exchange)?;
        let listed: Vec<TokenRow> = outcome
            .result?
            .into_iter()
            .map(|t| TokenRow {
                token: t.token.chars().take(128).collect(),
                payment_method: t.payment_method.chars().take(64).collect(),
                token_usage: t.token_usage.chars().take(64).collect(),
                status: t.status.chars().take(64).collect(),
                card_brand: t.card_info.as_ref().and_then(|c| c.brand()),
                last4: t.card_info.as_ref().and_then(|c| c.last_four()),
                expiry: t.card_info.as_ref().and_then(|c| c.expiry()),
            })
            .collect();
        crate::blocking(|| self.ledger().record_tokens(&profile.name, shopper, &listed))?;
        Ok(listed)
    }

    /// The shopper's cards as last seen, without asking the provider.
    pub fn tokens_offline(&self, profile: &str, shopper: &str) -> Result<Vec<TokenRow>, AppError> {
        let shopper = check_shopper(shopper)?;
        Ok(self.ledger().tokens(profile, shopper)?)
    }

    pub async fn remove_token(&self, profile: &str, shopper: &str, token: &str) -> Result<(), AppError> {
        let shopper = check_shopper(shopper)?;
        text::check_line("token", token, 128)?;
        let profile = self.profile(profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.remove_token(shopper, token).await;
        self.log_exchange(None, &outcome.exchange)?;
        // Accepted (perhaps with "No content"), or unanswered: the provider's own list says
        // whether the card is gone. A refusal is a refusal.
        let unanswered = match outcome.result {
            Ok(()) => None,
            Err(e @ (GatewayError::Rejected { .. } | GatewayError::Invalid(_) | GatewayError::Unsupported { .. })) => {
                return Err(e.into())
            }
            Err(e) => Some(e),
        };
        let listed = gateway.tokens(shopper).await;
        self.log_exchange(None, &listed.exchange)?;
        match (listed.result, unanswered) {
            (Ok(tokens), _) if tokens.iter().any(|t| t.token == token) => {
                return Err(AppError::ProviderRejected {
                    code: "still_listed".into(),
                    message: format!(
                        "{} still lists this card after the removal; nothing was changed here. Try again.",
                        profile.provider
                    ),
                })
            }
            (Ok(_), _) | (Err(_), None) => {}
            (Err(_), Some(e)) => return Err(e.into()),
        }
        crate::blocking(|| self.ledger().remove_token(&profile.name, shopper, token))?;
        Ok(())
    }

    pub async fn cancel_recurring(&self, profile: &str, shopper: &str, agreement: &str) -> Result<(), AppError> {
        let shopper = check_shopper(shopper)?;
        text::check_line("agreement_id", agreement, 128)?;
        if agreement.trim().is_empty() {
            return Err(AppError::invalid("agreement_id", "is required").because(RuleId::Required));
        }
        let profile = self.profile(profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.cancel_recurring(shopper, agreement.trim()).await;
        self.log_exchange(None, &outcome.exchange)?;
        outcome.result?;
        crate::blocking(|| {
            self.ledger().append_event(
                None,
                "recurring_cancelled",
                &serde_json::json!({"profile": profile.name, "shopper_reference": shopper, "agreement_id": agreement.trim()}),
            )
        })?;
        Ok(())
    }

    /// An Apple Pay merchant session; the domain is a bare host name (no scheme, no port),
    /// checked before anything is sent.
    pub async fn apple_pay_session(
        &self,
        profile: &str,
        domain: &str,
        display_name: Option<&str>,
    ) -> Result<serde_json::Value, AppError> {
        let domain = domain.trim();
        let bare = !domain.is_empty()
            && domain.len() <= 253
            && domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
            });
        if !bare {
            return Err(AppError::invalid(
                "domain",
                format!(
                    "a bare domain such as shop.example.com, with no scheme and no port (got '{}')",
                    domain.chars().take(80).collect::<String>()
                ),
            ));
        }
        if let Some(n) = display_name {
            text::check_line("display_name", n, 64)?;
        }
        let profile = self.profile(profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.apple_pay_session(domain, display_name).await;
        self.log_exchange(None, &outcome.exchange)?;
        Ok(outcome.result?)
    }
}
