//! Registered customers, for the providers that keep them (`Flow::Customers`): who they
//! are, the rules their fields follow, and how one is looked up. A provider maps these to its
//! own wire.

use crate::RuleId;
use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Contact fields, all optional so the same type serves create (with the required ones
/// checked) and update (only what changes).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CustomerFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl CustomerFields {
    /// Wire parameters: camelCase keys, empty values dropped.
    pub fn to_params(&self) -> BTreeMap<String, String> {
        let v = serde_json::to_value(self).expect("plain strings");
        v.as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.trim().to_string())))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Every field with its longest allowed value, in characters.
    fn lengths(&self) -> [(&'static str, &Option<String>, usize); 17] {
        [
            ("customer_code", &self.customer_code, 64),
            ("first_name", &self.first_name, 64),
            ("last_name", &self.last_name, 64),
            ("email", &self.email, 128),
            ("country_code", &self.country_code, 2),
            ("phone", &self.phone, 32),
            ("mobile_number", &self.mobile_number, 32),
            ("company", &self.company, 128),
            ("street", &self.street, 128),
            ("street2", &self.street2, 128),
            ("city", &self.city, 64),
            ("state", &self.state, 64),
            ("zip", &self.zip, 16),
            ("country", &self.country, 64),
            ("date_of_birth", &self.date_of_birth, 10),
            ("profile_type", &self.profile_type, 16),
            ("lang", &self.lang, 16),
        ]
    }

    /// Checks the rules every field given must follow (create and update alike).
    /// Every rule a given field breaks (create and update alike), one problem per field.
    pub fn problems_given(&self) -> Vec<ValidationError> {
        let mut problems = Vec::new();
        for (field, value, max) in self.lengths() {
            if let Some(v) = value {
                if let Err(e) = crate::text::check_line(field, v, max) {
                    problems.push(e);
                }
            }
        }
        let named = |problems: &Vec<ValidationError>, field: &str| problems.iter().any(|p| p.field == field);
        if let Some(cc) = &self.country_code {
            if !named(&problems, "country_code") && (cc.len() != 2 || !cc.chars().all(|c| c.is_ascii_alphabetic())) {
                problems.push(
                    ValidationError::new("country_code", format!("must be 2 letters, ISO 3166 (got '{cc}')"))
                        .because(RuleId::CountryCode),
                );
            }
        }
        if let Some(email) = &self.email {
            let ok =
                email.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !email.contains(' '));
            if !ok && !named(&problems, "email") {
                problems.push(
                    ValidationError::new("email", format!("is not an email address (got '{email}')"))
                        .because(RuleId::Email),
                );
            }
        }
        if let Some(dob) = &self.date_of_birth {
            let date = jiff::civil::Date::strptime("%Y-%m-%d", dob).ok().filter(|_| dob.len() == 10);
            if date.is_none() && !named(&problems, "date_of_birth") {
                problems.push(ValidationError::new("date_of_birth", format!("must be yyyy-MM-dd (got '{dob}')")));
            }
        }
        problems
    }

    /// Create needs names, email and country; a US address needs its state. Every problem
    /// at once, in the form's order: a person fixes them in one go.
    pub fn problems_for_create(&self) -> Vec<ValidationError> {
        let required = [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("email", &self.email),
            ("country_code", &self.country_code),
        ];
        let mut problems: Vec<ValidationError> = required
            .into_iter()
            .filter(|(_, value)| given(value).is_none())
            .map(|(field, _)| {
                ValidationError::new(field, "is required to register a customer").because(RuleId::Required)
            })
            .collect();
        for p in self.problems_given() {
            if !problems.iter().any(|q| q.field == p.field) {
                problems.push(p);
            }
        }
        if given(&self.country_code).is_some_and(|c| c.eq_ignore_ascii_case("US")) && given(&self.state).is_none() {
            problems
                .push(ValidationError::new("state", "is required for customers in the US").because(RuleId::Required));
        }
        problems
    }
}

/// A field's value when it holds more than white space.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Which customer to retrieve.
#[derive(Debug, Clone)]
pub enum CustomerKey {
    CustomerNo(String),
    CustomerCode(String),
}

impl CustomerKey {
    pub fn to_params(&self) -> BTreeMap<String, String> {
        let (k, v) = match self {
            Self::CustomerNo(v) => ("customerNo", v),
            Self::CustomerCode(v) => ("customerCode", v),
        };
        BTreeMap::from([(k.to_string(), v.clone())])
    }
}

/// A registered customer as the provider keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub customer_no: String,
    #[serde(flatten)]
    pub fields: CustomerFields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_time: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> CustomerFields {
        CustomerFields {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            email: Some("ada@example.com".into()),
            country_code: Some("GB".into()),
            ..Default::default()
        }
    }

    /// A form gets every problem at once, in the form's order, one per field.
    #[test]
    fn every_problem_at_once() {
        let form = CustomerFields {
            first_name: Some("Ada".into()),
            email: Some("not an email".into()),
            country_code: Some("US".into()),
            zip: Some("9".repeat(40)),
            ..Default::default()
        };
        let fields: Vec<&str> = form.problems_for_create().iter().map(|p| p.field).collect();
        assert_eq!(fields, ["last_name", "zip", "email", "state"]);
        assert!(valid().problems_for_create().is_empty());
    }

    /// The first problem a form has (as the error names it).
    fn first_field(problems: Vec<ValidationError>) -> &'static str {
        problems.first().map(|p| p.field).expect("a problem")
    }

    #[test]
    fn create_rules_name_the_field() {
        assert!(valid().problems_for_create().is_empty());
        let mut us = valid();
        us.country_code = Some("US".into());
        assert_eq!(first_field(us.problems_for_create()), "state");
        us.state = Some("CA".into());
        assert!(us.problems_for_create().is_empty());
        let mut bad = valid();
        bad.email = Some("ada.example.com".into());
        assert_eq!(first_field(bad.problems_for_create()), "email");
        let mut bad = valid();
        bad.country_code = Some("GBR".into());
        assert_eq!(first_field(bad.problems_for_create()), "country_code");
        let mut bad = valid();
        bad.date_of_birth = Some("1815/12/10".into());
        assert_eq!(first_field(bad.problems_for_create()), "date_of_birth");
        let mut missing = valid();
        missing.last_name = None;
        assert_eq!(first_field(missing.problems_for_create()), "last_name");
        let mut long = valid();
        long.first_name = Some("A".repeat(100_000));
        assert_eq!(first_field(long.problems_for_create()), "first_name");
        let mut escape = valid();
        escape.city = Some("\u{1b}]0;pwned\u{7}".into());
        assert_eq!(first_field(escape.problems_given()), "city");
        let mut rtl = valid();
        rtl.last_name = Some("Love\u{202E}ecal".into());
        assert_eq!(first_field(rtl.problems_for_create()), "last_name");
    }

    #[test]
    fn params_are_camel_case_without_empties() {
        let mut f = valid();
        f.city = Some(" ".into());
        f.customer_code = Some("C-1".into());
        let p = f.to_params();
        assert_eq!(p["firstName"], "Ada");
        assert_eq!(p["customerCode"], "C-1");
        assert!(!p.contains_key("city"));
    }
}
