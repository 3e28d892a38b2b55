//! One way for the ledger to speak SQL to either engine: the embedded SQLite file or a
//! shared PostgreSQL server. Fixed queries are written once, with `?N` placeholders and SQL
//! both engines accept; the accountant's filters are built with sea-query and rendered in
//! each engine's SQL (`build`). What differs (placeholders, forced join order, the schema's
//! version) is decided here; the prefix search's two forms are beside the filter. Values
//! and rows are owned, so the same code reads both.
//!
//! PostgreSQL's client runs on a thread of its own: its blocking client drives a private
//! runtime, which may not be started from inside the app's.

pub(crate) use crate::rows::{args, Cells, Row, Value};
use crate::{LedgerError, Result};
use std::collections::HashMap;
use std::sync::{mpsc, Arc};

/// Which engine, and how it is spoken to.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Pg),
}

impl Db {
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    /// Runs a statement; how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: Vec<Value>) -> Result<u64> {
        match self {
            Db::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute(rusqlite::params_from_iter(args))? as u64),
            Db::Postgres(pg) => {
                let sql = sql.to_string();
                pg.run(move |s| s.execute(&sql, &args))
            }
        }
    }

    /// Every row of a query.
    pub(crate) fn query(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>> {
        match self {
            Db::Sqlite(_) => {
                let mut rows = Vec::new();
                self.for_each(sql, args, |r| {
                    rows.push(r);
                    Ok(true)
                })?;
                Ok(rows)
            }
            // Every row is kept anyway: asked on the session's own connection (a stream's
            // connection of its own would cost a new server backend for each question).
            Db::Postgres(pg) => {
                let sql = sql.to_string();
                pg.run(move |s| s.query(&sql, &args))
            }
        }
    }

    pub(crate) fn query_opt(&self, sql: &str, args: Vec<Value>) -> Result<Option<Row>> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let names = Arc::new(stmt.column_names().into_iter().map(String::from).collect::<Vec<_>>());
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                Ok(match rows.next()? {
                    Some(r) => Some(sqlite_row(&names, r)?),
                    None => None,
                })
            }
            Db::Postgres(_) => Ok(self.query(sql, args)?.into_iter().next()),
        }
    }

    pub(crate) fn query_one(&self, sql: &str, args: Vec<Value>) -> Result<Row> {
        self.query_opt(sql, args)?.ok_or(LedgerError::NotFound)
    }

    /// Rows one at a time; `f` returns false to stop. Memory stays flat however many there
    /// are: SQLite steps through them; PostgreSQL sends them in chunks over a connection of
    /// the stream's own (so `f` may use the ledger meanwhile), except inside a write, whose
    /// own rows only its connection sees.
    /// Like [`Db::for_each`], with each row's cells borrowed: on SQLite nothing is copied.
    pub(crate) fn for_each_cells(
        &self,
        sql: &str,
        args: Vec<Value>,
        mut f: impl FnMut(&dyn Cells) -> Result<bool>,
    ) -> Result<()> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                while let Some(r) = rows.next()? {
                    if !f(r)? {
                        break;
                    }
                }
                Ok(())
            }
            Db::Postgres(_) => self.for_each(sql, args, |row| f(&row)),
        }
    }

    pub(crate) fn for_each(&self, sql: &str, args: Vec<Value>, mut f: impl FnMut(Row) -> Result<bool>) -> Result<()> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let names = Arc::new(stmt.column_names().into_iter().map(String::from).collect::<Vec<_>>());
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                while let Some(r) = rows.next()? {
                    if !f(sqlite_row(&names, r)?)? {
                        break;
                    }
                }
                Ok(())
            }
            Db::Postgres(pg) => {
                let (writing, target, snapshot) =
                    pg.run(|s| Ok((s.in_transaction, s.target.clone(), s.snapshot.clone())))?;
                if writing {
                    for row in self.query(sql, args)? {
                        if !f(row)? {
                            break;
                        }
                    }
                    return Ok(());
                }
                let sql = sql.to_string();
                let (chunks, arriving) = mpsc::sync_channel(2);
                std::thread::Builder::new()
                    .name("paydesk-ledger-stream".into())
                    .spawn(move || stream_rows(&target, snapshot.as_deref(), &sql, &args, &chunks))
                    .map_err(|e| LedgerError::Database(format!("cannot read the shared ledger: {e}")))?;
                // Stopping early drops `arriving`: the stream ends at its next chunk.
                for chunk in arriving {
                    for row in chunk? {
                        if !f(row)? {
                            return Ok(());
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Runs `read` on one snapshot of the ledger: every query inside sees the ledger as it
    /// was at the first, whatever others write meanwhile (SQLite: one read transaction;
    /// PostgreSQL: REPEATABLE READ, its snapshot shared with the streaming connections).
    pub(crate) fn read_snapshot<R>(&self, read: impl FnOnce() -> Result<R>) -> Result<R> {
        match self {
            Db::Sqlite(c) => {
                if !c.is_autocommit() {
                    // Already inside a transaction: that one is the snapshot.
                    return read();
                }
                c.execute_batch("BEGIN DEFERRED")?;
                let result = read();
                let _ = c.execute_batch("COMMIT");
                result
            }
            Db::Postgres(pg) => {
                if pg.run(|s| Ok(s.in_transaction))? {
                    return read();
                }
                pg.run(|s| {
                    s.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
                    let id = s.query("SELECT pg_export_snapshot() AS id", &[]).and_then(|rows| {
                        rows.first()
                            .map(|r| r.get::<String>("id"))
                            .transpose()?
                            .ok_or_else(|| LedgerError::Database("the shared ledger gave no snapshot".into()))
                    });
                    match id {
                        Ok(id) => {
                            s.snapshot = Some(id);
                            Ok(())
                        }
                        Err(e) => {
                            let _ = s.batch("ROLLBACK");
                            Err(e)
                        }
                    }
                })?;
                let result = read();
                pg.run(|s| {
                    s.snapshot = None;
                    let _ = s.batch("COMMIT");
                    Ok(())
                })?;
                result
            }
        }
    }

    /// Opens the outermost write transaction. SQLite takes the file's write lock at once;
    /// PostgreSQL takes the ledger's one writer lock at once (the chain's), so writers on
    /// every counter take turns the same way and a read-then-write never races another.
    pub(crate) fn begin(&self) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch("BEGIN IMMEDIATE")?),
            Db::Postgres(pg) => pg.run(|s| s.begin()),
        }
    }

    pub(crate) fn commit(&self) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch("COMMIT")?),
            Db::Postgres(pg) => pg.run(|s| s.end("COMMIT")),
        }
    }

    pub(crate) fn rollback(&self) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch("ROLLBACK")?),
            Db::Postgres(pg) => pg.run(|s| s.end("ROLLBACK")),
        }
    }

    /// Statements without values or rows (savepoints).
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(pg) => {
                let sql = sql.to_string();
                pg.run(move |s| s.batch(&sql))
            }
        }
    }

    /// Joins `table` (as `alias`) on `on`, in an order the planner keeps: SQLite's CROSS
    /// JOIN, whose condition goes in the WHERE (sea-query writes no ON for it); PostgreSQL
    /// plans its own.
    pub(crate) fn ordered_join(
        &self,
        select: &mut sea_query::SelectStatement,
        table: &'static str,
        alias: &'static str,
        on: sea_query::Expr,
    ) {
        if self.is_postgres() {
            select.join_as(sea_query::JoinType::InnerJoin, table, alias, on);
        } else {
            select.join_as(sea_query::JoinType::CrossJoin, table, alias, sea_query::Expr::cust("TRUE")).and_where(on);
        }
    }

    /// A statement built with sea-query, in this engine's SQL, with its values.
    pub(crate) fn build(&self, statement: &sea_query::SelectStatement) -> Result<(String, Vec<Value>)> {
        let (sql, values) = if self.is_postgres() {
            statement.build(sea_query::PostgresQueryBuilder)
        } else {
            statement.build(sea_query::SqliteQueryBuilder)
        };
        let values = values.into_iter().map(Value::try_from).collect::<Result<_>>()?;
        Ok((sql, values))
    }
}

