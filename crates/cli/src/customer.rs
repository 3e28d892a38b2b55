//! `customer …`: registered customers.

use crate::*;

#[derive(clap::Args)]
pub(crate) struct ContactArgs {
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Two letters, ISO 3166 (US needs --state).
    #[arg(long)]
    country_code: Option<String>,
    /// The shop's own id for this customer.
    #[arg(long)]
    customer_code: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    mobile_number: Option<String>,
    #[arg(long)]
    company: Option<String>,
    #[arg(long)]
    street: Option<String>,
    #[arg(long)]
    street2: Option<String>,
    #[arg(long)]
    city: Option<String>,
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    zip: Option<String>,
    #[arg(long)]
    country: Option<String>,
    /// yyyy-MM-dd
    #[arg(long)]
    date_of_birth: Option<String>,
    #[arg(long)]
    lang: Option<String>,
    /// INDIVIDUAL (the default) or BUSINESS.
    #[arg(long)]
    profile_type: Option<String>,
}

impl From<ContactArgs> for CustomerFields {
    fn from(a: ContactArgs) -> Self {
        CustomerFields {
            customer_code: a.customer_code,
            first_name: a.first_name,
            last_name: a.last_name,
            email: a.email,
            country_code: a.country_code,
            phone: a.phone,
            mobile_number: a.mobile_number,
            company: a.company,
            street: a.street,
            street2: a.street2,
            city: a.city,
            state: a.state,
            zip: a.zip,
            country: a.country,
            date_of_birth: a.date_of_birth,
            profile_type: a.profile_type,
            lang: a.lang,
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum CustomerCommand {
    Create {
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[command(flatten)]
        contact: ContactArgs,
    },
    /// Looks a customer up at the provider (by number, or --by-code for the shop's id).
    Get {
        customer: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[arg(long)]
        by_code: bool,
    },
    /// Changes contact details.
    Update {
        customer_no: String,
        #[arg(long, default_value = DEMO_PROFILE)]
        profile: String,
        #[command(flatten)]
        contact: ContactArgs,
    },
    /// Customers kept in the ledger.
    List {
        #[arg(long)]
        profile: Option<String>,
        #[arg(long)]
        search: Option<String>,
    },
    /// Erases a payer the counter kept for next time (by their mobile number). Payers are
    /// kept once per ledger, for every profile: the payer is erased for all of them.
    Forget {
        #[arg(long)]
        mobile: String,
        /// The profile the cashier sells with (checked; says where the request came from).
        #[arg(long)]
        profile: Option<String>,
    },
}

pub(crate) fn customer_text(c: &paydesk_ledger::CustomerRow) -> String {
    format!(
        "{}  {} {}  <{}>  code {}",
        c.customer_no,
        c.first_name.clone().unwrap_or_default(),
        c.last_name.clone().unwrap_or_default(),
        c.email.clone().unwrap_or_default(),
        c.customer_code.clone().unwrap_or_else(|| "-".into())
    )
}

pub(crate) async fn customer(cmd: CustomerCommand) -> Result<Output, AppError> {
    let paydesk = open()?;
    match cmd {
        CustomerCommand::Create { profile, contact } => {
            paydesk.ensure_demo(&profile).await?;
            let c = paydesk.create_customer(&profile, &contact.into()).await?;
            let text = customer_text(&c);
            out(to_json(&c), text)
        }
        CustomerCommand::Get { customer, profile, by_code } => {
            paydesk.ensure_demo(&profile).await?;
            let key = if by_code { CustomerKey::CustomerCode(customer) } else { CustomerKey::CustomerNo(customer) };
            let c = paydesk.get_customer(&profile, &key).await?;
            let text = customer_text(&c);
            out(to_json(&c), text)
        }
        CustomerCommand::Update { customer_no, profile, contact } => {
            paydesk.ensure_demo(&profile).await?;
            let c = paydesk.update_customer(&profile, &customer_no, &contact.into()).await?;
            let text = customer_text(&c);
            out(to_json(&c), text)
        }
        CustomerCommand::List { profile, search } => {
            let list = paydesk.customers(profile.as_deref(), search.as_deref())?;
            let text = list.iter().map(customer_text).collect::<Vec<_>>().join("\n");
            out(to_json(&list), text)
        }
        CustomerCommand::Forget { mobile, profile } => {
            if let Some(name) = &profile {
                paydesk.profile(name)?;
            }
            let forgotten = paydesk.forget_payer(&mobile)?;
            let text = if forgotten {
                say("payer {mobile} forgotten", &[("mobile", &mobile)])
            } else {
                say("nothing was kept for {mobile}", &[("mobile", &mobile)])
            };
            let mut doc = json!({"mobile": mobile, "forgotten": forgotten});
            if let Some(name) = profile {
                doc["profile"] = json!(name);
            }
            out(doc, text)
        }
    }
}
