//! The filters `tx list` and `ledger export` share.

use crate::*;

/// Which payments: the shop's local days, and any of the other filters.
#[derive(clap::Args, Clone, Default)]
pub(crate) struct FilterArgs {
    /// today, yesterday, this_week, this_month (or give --from/--to).
    #[arg(long)]
    period: Option<String>,
    /// First local day, inclusive (2026-11-01).
    #[arg(long)]
    from: Option<String>,
    /// Last local day, inclusive.
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    provider: Option<String>,
    #[arg(long)]
    profile: Option<String>,
    /// Only this shop's payments (its profiles').
    #[arg(long)]
    shop: Option<String>,
    /// qr, link, or a wallet (alipay).
    #[arg(long)]
    method: Option<String>,
    #[arg(long)]
    currency: Option<String>,
    #[arg(long)]
    min_amount: Option<String>,
    #[arg(long)]
    max_amount: Option<String>,
    /// The start of a reference, provider transaction number or customer number.
    #[arg(long, alias = "text")]
    search: Option<String>,
}

impl From<FilterArgs> for TxQuery {
    fn from(a: FilterArgs) -> Self {
        TxQuery {
            period: a.period,
            from: a.from,
            to: a.to,
            status: a.status,
            provider: a.provider,
            profile: a.profile,
            shop: a.shop,
            method: a.method,
            currency: a.currency,
            min_amount: a.min_amount,
            max_amount: a.max_amount,
            text: a.search,
            limit: None,
            after: None,
        }
    }
}
