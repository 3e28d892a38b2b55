use crate::db::{args, Row};
use crate::{now, Ledger, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A merchant profile: everything but the secret, which lives in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRow {
    pub name: String,
    pub provider: String,
    pub environment: String,
    pub base_url: String,
    /// Provider-specific settings (merchant_no, store_no...); never a secret.
    pub settings: BTreeMap<String, String>,
    pub ipn_url: Option<String>,
    pub callback_url: Option<String>,
    /// ADDR:PORT for the local notification listener; None leaves it off for this profile.
    #[serde(default)]
    pub ipn_listen: Option<String>,
    /// Its provider, links and notification URLs may be on the shop's private network.
    #[serde(default)]
    pub private_network: bool,
    /// The shop it sells for (several shops may share one ledger).
    #[serde(default = "main_shop")]
    pub shop: String,
}

/// The shop of a ledger that has only one.
pub const MAIN_SHOP: &str = "main";

fn main_shop() -> String {
    MAIN_SHOP.into()
}

fn from_row(r: &Row) -> Result<ProfileRow> {
    Ok(ProfileRow {
        name: r.get("name")?,
        provider: r.get("provider")?,
        environment: r.get("environment")?,
        base_url: r.get("base_url")?,
        settings: {
            let text: String = r.get("settings")?;
            serde_json::from_str(&text).unwrap_or_default()
        },
        ipn_url: r.get("ipn_url")?,
        callback_url: r.get("callback_url")?,
        ipn_listen: r.get("ipn_listen")?,
        private_network: r.get::<i64>("private_network")? != 0,
        shop: r.get("shop")?,
    })
}

impl Ledger {
    pub fn save_profile(&self, p: &ProfileRow) -> Result<()> {
        let at = now();
        self.write_one(
            "INSERT INTO profiles (name, provider, environment, base_url, merchant_no, store_no, ipn_url, callback_url, ipn_listen, settings, private_network, shop, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?13, ?11, ?11)
             ON CONFLICT(name) DO UPDATE SET provider=excluded.provider, environment=excluded.environment,
               base_url=excluded.base_url, merchant_no=excluded.merchant_no, store_no=excluded.store_no,
               ipn_url=excluded.ipn_url, callback_url=excluded.callback_url, ipn_listen=excluded.ipn_listen,
               settings=excluded.settings, private_network=excluded.private_network, shop=excluded.shop,
               updated_at=excluded.updated_at",
            args![
                &p.name,
                &p.provider,
                &p.environment,
                &p.base_url,
                // The columns of schema 1, kept filled where a profile has those settings.
                p.settings.get("merchant_no").map(String::as_str).unwrap_or(""),
                p.settings.get("store_no").map(String::as_str).unwrap_or(""),
                &p.ipn_url,
                &p.callback_url,
                &p.ipn_listen,
                serde_json::to_string(&p.settings).expect("string map"),
                at,
                i64::from(p.private_network),
                &p.shop
            ],
        )?;
        Ok(())
    }

    pub fn profile(&self, name: &str) -> Result<Option<ProfileRow>> {
        self.db.query_opt("SELECT * FROM profiles WHERE name = ?1", args![name])?.map(|r| from_row(&r)).transpose()
    }

    pub fn profiles(&self) -> Result<Vec<ProfileRow>> {
        self.db.query("SELECT * FROM profiles ORDER BY name", vec![])?.iter().map(from_row).collect()
    }

    /// Removes the profile only; its payments and events stay in the ledger.
    pub fn remove_profile(&self, name: &str) -> Result<bool> {
        Ok(self.write_one("DELETE FROM profiles WHERE name = ?1", args![name])? > 0)
    }
}
