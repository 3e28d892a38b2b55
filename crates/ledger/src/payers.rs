//! Payers the counter recalls by mobile number (where the provider must know who pays): kept in the
//! ledger, private like the rest of it, each for a limited time after it was last used,
//! and erased on request. Never in the web view's storage.

use crate::db::args;
use crate::{now, Ledger, Result};
use serde_json::Value;

impl Ledger {
    /// Keeps (or refreshes) the payer with this mobile number.
    pub fn remember_payer(&self, mobile: &str, data: &Value) -> Result<()> {
        self.write_one(
            "INSERT INTO payers (mobile, data, last_used_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(mobile) DO UPDATE SET data = excluded.data, last_used_at = excluded.last_used_at",
            args![mobile, data.to_string(), now()],
        )?;
        Ok(())
    }

    /// The payer with exactly this mobile number, if one is kept.
    pub fn payer(&self, mobile: &str) -> Result<Option<Value>> {
        let row = self.db.query_opt("SELECT data FROM payers WHERE mobile = ?1", args![mobile])?;
        Ok(row.map(|r| r.get::<String>("data")).transpose()?.map(|d| serde_json::from_str(&d).unwrap_or(Value::Null)))
    }

    /// Erases the payer with this mobile number; whether one was kept.
    pub fn forget_payer(&self, mobile: &str) -> Result<bool> {
        Ok(self.write_one("DELETE FROM payers WHERE mobile = ?1", args![mobile])? > 0)
    }

    /// Erases every payer last used before `before` (RFC 3339); how many.
    pub fn forget_payers_before(&self, before: &str) -> Result<u64> {
        self.write_one("DELETE FROM payers WHERE last_used_at < ?1", args![before])
    }

    pub fn count_payers(&self) -> Result<i64> {
        self.db.query_one("SELECT count(*) AS n FROM payers", vec![])?.get("n")
    }
}
