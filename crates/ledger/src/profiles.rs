use crate::{now, Ledger, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// A merchant profile: everything but the secret, which lives in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRow {
    pub name: String,
    pub provider: String,
    pub environment: String,
    pub base_url: String,
    pub merchant_no: String,
    pub store_no: String,
    pub ipn_url: Option<String>,
    pub callback_url: Option<String>,
    /// ADDR:PORT for the local IPN listener; None leaves it off for this profile.
    #[serde(default)]
    pub ipn_listen: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<ProfileRow> {
    Ok(ProfileRow {
        name: r.get("name")?,
        provider: r.get("provider")?,
        environment: r.get("environment")?,
        base_url: r.get("base_url")?,
        merchant_no: r.get("merchant_no")?,
        store_no: r.get("store_no")?,
        ipn_url: r.get("ipn_url")?,
        callback_url: r.get("callback_url")?,
        ipn_listen: r.get("ipn_listen")?,
    })
}

impl Ledger {
    pub fn save_profile(&self, p: &ProfileRow) -> Result<()> {
        let at = now();
        self.conn.execute(
            "INSERT INTO profiles (name, provider, environment, base_url, merchant_no, store_no, ipn_url, callback_url, ipn_listen, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT(name) DO UPDATE SET provider=excluded.provider, environment=excluded.environment,
               base_url=excluded.base_url, merchant_no=excluded.merchant_no, store_no=excluded.store_no,
               ipn_url=excluded.ipn_url, callback_url=excluded.callback_url, ipn_listen=excluded.ipn_listen,
               updated_at=excluded.updated_at",
            params![
                p.name,
                p.provider,
                p.environment,
                p.base_url,
                p.merchant_no,
                p.store_no,
                p.ipn_url,
                p.callback_url,
                p.ipn_listen,
                at
            ],
        )?;
        Ok(())
    }

    pub fn profile(&self, name: &str) -> Result<Option<ProfileRow>> {
        Ok(self.conn.query_row("SELECT * FROM profiles WHERE name = ?1", [name], from_row).optional()?)
    }

    pub fn profiles(&self) -> Result<Vec<ProfileRow>> {
        let mut stmt = self.conn.prepare("SELECT * FROM profiles ORDER BY name")?;
        let rows = stmt.query_map([], from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Removes the profile only; its payments and events stay in the ledger.
    pub fn remove_profile(&self, name: &str) -> Result<bool> {
        Ok(self.conn.execute("DELETE FROM profiles WHERE name = ?1", [name])? > 0)
    }
}
