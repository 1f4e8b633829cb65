//! The DataFusion session over a store: the `spans` table (a Parquet listing table,
//! hive-partitioned by `date`, narrowed by the command's common filters), the shared
//! views of `queries/test_id_aliases.sql` and `queries/views.sql`, and running named
//! queries with bound parameters.
//!
//! Scripts of several statements (`views.sql`, `pipescope sql "a; b"`) are split by
//! DataFusion's own parser, in the session's dialect: a `;` inside a comment or a
//! string literal is no separator, empty statements are skipped, and a syntax error
//! reads as DataFusion reports it (with its line and column).
//!
//! Damaged store files are left out (see `store::integrity::reading`): those whose
//! footer check fails before anything is planned, and those a query fails on
//! (a row group that does not decode), after which the query runs again without them.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::object_store::path::Path as ObjectPath;
use datafusion::prelude::{Expr, SessionConfig, SessionContext, col, lit};
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::dialect::dialect_from_str;

use super::named::{NamedQuery, VIEWS_SQL};
use super::visible::VisibleFiles;
use super::{QueryError, cluster};
use crate::store::bucket::BucketUrl;
use crate::store::integrity::reading;
use crate::store::layout::{ReaderLock, partition_date};
use crate::store::{Store, schema};

/// Filters every analysis accepts (`--since`, `--until`, `--branch`, `--pipeline`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Only spans starting at or after this time (ns since epoch).
    pub since_ns: Option<i64>,
    /// Only spans starting before this time (ns since epoch).
    pub until_ns: Option<i64>,
    /// Only these branches (any of them); empty = all.
    pub branches: Vec<String>,
    /// Only this pipeline.
    pub pipeline: Option<String>,
    /// Only this pipeline run (its `run_id`, every attempt): the gate's `--current-run`.
    pub run_id: Option<String>,
}

/// A result: its schema (kept even when there are no rows) and its batches.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// One DataFusion session over one store.
pub struct Engine {
    ctx: SessionContext,
    /// The store and the file system its files are read through; `None` for an
    /// engine without a store (tests of statement handling).
    reading: Option<Reading>,
}

struct Reading {
    store: Store,
    /// Held while the engine lives: no compaction deletes a file it may read.
    _readers: ReaderLock,
    files: Arc<VisibleFiles>,
    /// Each store file by the location DataFusion reads it at.
    paths: HashMap<ObjectPath, PathBuf>,
    /// The files the footer check left out when the engine opened.
    left_out: Vec<PathBuf>,
}

impl Engine {
    /// Registers the store's spans (filtered) and the shared views.
    pub async fn open(store: &Store, filters: &Filters) -> Result<Engine, QueryError> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("pipescope", "public");
        let ctx = match cluster::get() {
            Some(cluster) => cluster::context(cluster, config).await?,
            None => SessionContext::new_with_config(config),
        };
        let reading = Reading::open(store)?;
        ctx.register_object_store(
            ObjectStoreUrl::local_filesystem().as_ref(),
            reading.files.clone(),
        );
        let tables = Tables::of(store, &ctx)?;

        let partitions = vec![(schema::DATE.to_string(), DataType::Utf8)];
        let stored = listing_table(&tables.spans, schema::span_schema(), partitions)?;
        ctx.register_table("spans_stored", stored)?;

        let facts_dir = store.facts_dir();
        let facts_left_out = reading
            .left_out
            .iter()
            .filter(|p| p.starts_with(&facts_dir));
        // A listing table over a directory whose every file is hidden is empty, but
        // the join with it is work for nothing.
        let mut spans = if store.facts_files()?.len() == facts_left_out.count() {
            ctx.table("spans_stored").await?
        } else {
            let facts = listing_table(&tables.facts, schema::trace_facts_schema(), vec![])?;
            ctx.register_table("trace_facts_stored", facts)?;
            ctx.sql(&completed_spans_sql()).await?
        };
        // Test identity is a property of the whole store, not of a window: a bare test
        // name in this week's runs resolves through last month's qualified ids.
        ctx.register_table("all_spans", spans.clone().into_view())?;
        if let Some(filter) = filter_expr(filters) {
            spans = spans.filter(filter)?;
        }
        ctx.register_table("spans", spans.into_view())?;

