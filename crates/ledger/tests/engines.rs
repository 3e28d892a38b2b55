//! One ledger, two engines: after every migration, SQLite's file and PostgreSQL's schema hold
//! the same tables with the same columns (name, kind of value, whether it may be empty), so a
//! migration written for one and forgotten, or written differently, for the other fails here
//! (scripts/test starts a throwaway PostgreSQL and names it in PAYDESK_TEST_POSTGRES).

use postgres::{Client, NoTls};
use std::collections::BTreeMap;

/// Table → column → (kind, may be empty).
type Shape = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// The kind of value a declared type holds, in words both engines share.
fn kind(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let kind = if t.contains("int") || t == "serial" || t == "bigserial" {
        "integer"
    } else if t.contains("char") || t.contains("text") || t == "jsonb" || t == "json" {
        "text"
    } else if t.contains("bool") {
        "boolean"
    } else if t.contains("real") || t.contains("double") || t.contains("float") || t.contains("numeric") {
        "real"
    } else if t.contains("blob") || t == "bytea" {
        "bytes"
    } else {
        return format!("other ({t})");
    };
    kind.to_string()
}

fn sqlite_shape() -> Shape {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    drop(paydesk_ledger::Ledger::open(&path).unwrap());
    let db = rusqlite::Connection::open(&path).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut shape = Shape::new();
    for table in tables {
        let mut columns = BTreeMap::new();
        let mut info = db.prepare(&format!("PRAGMA table_info(\"{table}\")")).unwrap();
        let rows = info
            .query_map([], |r| {
                let (name, declared, not_null, pk): (String, String, bool, i64) =
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(5)?);
                Ok((name, declared, not_null || pk > 0))
            })
            .unwrap();
        for row in rows {
            let (name, declared, not_null) = row.unwrap();
            columns.insert(name, (kind(&declared), !not_null));
        }
        shape.insert(table, columns);
    }
    shape
}

fn postgres_shape() -> Shape {
    let server = std::env::var("PAYDESK_TEST_POSTGRES")
        .expect("PAYDESK_TEST_POSTGRES is not set: scripts/test starts a throwaway PostgreSQL for these tests");
    let name = format!("paydesk_shape_{}", rand::random::<u32>());
    Client::connect(&server, NoTls).unwrap().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    let mut client = Client::connect(&format!("{base}/{name}"), NoTls).unwrap();
    paydesk_ledger::postgres::migrate(&mut client).unwrap();
    let mut shape = Shape::new();
    for row in client
        .query(
            "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES'
             FROM information_schema.columns c
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'",
            &[],
        )
        .unwrap()
    {
        let (table, column, declared, nullable): (String, String, String, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        shape.entry(table).or_default().insert(column, (kind(&declared), nullable));
    }
    shape
}

/// Every table or column one engine has and the other lacks or holds differently.
fn differences(lite: &Shape, pg: &Shape) -> Vec<String> {
    let mut found = Vec::new();
    for table in lite.keys().chain(pg.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (Some(a), Some(b)) = (lite.get(table), pg.get(table)) else {
            let only = if lite.contains_key(table) { "SQLite" } else { "PostgreSQL" };
            found.push(format!("{table}: only in {only}"));
            continue;
        };
        for column in a.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>() {
            match (a.get(column), b.get(column)) {
                (Some(x), Some(y)) if x == y => {}
                (x, y) => found.push(format!("{table}.{column}: SQLite {x:?}, PostgreSQL {y:?}")),
            }
        }
    }
    found
}

#[test]
fn both_engines_hold_the_same_tables_and_columns() {
    let (mut lite, mut pg) = (sqlite_shape(), postgres_shape());
    // Each engine's own bookkeeping of its schema version (SQLite keeps it in a pragma).
    pg.remove("paydesk_schema");
    lite.remove("paydesk_schema");
    assert!(lite.len() >= 8 && lite.contains_key("payments") && lite.contains_key("events"), "{:?}", lite.keys());
    let columns: usize = lite.values().map(BTreeMap::len).sum();
    assert!(columns >= 60, "{columns} columns read");
    let found = differences(&lite, &pg);
    assert!(found.is_empty(), "the engines' schemas differ:\n{}", found.join("\n"));

    // The comparison sees a column one engine lacks, one that may be empty in only one, and
    // one of another kind.
    let mut spoiled = pg.clone();
    let payments = spoiled.get_mut("payments").unwrap();
    payments.remove("session_id");
    payments.get_mut("reference").unwrap().1 = true;
    payments.get_mut("amount_minor").unwrap().0 = "text".into();
    assert_eq!(differences(&lite, &spoiled).len(), 3, "{:?}", differences(&lite, &spoiled));
}