/// Rows of PostgreSQL's query in chunks of `STREAM_CHUNK`, a portal inside a read
/// transaction of its own connection, until the reader stops taking them.
/// Inside `snapshot` when one is given (see `read_snapshot`).
fn stream_rows(
    target: &crate::postgres::Target,
    snapshot: Option<&str>,
    sql: &str,
    args: &[Value],
    out: &mpsc::SyncSender<Result<Vec<Row>>>,
) {
    const STREAM_CHUNK: i32 = 512;
    let run = || -> Result<()> {
        let mut client = target.connect()?;
        let mut tx = match snapshot {
            None => client.transaction().map_err(|e| target.error(e))?,
            Some(id) => {
                let mut tx = client
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .map_err(|e| target.error(e))?;
                // The id is the server's own (hex and dashes), never the user's.
                tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{}'", id.replace('\'', "")))
                    .map_err(|e| target.error(e))?;
                tx
            }
        };
        let statement = tx.prepare(&dollar_placeholders(sql)).map_err(|e| target.error(e))?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args.iter().map(|a| a as _).collect();
        let portal = tx.bind(&statement, &params).map_err(|e| target.error(e))?;
        let names = Arc::new(statement.columns().iter().map(|c| c.name().to_string()).collect::<Vec<_>>());
        loop {
            let rows = tx.query_portal(&portal, STREAM_CHUNK).map_err(|e| target.error(e))?;
            if rows.is_empty() {
                return Ok(());
            }
            let chunk = rows.iter().map(|r| pg_row(&names, r)).collect::<Result<Vec<_>>>()?;
            if out.send(Ok(chunk)).is_err() {
                return Ok(());
            }
        }
    };
    if let Err(e) = run() {
        let _ = out.send(Err(e));
    }
}

