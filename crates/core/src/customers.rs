//! Registered customers: sent to the provider, kept in the ledger per profile.

use crate::{AppError, Paydesk};
use paydesk_gateways::gateway::customers::{Customer, CustomerFields, CustomerKey};
use paydesk_ledger::CustomerRow;

impl Paydesk {
    fn keep(&self, profile: &str, customer: &Customer) -> Result<CustomerRow, AppError> {
        crate::blocking(|| {
            let data = serde_json::to_value(customer).map_err(|e| AppError::Internal { message: e.to_string() })?;
            Ok(self.ledger().save_customer(profile, &customer.customer_no, &data)?)
        })
    }

    /// Registers a customer (names, email and country required; state for the US).
    pub async fn create_customer(&self, profile: &str, fields: &CustomerFields) -> Result<CustomerRow, AppError> {
        let mut fields = fields.clone();
        fields.country_code = fields.country_code.map(|c| c.trim().to_ascii_uppercase());
        let problems = fields.problems_for_create().into_iter().map(AppError::from).collect();
        if let Some(all) = AppError::invalid_all(problems) {
            return Err(all);
        }
        let profile = self.profile(profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.customer_create(&fields).await;
        self.log_exchange(None, &outcome.exchange)?;
        self.keep(&profile.name, &outcome.result?)
    }

    /// Looks a customer up at the provider (by number, or by the shop's own code) and
    /// refreshes the ledger's copy.
    pub async fn get_customer(&self, profile: &str, key: &CustomerKey) -> Result<CustomerRow, AppError> {
        let profile = self.profile(profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.customer_retrieve(key).await;
        self.log_exchange(None, &outcome.exchange)?;
        self.keep(&profile.name, &outcome.result?)
    }

    /// Changes contact details only.
    pub async fn update_customer(
        &self,
        profile: &str,
        customer_no: &str,
        changes: &CustomerFields,
    ) -> Result<CustomerRow, AppError> {
        let mut changes = changes.clone();
        changes.country_code = changes.country_code.map(|c| c.trim().to_ascii_uppercase());
        let problems = changes.problems_given().into_iter().map(AppError::from).collect();
        if let Some(all) = AppError::invalid_all(problems) {
            return Err(all);
        }
        if changes.to_params().is_empty() {
            return Err(AppError::invalid("changes", "give at least one field to update"));
        }
        let profile = self.profile(profile)?;
        let gateway = self.gateway_for(&profile)?;
        let outcome = gateway.customer_update(customer_no, &changes).await;
        self.log_exchange(None, &outcome.exchange)?;
        self.keep(&profile.name, &outcome.result?)
    }

    pub fn customers(&self, profile: Option<&str>, text: Option<&str>) -> Result<Vec<CustomerRow>, AppError> {
        Ok(self.ledger().customers(profile, text.filter(|t| !t.trim().is_empty()))?)
    }
}
