//! Payers recalled by mobile number at the counter (where the provider must know who pays). They live in
//! the ledger, never in the web view: kept `payer_days` (default 90) after their last sale,
//! recalled only by their exact number, erased on request (`customer forget --mobile`, the
//! counter's Forget button).

use crate::{AppError, Paydesk};
use paydesk_gateways::gateway::Payer;

impl Paydesk {
    fn payer_cutoff(&self) -> String {
        let days = crate::settings::LocalSettings::load(self.home()).payer_days.unwrap_or(crate::settings::PAYER_DAYS);
        let cutoff = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(days));
        cutoff.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// Keeps the payer of a sale for next time (nothing without a mobile number).
    pub fn remember_payer(&self, payer: &Payer) -> Result<(), AppError> {
        let Some(payer) = payer.clone().tidied() else { return Ok(()) };
        let Some(mobile) = payer.mobile.clone() else { return Ok(()) };
        let data = serde_json::to_value(&payer).expect("a payer serializes");
        let cutoff = self.payer_cutoff();
        crate::blocking(|| {
            let ledger = self.ledger();
            ledger.forget_payers_before(&cutoff)?;
            Ok(ledger.remember_payer(&mobile, &data)?)
        })
    }

    /// The payer kept under exactly this mobile number (those past their days are gone first).
    pub fn recall_payer(&self, mobile: &str) -> Result<Option<Payer>, AppError> {
        let mobile = mobile.trim().to_string();
        if mobile.is_empty() {
            return Ok(None);
        }
        let cutoff = self.payer_cutoff();
        crate::blocking(|| {
            let ledger = self.ledger();
            ledger.forget_payers_before(&cutoff)?;
            Ok(ledger.payer(&mobile)?.and_then(|v| serde_json::from_value(v).ok()))
        })
    }

    /// Erases the payer kept under this mobile number; whether there was one.
    pub fn forget_payer(&self, mobile: &str) -> Result<bool, AppError> {
        let mobile = mobile.trim().to_string();
        crate::blocking(|| Ok(self.ledger().forget_payer(&mobile)?))
    }

    /// Moves payers an older counter kept in its web view into the ledger (once); how many.
    pub fn import_payers(&self, payers: Vec<Payer>) -> Result<usize, AppError> {
        let mut kept = 0;
        for payer in payers.into_iter().take(500) {
            // Whatever the web view held is checked like typed text before it is kept.
            let sane = serde_json::to_string(&payer)
                .is_ok_and(|s| s.len() <= 2048 && !s.chars().any(paydesk_gateways::text::is_forbidden));
            if sane && payer.mobile.as_deref().is_some_and(|m| !m.trim().is_empty()) {
                self.remember_payer(&payer)?;
                kept += 1;
            }
        }
        Ok(kept)
    }
}
