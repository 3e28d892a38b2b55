use crate::db::{args, Row};
use crate::{now, Ledger, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A provider's customer as last seen, per profile. `data` is the full object received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub profile: String,
    pub customer_no: String,
    pub customer_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub data: Value,
    pub created_at: String,
    pub updated_at: String,
}

fn from_row(r: &Row) -> Result<CustomerRow> {
    let data: String = r.get("data")?;
    Ok(CustomerRow {
        profile: r.get("profile")?,
        customer_no: r.get("customer_no")?,
        customer_code: r.get("customer_code")?,
        first_name: r.get("first_name")?,
        last_name: r.get("last_name")?,
        email: r.get("email")?,
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

impl Ledger {
    pub fn save_customer(&self, profile: &str, customer_no: &str, data: &Value) -> Result<CustomerRow> {
        let text = |k: &str| data.get(k).and_then(Value::as_str).map(String::from);
        let at = now();
        self.write_one(
            "INSERT INTO customers (profile, customer_no, customer_code, first_name, last_name, email, data, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT(profile, customer_no) DO UPDATE SET customer_code = excluded.customer_code,
               first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email,
               data = excluded.data, updated_at = excluded.updated_at",
            args![
                profile,
                customer_no,
                text("customerCode"),
                text("firstName"),
                text("lastName"),
                text("email"),
                data.to_string(),
                at
            ],
        )?;
        Ok(self.customer(profile, customer_no)?.expect("row just written"))
    }

    pub fn customer(&self, profile: &str, customer_no: &str) -> Result<Option<CustomerRow>> {
        self.db
            .query_opt("SELECT * FROM customers WHERE profile = ?1 AND customer_no = ?2", args![profile, customer_no])?
            .map(|r| from_row(&r))
            .transpose()
    }

    /// Newest first; `text` matches names, email, customer number or code.
    pub fn customers(&self, profile: Option<&str>, text: Option<&str>) -> Result<Vec<CustomerRow>> {
        // Case-insensitive on both engines (SQLite's LIKE is; PostgreSQL's is not).
        let like = text.map(|t| format!("%{}%", t.to_lowercase().replace('%', "\\%").replace('_', "\\_")));
        self.db
            .query(
                "SELECT * FROM customers WHERE (CAST(?1 AS TEXT) IS NULL OR profile = ?1)
                   AND (CAST(?2 AS TEXT) IS NULL OR lower(first_name) LIKE ?2 ESCAPE '\\' OR lower(last_name) LIKE ?2 ESCAPE '\\'
                        OR lower(email) LIKE ?2 ESCAPE '\\' OR lower(customer_no) LIKE ?2 ESCAPE '\\'
                        OR lower(customer_code) LIKE ?2 ESCAPE '\\')
                 ORDER BY updated_at DESC LIMIT 500",
                args![profile, like],
            )?
            .iter()
            .map(from_row)
            .collect()
    }
}
