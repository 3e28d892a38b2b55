//! What the ledger reads and writes, the same for both engines: owned values (money is
//! always an integer of minor units) and rows read by name or position.

use crate::{LedgerError, Result};
use std::sync::Arc;

/// A value sent to or read from the ledger. Money is always `Int` (minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// What the query builder hands over: the ledger binds only integers and text.
impl TryFrom<sea_query::Value> for Value {
    type Error = crate::LedgerError;
    fn try_from(v: sea_query::Value) -> crate::Result<Self> {
        use sea_query::Value as Q;
        Ok(match v {
            Q::String(Some(s)) => Value::Text(s),
            Q::BigInt(Some(n)) => Value::Int(n),
            Q::Int(Some(n)) => Value::Int(n.into()),
            Q::Unsigned(Some(n)) => Value::Int(n.into()),
            Q::BigUnsigned(Some(n)) => Value::Int(
                i64::try_from(n).map_err(|_| crate::LedgerError::Database(format!("{n} is past a 64-bit integer")))?,
            ),
            Q::String(None) | Q::BigInt(None) | Q::Int(None) | Q::Unsigned(None) | Q::BigUnsigned(None) => Value::Null,
            other => return Err(crate::LedgerError::Database(format!("the ledger binds no {other:?}"))),
        })
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}
impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Self {
        v.as_deref().into()
    }
}

/// The values of a statement, in placeholder order.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::rows::Value::from($v)),*] };
}
pub(crate) use args;

/// One row, by column name or position.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) names: Arc<Vec<String>>,
    pub(crate) values: Vec<Value>,
}

pub(crate) trait Column {
    fn position(&self, names: &[String]) -> Option<usize>;
}
impl Column for usize {
    fn position(&self, names: &[String]) -> Option<usize> {
        (*self < names.len()).then_some(*self)
    }
}
impl Column for &str {
    fn position(&self, names: &[String]) -> Option<usize> {
        names.iter().position(|n| n == self)
    }
}

pub(crate) trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}
impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl Row {
    pub(crate) fn get<T: FromValue>(&self, column: impl Column + std::fmt::Debug) -> Result<T> {
        let at = column
            .position(&self.names)
            .ok_or_else(|| LedgerError::Database(format!("the ledger has no column {column:?}")))?;
        T::from_value(&self.values[at]).ok_or_else(|| {
            LedgerError::Database(format!(
                "column {} holds {:?}, not a {}",
                self.names[at],
                self.values[at],
                std::any::type_name::<T>()
            ))
        })
    }
}

/// A row's cells borrowed where they lie: what a streaming export reads without copying
/// each value (SQLite hands out its own buffers; PostgreSQL's rows are already owned).
pub(crate) trait Cells {
    fn text(&self, i: usize) -> Result<Option<std::borrow::Cow<'_, str>>>;
    fn int(&self, i: usize) -> Result<Option<i64>>;
}

impl Cells for Row {
    fn text(&self, i: usize) -> Result<Option<std::borrow::Cow<'_, str>>> {
        match self.values.get(i) {
            Some(Value::Text(s)) => Ok(Some(s.as_str().into())),
            Some(Value::Null) => Ok(None),
            other => Err(LedgerError::Database(format!("column {i} holds {other:?}, not text"))),
        }
    }
    fn int(&self, i: usize) -> Result<Option<i64>> {
        match self.values.get(i) {
            Some(Value::Int(v)) => Ok(Some(*v)),
            Some(Value::Null) => Ok(None),
            other => Err(LedgerError::Database(format!("column {i} holds {other:?}, not a number"))),
        }
    }
}

impl Cells for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<Option<std::borrow::Cow<'_, str>>> {
        use rusqlite::types::ValueRef;
        Ok(match self.get_ref(i)? {
            ValueRef::Null => None,
            ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t)),
            ValueRef::Integer(v) => Some(v.to_string().into()),
            ValueRef::Real(v) => Some(v.to_string().into()),
        })
    }
    fn int(&self, i: usize) -> Result<Option<i64>> {
        use rusqlite::types::ValueRef;
        match self.get_ref(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(LedgerError::Database(format!("column {i} holds {other:?}, not a number"))),
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match (self, ty) {
            (Value::Null, _) => Ok(postgres::types::IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), _) => i.to_string().as_str().to_sql(ty, out),
            (Value::Text(t), &Type::INT8) => t.parse::<i64>()?.to_sql(ty, out),
            (Value::Text(t), _) => t.as_str().to_sql(ty, out),
        }
    }
    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        matches!(*ty, Type::INT8 | Type::INT4 | Type::INT2 | Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME)
            || ty.name() == "unknown"
    }
    postgres::types::to_sql_checked!();
}
