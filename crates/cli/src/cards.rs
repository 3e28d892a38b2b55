//! Cards on file, recurring agreements and Apple Pay sessions.

use crate::*;

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// The shopper's cards on file, asked of the provider (and kept in the ledger).
    List {
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        shopper_reference: String,
    },
    /// Removes a card on file.
    Remove {
        token: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        shopper_reference: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum RecurringCommand {
    /// Cancels a shopper's recurring agreement.
    Cancel {
        agreement_id: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        shopper_reference: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum ApplePayCommand {
    /// An Apple Pay merchant session for a domain (no scheme, no port).
    Session {
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        domain: String,
        #[arg(long)]
        display_name: Option<String>,
    },
}

/// `token`, `recurring` and `applepay`: a shopper's saved cards and agreements.
pub(crate) async fn cards(cmd: CardCommand) -> Result<Output, AppError> {
    match cmd {
        CardCommand::Token(TokenCommand::List { profile, shopper_reference }) => {
            let paydesk = open()?;
            paydesk.ensure_demo(&profile).await?;
            let tokens = paydesk.tokens(&profile, &shopper_reference).await?;
            let text = tokens
                .iter()
                .map(|t| {
                    // The card in words first where the provider names it; the token stays, a
                    // removal needs it.
                    let card = match (&t.card_brand, &t.last4) {
                        (Some(brand), Some(last4)) => format!("{brand} **** {last4}"),
                        (None, Some(last4)) => format!("**** {last4}"),
                        _ => t.payment_method.clone(),
                    };
                    let expiry = t.expiry.as_deref().unwrap_or("-");
                    format!("{card}  {expiry}  {}  {}  {}", t.token_usage, t.status, t.token)
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(to_json(&tokens), text)
        }
        CardCommand::Token(TokenCommand::Remove { token, profile, shopper_reference }) => {
            let paydesk = open()?;
            paydesk.ensure_demo(&profile).await?;
            paydesk.remove_token(&profile, &shopper_reference, &token).await?;
            let text = say("removed card {token}", &[("token", &token)]);
            out(json!({"removed": token, "shopper_reference": shopper_reference}), text)
        }
        CardCommand::Recurring(RecurringCommand::Cancel { agreement_id, profile, shopper_reference }) => {
            let paydesk = open()?;
            paydesk.ensure_demo(&profile).await?;
            paydesk.cancel_recurring(&profile, &shopper_reference, &agreement_id).await?;
            out(
                json!({"cancelled": agreement_id, "shopper_reference": shopper_reference}),
                say("recurring agreement {agreement} cancelled", &[("agreement", &agreement_id)]),
            )
        }
        CardCommand::Applepay(ApplePayCommand::Session { profile, domain, display_name }) => {
            let paydesk = open()?;
            paydesk.ensure_demo(&profile).await?;
            let session = paydesk.apple_pay_session(&profile, &domain, display_name.as_deref()).await?;
            out(session.clone(), session.to_string())
        }
    }
}

/// The card commands, as `run` hands them over.
pub(crate) enum CardCommand {
    Token(TokenCommand),
    Recurring(RecurringCommand),
    Applepay(ApplePayCommand),
}
