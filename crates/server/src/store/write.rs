//! A write statement with its values, written once for both backends: PostgreSQL runs it
//! through sqlx on its pool, SQLite hands it to the one writer thread
//! ([`super::sqlite_writer`]), which runs it on its own connection without a hop per statement.

use std::borrow::Cow;

use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;

/// One bound value. The `None`s keep their type, which PostgreSQL needs for a NULL parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Int32(Option<i32>),
    Bool(Option<bool>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

/// An `INSERT`, `UPDATE` or `DELETE` with `$1`, `$2`, … placeholders and their values in order.
#[derive(Debug, Clone)]
pub struct Write {
    pub(super) sql: Cow<'static, str>,
    pub(super) values: Vec<Value>,
    /// Whether the backend keeps the prepared statement for the next call (false for the
    /// sweeps, which PostgreSQL must plan with their values).
    pub(super) persistent: bool,
}

impl Write {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Write {
        Write {
            sql: sql.into(),
            values: Vec::new(),
            persistent: true,
        }
    }

    /// Binds the next placeholder (`$1` first).
    #[must_use]
    pub fn bind(mut self, value: impl Into<Value>) -> Write {
        self.values.push(value.into());
        self
    }

    /// Keeps the statement prepared for later calls, or not.
    #[must_use]
    pub fn persistent(mut self, keep: bool) -> Write {
        self.persistent = keep;
        self
    }

    /// The statement as sqlx runs it on PostgreSQL.
    pub(super) fn into_postgres(self) -> Query<'static, Postgres, PgArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql)).persistent(self.persistent);
        for value in self.values {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Int32(v) => query.bind(v),
                Value::Bool(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Blob(v) => query.bind(v),
            };
        }
        query
    }
}

/// As SQLite stores it: integers (booleans as 0 and 1, as sqlx stores them), text, blobs.
impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Int(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Int32(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
            Value::Bool(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
            Value::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Blob(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            Value::Int(None)
            | Value::Int32(None)
            | Value::Bool(None)
            | Value::Text(None)
            | Value::Blob(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

macro_rules! value_from {
    ($variant:ident: $($ty:ty => |$v:ident| $e:expr),+ $(,)?) => {
        $(
            impl From<$ty> for Value {
                fn from($v: $ty) -> Value {
                    Value::$variant($e)
                }
            }
        )+
    };
}

value_from!(Int: i64 => |v| Some(v), Option<i64> => |v| v);
value_from!(Int32: i32 => |v| Some(v), Option<i32> => |v| v);
value_from!(Bool: bool => |v| Some(v), Option<bool> => |v| v);
value_from!(Text:
    &str => |v| Some(v.to_owned()),
    String => |v| Some(v),
    &String => |v| Some(v.clone()),
    Option<&str> => |v| v.map(str::to_owned),
    Option<String> => |v| v,
    &Option<String> => |v| v.clone(),
);
value_from!(Blob:
    &[u8] => |v| Some(v.to_vec()),
    Vec<u8> => |v| Some(v),
    &Vec<u8> => |v| Some(v.clone()),
    Option<Vec<u8>> => |v| v,
    &Option<Vec<u8>> => |v| v.clone(),
    Option<&[u8]> => |v| v.map(<[u8]>::to_vec),
);
