use crate::db::args;
use crate::payments::insert_event;
use crate::{now, Ledger, Result};
use serde::{Deserialize, Serialize};

/// A card on file as the provider last listed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub token: String,
    pub payment_method: String,
    pub token_usage: String,
    pub status: String,
    /// The card in words, where the provider gives them ("VISA", "4242", "03/27").
    #[serde(default)]
    pub card_brand: Option<String>,
    #[serde(default)]
    pub last4: Option<String>,
    #[serde(default)]
    pub expiry: Option<String>,
}

impl Ledger {
    /// Replaces what is known of a shopper's cards with the provider's list (cards no
    /// longer listed are marked removed).
    pub fn record_tokens(&self, profile: &str, shopper: &str, tokens: &[TokenRow]) -> Result<()> {
        let tx = self.write()?;
        let at = now();
        for t in tokens {
            self.db.execute(
                "INSERT INTO tokens (profile, shopper_reference, token, payment_method, token_usage, status, seen_at,
                   card_brand, last4, expiry)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (profile, token) DO UPDATE SET shopper_reference = excluded.shopper_reference,
                   payment_method = excluded.payment_method, token_usage = excluded.token_usage,
                   status = excluded.status, seen_at = excluded.seen_at, removed_at = NULL,
                   card_brand = COALESCE(excluded.card_brand, tokens.card_brand),
                   last4 = COALESCE(excluded.last4, tokens.last4), expiry = COALESCE(excluded.expiry, tokens.expiry)",
                args![
                    profile,
                    shopper,
                    &t.token,
                    &t.payment_method,
                    &t.token_usage,
                    &t.status,
                    &at,
                    &t.card_brand,
                    &t.last4,
                    &t.expiry
                ],
            )?;
        }
        let listed: Vec<&str> = tokens.iter().map(|t| t.token.as_str()).collect();
        let known: Vec<String> = self
            .db
            .query(
                "SELECT token FROM tokens WHERE profile = ?1 AND shopper_reference = ?2 AND removed_at IS NULL",
                args![profile, shopper],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_>>()?;
        for gone in known.iter().filter(|k| !listed.contains(&k.as_str())) {
            self.db.execute(
                "UPDATE tokens SET removed_at = ?3 WHERE profile = ?1 AND token = ?2",
                args![profile, gone, &at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A card removed at the provider: marked, and an event says so.
    pub fn remove_token(&self, profile: &str, shopper: &str, token: &str) -> Result<()> {
        let tx = self.write()?;
        self.db.execute(
            "UPDATE tokens SET removed_at = ?3 WHERE profile = ?1 AND token = ?2",
            args![profile, token, now()],
        )?;
        insert_event(
            self,
            None,
            "token_removed",
            &serde_json::json!({"profile": profile, "shopper_reference": shopper, "token": token}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The shopper's cards as last seen (removed ones left out), read offline.
    pub fn tokens(&self, profile: &str, shopper: &str) -> Result<Vec<TokenRow>> {
        self.db
            .query(
                "SELECT token, payment_method, token_usage, status, card_brand, last4, expiry FROM tokens
                 WHERE profile = ?1 AND shopper_reference = ?2 AND removed_at IS NULL ORDER BY seen_at, token",
                args![profile, shopper],
            )?
            .iter()
            .map(|r| {
                Ok(TokenRow {
                    token: r.get(0)?,
                    payment_method: r.get(1)?,
                    token_usage: r.get(2)?,
                    status: r.get(3)?,
                    card_brand: r.get(4)?,
                    last4: r.get(5)?,
                    expiry: r.get(6)?,
                })
            })
            .collect()
    }
}