        let engine = Engine {
            ctx,
            reading: Some(reading),
        };
        let views = |source| QueryError::Views { source };
        let aliases = engine.create_bare_test_ids().await.map_err(views)?;
        let any_bare = engine
            .answer(|| engine.window_has_bare_test_ids(), views)
            .await?;
        engine
            .create_test_id_aliases(aliases, any_bare)
            .await
            .map_err(views)?;
        let shared = async {
            for statement in engine.parse(VIEWS_SQL)? {
                engine.execute(statement).await?.collect().await?;
            }
            Ok::<(), DataFusionError>(())
        };
        shared.await.map_err(views)?;
        Ok(engine)
    }

    /// Runs a named query with its parameters bound (never formatted into the SQL).
    pub async fn run(
        &self,
        query: NamedQuery,
        params: Vec<(&str, ScalarValue)>,
    ) -> Result<QueryResult, QueryError> {
        let attempt = || async {
            let mut frame = self.ctx.sql(query.sql()).await?;
            if !params.is_empty() {
                frame = frame.with_param_values(params.clone())?;
            }
            collect(frame).await
        };
        self.answer(attempt, |source| QueryError::Named {
            query: query.name(),
            source,
        })
        .await
    }

    /// Runs `attempt`; when it fails having read store files, those files are decoded
    /// fully, the damaged ones are reported and left out, and `attempt` runs again.
    /// Ends: each round leaves out at least one more of finitely many files.
    pub(super) async fn answer<T, F, Fut>(
        &self,
        attempt: F,
        failed: impl Fn(DataFusionError) -> QueryError,
    ) -> Result<T, QueryError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, DataFusionError>>,
    {
        let Some(reading) = &self.reading else {
            return attempt().await.map_err(failed);
        };
        loop {
            reading.files.take_read();
            let error = match attempt().await {
                Ok(result) => return Ok(result),
                Err(error) => error,
            };
            // A file read though hidden is no new suspect: checking it again would
            // find the same and loop.
            let read: Vec<&PathBuf> = reading
                .files
                .take_read()
                .iter()
                .filter(|location| !reading.files.is_hidden(location))
                .filter_map(|location| reading.paths.get(location))
                .collect();
            let mut found = false;
            for path in &read {
                if let Some(problem) = reading::decode_verdict(&reading.store, path)? {
                    reading::report_damaged(path, &problem)?;
                    reading.hide(path);
                    found = true;
                }
            }
            if !found {
                return Err(failed(name_files_read(error, &read)));
            }
            // The session keeps directory listings: drop them so the next attempt
            // lists again, without the files just hidden.
            if let Some(cache) = self.ctx.runtime_env().cache_manager.get_list_files_cache() {
                cache.clear();
            }
        }
    }

    /// Runs ad hoc SQL (the `sql` subcommand). Several `;`-separated statements run in
    /// order; the last one's result is returned.
    pub async fn sql(&self, sql: &str) -> Result<QueryResult, QueryError> {
        let statements = self
            .parse(sql)
            .map_err(|parser| QueryError::Parse { parser })?;
        let count = statements.len();
        if count == 0 {
            return Err(QueryError::Empty);
        }
        let mut last = None;
        for (i, statement) in statements.into_iter().enumerate() {
            // One statement's error is DataFusion's own; in a script, say which failed.
            let failed = |source| match count {
                1 => QueryError::DataFusion(source),
                _ => QueryError::Statement {
                    number: i + 1,
                    count,
                    source,
                },
            };
            let attempt = || async {
                let frame = self.execute(statement.clone()).await?;
                if i + 1 < count {
                    frame.collect().await?;
                    Ok(QueryResult {
                        schema: Arc::new(datafusion::arrow::datatypes::Schema::empty()),
                        batches: vec![],
                    })
                } else {
                    collect(frame).await
                }
            };
            last = Some(self.answer(attempt, failed).await?);
        }
        last.ok_or(QueryError::Empty)
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The statements of a script, parsed as `SessionContext::sql` parses one (the
    /// session's dialect and recursion limit), keeping every statement.
    pub(super) fn parse(&self, sql: &str) -> Result<Vec<Statement>, DataFusionError> {
        let state = self.ctx.state();
        let options = &state.config().options().sql_parser;
        let dialect = dialect_from_str(options.dialect).ok_or_else(|| {
            DataFusionError::Plan(format!("unsupported SQL dialect {}", options.dialect))
        })?;
        let statements = DFParserBuilder::new(sql)
            .with_dialect(dialect.as_ref())
            .with_recursion_limit(options.recursion_limit.get())
            .build()?
            .parse_statements()?;
        Ok(statements.into())
    }

    /// Plans and starts one parsed statement, as `SessionContext::sql` does with the one
    /// it parses. The state is taken afresh so that a statement sees the views and
    /// tables the previous ones created.
    pub(super) async fn execute(&self, statement: Statement) -> Result<DataFrame, DataFusionError> {
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        self.ctx.execute_logical_plan(plan).await
    }
}

impl Reading {
    /// Footer-checks the store's files; the damaged ones are reported and hidden.
    fn open(store: &Store) -> Result<Reading, QueryError> {
        // Taken before listing: the files listed stay until the lock is released.
        let readers = store.lock_for_reading()?;
        let mut paths = HashMap::new();
        for (path, _) in reading::store_files(store)? {
            paths.insert(object_path(&path)?, path);
        }
        let opened = paths.keys().cloned().collect();
        let files = Arc::new(VisibleFiles::new(Arc::new(LocalFileSystem::new()), opened));
        let reading = Reading {
            store: store.clone(),
            _readers: readers,
            files,
            paths,
            left_out: reading::damaged_files(store)?,
        };
        for path in &reading.left_out {
            reading.hide(path);
        }
        Ok(reading)
    }

    fn hide(&self, path: &std::path::Path) {
        if let Ok(location) = object_path(path) {
            self.files.hide(location);
        }
    }
}

/// Where DataFusion reads `path`: the location a listing of its directory yields.
fn object_path(path: &std::path::Path) -> Result<ObjectPath, DataFusionError> {
    Ok(ListingTableUrl::parse(path.display().to_string())?
        .prefix()
        .clone())
}

/// A read error the decode check could not pin on a file still says which files the
/// query read: DataFusion's Parquet errors name none.
fn name_files_read(error: DataFusionError, read: &[&PathBuf]) -> DataFusionError {
    let reading_failed = matches!(
        error.find_root(),
        DataFusionError::ParquetError(_)
            | DataFusionError::ArrowError(..)
            | DataFusionError::ObjectStore(_)
            | DataFusionError::IoError(_)
    );
    if !reading_failed || read.is_empty() {
        return error;
    }
    let names: Vec<String> = read.iter().map(|p| p.display().to_string()).collect();
    error.context(format!(
        "reading the store failed; the query read {}",
        names.join(", ")
    ))
}

/// Where the tables' files are read: the store's directories, or on a cluster with a
/// bucket store, the bucket's (see `cluster`).
struct Tables {
    spans: String,
    facts: String,
}

impl Tables {
    fn of(store: &Store, ctx: &SessionContext) -> Result<Tables, QueryError> {
        let bucket = cluster::get().and_then(|c| c.store_url.as_deref());
        let Some(url) = bucket else {
            let dir = |d: std::path::PathBuf| format!("{}/", d.display());
            return Ok(Tables {
                spans: dir(store.spans_dir()),
                facts: dir(store.facts_dir()),
            });
        };
        // The client plans over the bucket too (the cluster's scheduler lists it).
        if let Some(bucket) = BucketUrl::parse(url).ok().flatten() {
            let remote = bucket.connect().map_err(|e| QueryError::Cluster {
                scheduler: url.to_string(),
                message: e.to_string(),
            })?;
            let base = ObjectStoreUrl::parse(format!("s3://{}", bucket.bucket))?;
            ctx.register_object_store(base.as_ref(), remote);
        }
        Ok(Tables {
            spans: format!("{url}/spans/"),
            facts: format!("{url}/traces/"),
        })
    }
}

fn listing_table(
    dir: &str,
    schema: SchemaRef,
    partitions: Vec<(String, DataType)>,
) -> Result<Arc<ListingTable>, QueryError> {
    let url = ListingTableUrl::parse(dir)?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partitions);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// The stored spans with trace-level facts they lack filled in from the trace-facts
/// table (a trace's branch learned after some of its spans were stored). Built from
/// the schema's own column names: no value from data enters this SQL.
fn completed_spans_sql() -> String {
    let facts = schema::TRACE_FACT_COLUMNS;
    let mut columns: Vec<String> = schema::span_schema()
        .fields()
        .iter()
        .map(|f| {
            let name = f.name();
            if facts.contains(&name.as_str()) {
                format!("COALESCE(s.\"{name}\", f.\"{name}\") AS \"{name}\"")
            } else {
                format!("s.\"{name}\"")
            }
        })
        .collect();
    columns.push(format!("s.\"{}\"", schema::DATE));
    let aggregates: Vec<String> = facts
        .iter()
        .map(|name| format!("MAX(\"{name}\") AS \"{name}\""))
        .collect();
    format!(
        "SELECT {} FROM spans_stored s LEFT JOIN (SELECT trace_id, {} FROM trace_facts_stored GROUP BY trace_id) f ON s.trace_id = f.trace_id",
        columns.join(", "),
        aggregates.join(", ")
    )
}

async fn collect(frame: DataFrame) -> Result<QueryResult, DataFusionError> {
    let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await?;
    Ok(QueryResult { schema, batches })
}

fn filter_expr(filters: &Filters) -> Option<Expr> {
    let mut parts: Vec<Expr> = Vec::new();
    let ts = |ns: i64| {
        lit(ScalarValue::TimestampNanosecond(
            Some(ns),
            Some("UTC".into()),
        ))
    };
    if let Some(since) = filters.since_ns {
        // The partition bound lets DataFusion skip whole directories.
        parts.push(col(schema::DATE).gt_eq(lit(partition_date(since))));
        parts.push(col(schema::START_TIME).gt_eq(ts(since)));
    }
    if let Some(until) = filters.until_ns {
        parts.push(col(schema::DATE).lt_eq(lit(partition_date(until))));
        parts.push(col(schema::START_TIME).lt(ts(until)));
    }
    if !filters.branches.is_empty() {
        let list = filters.branches.iter().map(|b| lit(b.as_str())).collect();
        parts.push(col(schema::BRANCH).in_list(list, false));
    }
    if let Some(pipeline) = &filters.pipeline {
        parts.push(col(schema::PIPELINE).eq(lit(pipeline.as_str())));
    }
    if let Some(run_id) = &filters.run_id {
        parts.push(col(schema::RUN_ID).eq(lit(run_id.as_str())));
    }
    parts.into_iter().reduce(Expr::and)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::query::Rows;

    /// An engine without a store: statement handling needs no spans.
    fn bare() -> Engine {
        Engine {
            ctx: SessionContext::new(),
            reading: None,
        }
    }

    async fn rows(sql: &str) -> Vec<Value> {
        let result = bare().sql(sql).await.unwrap();
        Rows::from_result(&result).objects()
    }

    fn count(sql: &str) -> usize {
        bare().parse(sql).unwrap().len()
    }

    #[test]
    fn a_read_error_names_the_files_the_query_read() {
        let parquet = datafusion::parquet::errors::ParquetError::General("bad page".into());
        let read = [PathBuf::from("/s/spans/date=2025-06-15/a.parquet")];
        let named = name_files_read(
            DataFusionError::ParquetError(Box::new(parquet)),
            &read.iter().collect::<Vec<_>>(),
        );
        assert!(
            named.to_string().starts_with(
                "reading the store failed; the query read /s/spans/date=2025-06-15/a.parquet"
            ),
            "{named}"
        );
        // Not a read error: nothing to add.
        let plan = name_files_read(
            DataFusionError::Plan("no such column".into()),
            &read.iter().collect::<Vec<_>>(),
        );
        assert_eq!(plan.to_string(), "Error during planning: no such column");
    }

    #[tokio::test]
    async fn a_semicolon_in_a_line_comment_is_no_separator() {
        let sql = "SELECT 1 AS a; -- one; two\nSELECT 2 AS b -- three; four";
        assert_eq!(count(sql), 2);
        assert_eq!(rows(sql).await, vec![json!({"b": 2})]);
    }

    #[tokio::test]
    async fn a_semicolon_in_a_block_comment_is_no_separator() {
        let sql = "SELECT /* one; two */ 1 AS a /* ; */";
        assert_eq!(count(sql), 1);
        assert_eq!(rows(sql).await, vec![json!({"a": 1})]);
    }

    #[tokio::test]
    async fn a_semicolon_in_a_string_literal_is_no_separator() {
        let sql = "SELECT 'a;b' AS s, 'it''s; here' AS t, \"x;y\" FROM (SELECT 1 AS \"x;y\")";
        assert_eq!(count(sql), 1);
        assert_eq!(
            rows(sql).await,
            vec![json!({"s": "a;b", "t": "it's; here", "x;y": 1})]
        );
    }

    #[tokio::test]
    async fn empty_statements_are_skipped() {
        assert_eq!(count(";; SELECT 1 AS a;;\n;"), 1);
        assert_eq!(rows(";; SELECT 1 AS a;;\n;").await, vec![json!({"a": 1})]);
        for nothing in ["", "  ;; ", "-- only a comment\n", "/* ; */ ;"] {
            let error = bare().sql(nothing).await.unwrap_err();
            assert!(matches!(error, QueryError::Empty), "{nothing:?}: {error}");
        }
    }

    #[tokio::test]
    async fn later_statements_see_what_earlier_ones_created() {
        let sql = "CREATE VIEW v AS SELECT 1 AS x; SELECT x + 1 AS y FROM v;";
        assert_eq!(rows(sql).await, vec![json!({"y": 2})]);
    }

    #[tokio::test]
    async fn a_syntax_error_reads_as_datafusion_reports_it() {
        let sql = "SELECT 1;\nSELEKT nothing";
        let error = bare().sql(sql).await.unwrap_err();
        let QueryError::Parse { parser: source } = &error else {
            panic!("not a parse error: {error:?}");
        };
        let datafusion = SessionContext::new()
            .sql("SELEKT nothing")
            .await
            .unwrap_err();
        assert!(
            source
                .to_string()
                .contains("Expected: an SQL statement, found: SELEKT"),
            "{source}"
        );
        // Same message as DataFusion's own `sql`, except for the line it is on.
        assert_eq!(
            source.to_string().replace("Line: 2", "Line: 1"),
            datafusion.to_string()
        );
        assert_eq!(
            error.to_string(),
            "cannot parse the SQL: Expected: an SQL statement, found: SELEKT at Line: 2, Column: 1"
        );
    }

    #[tokio::test]
    async fn a_failing_statement_is_named_by_its_position() {
        let error = bare()
            .sql("SELECT 1; SELECT * FROM no_such_table; SELECT 3")
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                QueryError::Statement {
                    number: 2,
                    count: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(error.to_string(), "SQL statement 2 of 3 failed");
        // A single statement's error is DataFusion's own, not wrapped in a second one.
        let one = bare().sql("SELECT * FROM no_such_table").await.unwrap_err();
        assert!(matches!(one, QueryError::DataFusion(_)), "{one:?}");
        assert!(one.to_string().contains("no_such_table"), "{one}");
    }
}