fn sqlite_row(names: &Arc<Vec<String>>, r: &rusqlite::Row<'_>) -> Result<Row> {
    use rusqlite::types::ValueRef;
    let values = (0..names.len())
        .map(|i| {
            Ok(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Real(f) => Value::Text(f.to_string()),
                ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Row { names: names.clone(), values })
}

/// `?N` placeholders as PostgreSQL writes them (`$N`). Only a `?` followed by a digit is
/// one, and never inside a string ('…'), a quoted name ("…"), a dollar-quoted body
/// ($$…$$ or $tag$…$tag$) or a comment (-- to the end of the line).
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    // Copies from `i` to the end of what opens at `i`, closed by `close`.
    let copy_until = |out: &mut String, i: usize, open: usize, close: &str| -> usize {
        let end = sql[i + open..].find(close).map(|at| i + open + at + close.len()).unwrap_or(sql.len());
        out.push_str(&sql[i..end]);
        end
    };
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => i = copy_until(&mut out, i, 1, "'"),
            b'"' => i = copy_until(&mut out, i, 1, "\""),
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = copy_until(&mut out, i, 2, "\n"),
            b'$' => {
                // A dollar-quote's tag: letters, digits and '_' between two '$'.
                let tag_len = sql[i + 1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
                match tag_len.filter(|n| bytes.get(i + 1 + n) == Some(&b'$')) {
                    Some(n) if n == 0 || !bytes[i + 1].is_ascii_digit() => {
                        let tag = &sql[i..i + n + 2];
                        i = copy_until(&mut out, i, tag.len(), tag);
                    }
                    _ => {
                        out.push('$');
                        i += 1;
                    }
                }
            }
            b'?' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                out.push('$');
                i += 1;
            }
            _ => {
                let next = sql[i..].chars().next().expect("within the text");
                out.push(next);
                i += next.len_utf8();
            }
        }
    }
    out
}

/// A connection to a PostgreSQL ledger, driven from a thread of its own.
pub(crate) struct Pg {
    jobs: mpsc::Sender<Box<dyn FnOnce(&mut PgSession) + Send>>,
}

impl Pg {
    /// Connects (and fails clearly when the server cannot be reached).
    pub(crate) fn connect(target: crate::postgres::Target) -> Result<Self> {
        let (jobs, inbox) = mpsc::channel::<Box<dyn FnOnce(&mut PgSession) + Send>>();
        std::thread::Builder::new()
            .name("paydesk-ledger-pg".into())
            .spawn(move || {
                let mut session = PgSession {
                    target,
                    client: None,
                    statements: HashMap::new(),
                    in_transaction: false,
                    snapshot: None,
                };
                for job in inbox {
                    job(&mut session);
                }
            })
            .map_err(|e| LedgerError::Database(format!("cannot start the shared ledger's connection: {e}")))?;
        let pg = Self { jobs };
        pg.run(|s| s.client().map(|_| ()))?;
        Ok(pg)
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    pub(crate) fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PgSession) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (answer, reply) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |s| {
                let _ = answer.send(f(s));
            }))
            .map_err(|_| LedgerError::Database("the shared ledger's connection has stopped".into()))?;
        reply.recv().map_err(|_| LedgerError::Database("the shared ledger's connection has stopped".into()))?
    }
}

pub(crate) struct PgSession {
    target: crate::postgres::Target,
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
    in_transaction: bool,
    /// The exported snapshot of an open `read_snapshot`, shared with streaming readers.
    snapshot: Option<String>,
}

