use crate::Cached;
use crate::{now, Ledger, Result};
use rusqlite::{params, OptionalExtension, Row};
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

fn from_row(r: &Row<'_>) -> rusqlite::Result<CustomerRow> {
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
        self.conn.exec_cached(
            "INSERT INTO customers (profile, customer_no, customer_code, first_name, last_name, email, data, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT(profile, customer_no) DO UPDATE SET customer_code = excluded.customer_code,
               first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email,
               data = excluded.data, updated_at = excluded.updated_at",
            params![
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
        Ok(self
            .conn
            .row_cached(
                "SELECT * FROM customers WHERE profile = ?1 AND customer_no = ?2",
                params![profile, customer_no],
                from_row,
            )
            .optional()?)
    }

    /// Newest first; `text` matches names, email, customer number or code.
    pub fn customers(&self, profile: Option<&str>, text: Option<&str>) -> Result<Vec<CustomerRow>> {
        let like = text.map(|t| format!("%{}%", t.replace('%', "\\%").replace('_', "\\_")));
        let mut stmt = self.conn.prepare(
            "SELECT * FROM customers WHERE (?1 IS NULL OR profile = ?1)
               AND (?2 IS NULL OR first_name LIKE ?2 ESCAPE '\\' OR last_name LIKE ?2 ESCAPE '\\' OR email LIKE ?2 ESCAPE '\\'
                    OR customer_no LIKE ?2 ESCAPE '\\' OR customer_code LIKE ?2 ESCAPE '\\')
             ORDER BY updated_at DESC LIMIT 500",
        )?;
        let rows = stmt.query_map(params![profile, like], from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
