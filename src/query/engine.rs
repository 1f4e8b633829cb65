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

        let spans_dir = store.spans_dir();
        let url = ListingTableUrl::parse(format!("{}/", spans_dir.display()))?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![(schema::DATE.to_string(), DataType::Utf8)]);
        let table_config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(schema::span_schema());
        let table = ListingTable::try_new(table_config)?;
        ctx.register_table("spans_stored", Arc::new(table))?;

        let mut spans = ctx.table("spans_stored").await?;
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