impl PgSession {
    /// The live connection. Outside a transaction a lost one is opened again (the server
    /// came back); inside one it is not: what the transaction wrote is gone with it, and
    /// carrying on would write the rest half.
    pub(crate) fn client(&mut self) -> Result<&mut postgres::Client> {
        let lost = self.client.as_ref().is_none_or(|c| c.is_closed());
        if lost {
            if self.in_transaction {
                return Err(self.target.unreachable("the connection was lost during a write; nothing of it was kept"));
            }
            self.statements.clear();
            self.client = None;
            let client = self.target.connect()?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let text = dollar_placeholders(sql);
        let statement = self.client()?.prepare(&text).map_err(|e| self.target.error(e))?;
        if self.statements.len() >= 128 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args.iter().map(|a| a as _).collect();
        let result = self.client()?.execute(&statement, &params);
        result.map_err(|e| self.target.error(e))
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = args.iter().map(|a| a as _).collect();
        let result = self.client()?.query(&statement, &params);
        let rows = result.map_err(|e| self.target.error(e))?;
        let names = Arc::new(statement.columns().iter().map(|c| c.name().to_string()).collect::<Vec<_>>());
        rows.iter().map(|r| pg_row(&names, r)).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        let result = self.client()?.batch_execute(sql);
        result.map_err(|e| self.target.error(e))
    }

    fn begin(&mut self) -> Result<()> {
        self.batch(&format!("BEGIN; SELECT pg_advisory_xact_lock({})", crate::postgres::CHAIN_LOCK))?;
        self.in_transaction = true;
        Ok(())
    }

    fn end(&mut self, how: &str) -> Result<()> {
        let was_open = std::mem::replace(&mut self.in_transaction, false);
        match self.client.as_mut() {
            Some(c) if !c.is_closed() => c.batch_execute(how).map_err(|e| self.target.error(e)),
            // The server already ended it with the connection: a rollback happened.
            _ if how == "ROLLBACK" || !was_open => Ok(()),
            _ => Err(self
                .target
                .unreachable("the connection was lost before the write was saved; nothing of it was kept")),
        }
    }

    /// The session's raw client, for work the ledger does outside its own SQL (migrating).
    pub(crate) fn raw(&mut self) -> Result<&mut postgres::Client> {
        self.client()
    }

    pub(crate) fn target(&self) -> &crate::postgres::Target {
        &self.target
    }
}

fn pg_row(names: &Arc<Vec<String>>, r: &postgres::Row) -> Result<Row> {
    use postgres::types::Type;
    let values = r
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = match *c.type_() {
                Type::INT8 => r.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
                Type::INT4 => r.try_get::<_, Option<i32>>(i).map(|v| v.map(|v| Value::Int(v.into()))),
                Type::INT2 => r.try_get::<_, Option<i16>>(i).map(|v| v.map(|v| Value::Int(v.into()))),
                Type::BOOL => r.try_get::<_, Option<bool>>(i).map(|v| v.map(|v| Value::Int(v.into()))),
                _ => r.try_get::<_, Option<String>>(i).map(|v| v.map(Value::Text)),
            };
            v.map(|v| v.unwrap_or(Value::Null))
                .map_err(|e| LedgerError::Database(format!("column {} could not be read: {e}", c.name())))
        })
        .collect::<Result<_>>()?;
    Ok(Row { names: names.clone(), values })
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        let rewrite = super::dollar_placeholders;
        assert_eq!(
            rewrite("SELECT '?1' , x FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1' , x FROM t WHERE a = $1 AND b = $12"
        );
        assert_eq!(rewrite(r#"SELECT "a?1" FROM t WHERE c = ?2"#), r#"SELECT "a?1" FROM t WHERE c = $2"#);
        assert_eq!(rewrite("SELECT 'it''s ?1', ?2"), "SELECT 'it''s ?1', $2");
        let body = "CREATE FUNCTION f() RETURNS int AS $$ SELECT ?1 $$ LANGUAGE sql; SELECT ?3";
        assert_eq!(rewrite(body), "CREATE FUNCTION f() RETURNS int AS $$ SELECT ?1 $$ LANGUAGE sql; SELECT $3");
        let tagged = "DO $body$ BEGIN PERFORM ?1; END $body$; SELECT $1, ?4";
        assert_eq!(rewrite(tagged), "DO $body$ BEGIN PERFORM ?1; END $body$; SELECT $1, $4");
        assert_eq!(rewrite("SELECT ?1 -- not ?2\n, ?3"), "SELECT $1 -- not ?2\n, $3");
        assert_eq!(rewrite("SELECT data ? 'key', ?1, 'é?1'"), "SELECT data ? 'key', $1, 'é?1'");
    }
}
