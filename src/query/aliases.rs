//! The views of test identity (`queries/test_id_aliases.sql`), created before the
//! shared views that use them. `test_id_aliases` reads the whole store, so it is only
//! built when the command's window holds a bare test name for it to resolve; without
//! one it is the same view filtered by `false`, which the optimizer turns into an
//! empty relation before anything is read: `--since 1d` on a year of history costs
//! what a day costs. (A view, not an empty table: a logical plan, which a Ballista
//! cluster can be sent.)

use std::sync::Arc;

use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::prelude::lit;

use datafusion::sql::parser::Statement;

use super::engine::Engine;
use super::named::TEST_ID_ALIASES_SQL;

impl Engine {
    /// Creates `bare_test_ids`; returns the statement that creates `test_id_aliases`
    /// for [`Engine::create_test_id_aliases`].
    pub(super) async fn create_bare_test_ids(&self) -> Result<Statement, DataFusionError> {
        let mut statements = self.parse(TEST_ID_ALIASES_SQL)?.into_iter();
        let (Some(bare), Some(aliases), None) =
            (statements.next(), statements.next(), statements.next())
        else {
            return Err(DataFusionError::Internal(
                "queries/test_id_aliases.sql must hold two statements".into(),
            ));
        };
        self.execute(bare).await?.collect().await?;
        Ok(aliases)
    }

    /// Whether the window holds a bare test name. The one step here that reads the
    /// store: run it through [`Engine::answer`], so that a damaged file is named and
    /// left out as in every query.
    pub(super) async fn window_has_bare_test_ids(&self) -> Result<bool, DataFusionError> {
        let found = self
            .context()
            .sql("SELECT 1 FROM bare_test_ids LIMIT 1")
            .await?
            .collect()
            .await?;
        Ok(found.iter().any(|batch| batch.num_rows() > 0))
    }

    /// Creates `test_id_aliases` by `statement` when there are bare names to resolve,
    /// else as that view without rows (see the module's doc).
    pub(super) async fn create_test_id_aliases(
        &self,
        statement: Statement,
        any_bare: bool,
    ) -> Result<(), DataFusionError> {
        if any_bare {
            self.execute(statement).await?.collect().await?;
            return Ok(());
        }
        let plan = self.context().state().statement_to_plan(statement).await?;
        let LogicalPlan::Ddl(DdlStatement::CreateView(view)) = plan else {
            return Err(DataFusionError::Internal(
                "the second statement of queries/test_id_aliases.sql must create a view".into(),
            ));
        };
        let input = Arc::unwrap_or_clone(view.input);
        let none = DataFrame::new(self.context().state(), input).filter(lit(false))?;
        self.context().register_table(view.name, none.into_view())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{CiFields, Outcome, Role};
    use crate::query::sql_tests::{MINUTE, span};
    use crate::query::{Filters, Rows};
    use crate::store::{Store, StoreWriter};

    const DAY_MIN: i64 = 24 * 60;

    /// A test execution `days` after the first, with its emitted id.
    fn execution(trace: u32, days: i64, test_id: &str) -> crate::model::Span {
        let ci = CiFields {
            test: Some(test_id.to_string()),
            test_id: Some(test_id.to_string()),
            repo: Some("acme/shop".into()),
            outcome: Some(Outcome::Pass),
            ..CiFields::default()
        };
        span(trace, 1, None, Some(Role::Test), ci, days * DAY_MIN)
    }

    async fn resolved_in(store: &Store, filters: Filters) -> (Engine, Vec<serde_json::Value>) {
        let engine = Engine::open(store, &filters).await.unwrap();
        let result = engine
            .sql("SELECT test, test_id FROM test_executions ORDER BY test")
            .await
            .unwrap();
        let rows = Rows::from_result(&result).objects();
        (engine, rows)
    }

    #[tokio::test]
    async fn a_bare_name_in_the_window_resolves_through_the_whole_store_and_none_skips_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = StoreWriter::new(&store).unwrap();
        writer
            .write(vec![
                execution(1, 0, "tests.unit.test_cart.test_total"),
                execution(2, 10, "test_total"),
            ])
            .unwrap();
        writer.finish().unwrap();
        let day = |d: i64| 1_700_000_000_000_000_000 + d * DAY_MIN * MINUTE;

        // The window holds only the bare name; its qualified id is before the window.
        let since = Filters {
            since_ns: Some(day(5)),
            ..Filters::default()
        };
        let (_, rows) = resolved_in(&store, since).await;
        assert_eq!(
            rows,
            vec![json!({"test": "test_total", "test_id": "tests.unit.test_cart.test_total"})]
        );

        // The window holds only qualified ids: nothing to resolve, nothing read beyond it.
        let until = Filters {
            until_ns: Some(day(5)),
            ..Filters::default()
        };
        let (engine, rows) = resolved_in(&store, until).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        let aliases = engine
            .context()
            .table_provider("test_id_aliases")
            .await
            .unwrap();
        let plan = engine
            .context()
            .sql("SELECT * FROM test_id_aliases")
            .await
            .unwrap()
            .into_optimized_plan()
            .unwrap()
            .display_indent()
            .to_string();
        assert!(
            plan.contains("EmptyRelation") && !plan.contains("TableScan"),
            "test_id_aliases reads the store for a window without bare names:\n{plan}"
        );
        let columns: Vec<String> = aliases
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(columns, ["repo", "alias", "test_id"]);
    }
}
