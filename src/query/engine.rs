//! The DataFusion session over a store: the `spans` table (a Parquet listing table,
//! hive-partitioned by `date`, narrowed by the command's common filters), the shared
//! views of `queries/views.sql`, and running named queries with bound parameters.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{Expr, SessionConfig, SessionContext, col, lit};

use super::QueryError;
use super::named::{NamedQuery, VIEWS_SQL};
use crate::store::{Store, layout::partition_date, schema};

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
}

impl Engine {
    /// Registers the store's spans (filtered) and the shared views.
    pub async fn open(store: &Store, filters: &Filters) -> Result<Engine, QueryError> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("pipescope", "public");
        let ctx = SessionContext::new_with_config(config);

        let partitions = vec![(schema::DATE.to_string(), DataType::Utf8)];
        let stored = listing_table(&store.spans_dir(), schema::span_schema(), partitions)?;
        ctx.register_table("spans_stored", stored)?;

        let mut spans = if store.facts_files()?.is_empty() {
            ctx.table("spans_stored").await?
        } else {
            let facts = listing_table(&store.facts_dir(), schema::trace_facts_schema(), vec![])?;
            ctx.register_table("trace_facts_stored", facts)?;
            ctx.sql(&completed_spans_sql()).await?
        };
        if let Some(filter) = filter_expr(filters) {
            spans = spans.filter(filter)?;
        }
        ctx.register_table("spans", spans.into_view())?;

        for statement in split_statements(VIEWS_SQL) {
            ctx.sql(statement).await?.collect().await?;
        }
        Ok(Engine { ctx })
    }

    /// Runs a named query with its parameters bound (never formatted into the SQL).
    pub async fn run(
        &self,
        query: NamedQuery,
        params: Vec<(&str, ScalarValue)>,
    ) -> Result<QueryResult, QueryError> {
        let mut frame = self.ctx.sql(query.sql()).await?;
        if !params.is_empty() {
            frame = frame.with_param_values(params)?;
        }
        collect(frame).await
    }

    /// Runs ad hoc SQL (the `sql` subcommand). Several `;`-separated statements run in
    /// order; the last one's result is returned.
    pub async fn sql(&self, sql: &str) -> Result<QueryResult, QueryError> {
        let statements = split_statements(sql);
        let Some((last, before)) = statements.split_last() else {
            return Err(QueryError::Empty);
        };
        for statement in before {
            self.ctx.sql(statement).await?.collect().await?;
        }
        collect(self.ctx.sql(last).await?).await
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}

fn listing_table(
    dir: &std::path::Path,
    schema: SchemaRef,
    partitions: Vec<(String, DataType)>,
) -> Result<Arc<ListingTable>, QueryError> {
    let url = ListingTableUrl::parse(format!("{}/", dir.display()))?;
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

async fn collect(frame: datafusion::dataframe::DataFrame) -> Result<QueryResult, QueryError> {
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

/// Splits a SQL script on `;` outside quotes and comments.
fn split_statements(sql: &str) -> Vec<&str> {
    let mut statements = Vec::new();
    let bytes = sql.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                statements.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    statements.push(&sql[start.min(sql.len())..]);
    statements
        .into_iter()
        .filter(|s| {
            s.lines()
                .map(|l| l.split("--").next().unwrap_or("").trim())
                .any(|l| !l.is_empty())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "SELECT ';' AS a; -- a comment; with semicolon\nSELECT 2;\n-- only a comment\n";
        assert_eq!(
            split_statements(sql),
            vec!["SELECT ';' AS a", " -- a comment; with semicolon\nSELECT 2"]
        );
    }
}
