//! A test's canonical identity (`test_id`), whatever emitted it.
//!
//! The same test reaches pipescope as a pytest node id
//! (`tests/integration/test_totals.py::test_totals`), as a JUnit case (`test_totals` in
//! class `tests.integration.test_totals`), as Surefire's `testBar` in `com.acme.FooTest`,
//! as a Jest title path (`Cart › adds an item`), or as a bare function name. The
//! canonical id is the dotted qualified name: `tests.integration.test_totals.test_totals`,
//! `com.acme.FooTest.testBar`, `Cart › adds an item`.
//!
//! - Python paths become module names (`tests/a/test_b.py` → `tests.a.test_b`), so node
//!   ids and JUnit class names of the same module meet.
//! - Parameters (`test_x[a-1]`, JUnit 5's `[1]`) are kept verbatim: a parametrised case is
//!   its own test, and nothing inside the brackets is rewritten.
//! - The qualifier (class, else the file's module) is kept, so two tests with the same
//!   function name in different files or classes stay apart.
//!
//! A bare name (no qualifier at all, e.g. a Zipkin span named `test_totals`) is resolved
//! at query time to the one qualified id of the same repository that ends in it
//! (`test_id_aliases` in `queries/test_id_aliases.sql`): that needs the whole store, not one span.
//!
//! The separators and suffixes are data: the `[test_id]` table of the conventions file.

use serde::Deserialize;

/// What an emitter said about a test: its name and, when given, its class (or suite
/// path) and source file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestNames<'a> {
    pub name: &'a str,
    pub class: Option<&'a str>,
    pub file: Option<&'a str>,
}

/// The rules that turn [`TestNames`] into a canonical id (`[test_id]` in the
/// conventions file; a user file replaces each list it gives).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestIdRules {
    /// Separators of node ids (`path::Class::test`): become `.`.
    pub node_separators: Vec<String>,
    /// Extensions of source files whose path is their module name (Python): a path
    /// ending in one of them becomes a dotted module.
    pub source_extensions: Vec<String>,
    /// Separators of title paths (Jest `Suite › case`, `Suite > case`): all become
    /// the first one.
    pub title_separators: Vec<String>,
    /// Suffixes that do not change which test it is (JUnit 5 writes `testBar()`).
    pub strip_suffixes: Vec<String>,
}

/// The `[test_id]` table as written: every list optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTestIdRules {
    node_separators: Option<Vec<String>>,
    source_extensions: Option<Vec<String>>,
    title_separators: Option<Vec<String>>,
    strip_suffixes: Option<Vec<String>>,
}

impl TestIdRules {
    pub(crate) fn empty() -> TestIdRules {
        TestIdRules {
            node_separators: Vec::new(),
            source_extensions: Vec::new(),
            title_separators: Vec::new(),
            strip_suffixes: Vec::new(),
        }
    }

    /// Replaces each list the file gives (a list of separators is a whole, unlike the
    /// key rows that users extend).
    pub(crate) fn merged(mut self, raw: RawTestIdRules) -> TestIdRules {
        let replace = |list: &mut Vec<String>, given: Option<Vec<String>>| {
            if let Some(given) = given {
                *list = given.into_iter().filter(|s| !s.is_empty()).collect();
            }
        };
        replace(&mut self.node_separators, raw.node_separators);
        replace(&mut self.source_extensions, raw.source_extensions);
        replace(&mut self.title_separators, raw.title_separators);
        replace(&mut self.strip_suffixes, raw.strip_suffixes);
        self
    }

    /// The canonical id of a test.
    pub fn canonical(&self, names: TestNames<'_>) -> String {
        let name = self.normalized(names.name);
        if self.is_node_id(names.name) {
            // A node id is qualified by its own path: class and file add nothing.
            return name;
        }
        let class = names
            .class
            .map(|c| self.normalized(c))
            .filter(|c| !c.is_empty());
        let module = names.file.and_then(|f| self.module_of(f));
        let qualifier = match (module, class) {
            // `code.namespace = TestCart` in `tests/test_cart.py`: the class lives in the module.
            (Some(module), Some(class)) if !class.contains('.') && !self.is_title(&class) => {
                Some(format!("{module}.{class}"))
            }
            (_, Some(class)) => Some(class),
            (module, None) => module,
        };
        match qualifier {
            None => name,
            Some(q) => self.qualify(&q, name),
        }
    }

    /// `q` + separator + `name`, unless `name` already carries the qualifier (Surefire
    /// sometimes repeats the class in the name; jest-junit's default writes the whole
    /// title path into both).
    fn qualify(&self, q: &str, name: String) -> String {
        if name == q {
            return name;
        }
        let title = self.title_separator();
        let sep = match title {
            Some(t) if self.is_title(q) || self.is_title(&name) => t,
            _ => ".",
        };
        if name
            .strip_prefix(q)
            .is_some_and(|rest| rest.starts_with(sep))
        {
            return name;
        }
        if sep == "." {
            // `SessionCacheTest.testRefresh` in `com.acme.SessionCacheTest`: the name
            // starts with the class's last parts, which are not repeated.
            let parts: Vec<&str> = q.split('.').collect();
            for from in 1..parts.len() {
                let tail = parts[from..].join(".");
                if name
                    .strip_prefix(tail.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
                {
                    return format!("{}.{name}", parts[..from].join("."));
                }
            }
        }
        format!("{q}{sep}{name}")
    }

    /// The name with node ids turned into dotted paths, title separators unified and
    /// ignorable suffixes removed; the parameter part is left as it was.
    fn normalized(&self, raw: &str) -> String {
        let raw = raw.trim();
        let (head, params) = split_params(raw);
        let mut head = head.trim_end().to_string();
        for suffix in &self.strip_suffixes {
            if let Some(stripped) = head.strip_suffix(suffix.as_str()) {
                head = stripped.trim_end().to_string();
            }
        }
        if self.is_node_id(raw) {
            head = self.dotted_node_id(&head);
        }
        if let Some(first) = self.title_separator() {
            for other in &self.title_separators[1..] {
                head = head.replace(other.as_str(), first);
            }
        }
        head + params
    }

    fn title_separator(&self) -> Option<&str> {
        self.title_separators.first().map(String::as_str)
    }

    fn is_title(&self, s: &str) -> bool {
        self.title_separators.iter().any(|t| s.contains(t.as_str()))
    }

    /// `path/to/test_a.py::TestX::test_y` (or a path alone): a node separator, or a
    /// first segment that is a source file, before any parameters.
    fn is_node_id(&self, raw: &str) -> bool {
        let (head, _) = split_params(raw.trim());
        if self
            .node_separators
            .iter()
            .any(|s| head.contains(s.as_str()))
        {
            return true;
        }
        self.module_of(head).is_some()
    }

    fn dotted_node_id(&self, head: &str) -> String {
        let mut parts: Vec<String> = vec![head.to_string()];
        for sep in &self.node_separators {
            parts = parts
                .iter()
                .flat_map(|p| {
                    p.split(sep.as_str())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        let mut parts = parts.into_iter().filter(|p| !p.is_empty());
        let Some(first) = parts.next() else {
            return String::new();
        };
        let first = self.module_of(&first).unwrap_or(first);
        std::iter::once(first)
            .chain(parts)
            .collect::<Vec<_>>()
            .join(".")
    }

    /// `tests/a/test_b.py` → `tests.a.test_b` (also with `\` and a leading `./`); `None`
    /// for a file whose path is not its module name.
    fn module_of(&self, file: &str) -> Option<String> {
        let file = file.trim();
        let stem = self
            .source_extensions
            .iter()
            .find_map(|ext| file.strip_suffix(ext.as_str()))?;
        let stem = stem.trim_start_matches("./").trim_start_matches(".\\");
        let module: Vec<&str> = stem
            .split(['/', '\\'])
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if module.is_empty() {
            return None;
        }
        Some(module.join("."))
    }
}

/// `test_x[a/b.c]` → (`test_x`, `[a/b.c]`): the parameters start at the first `[`.
fn split_params(raw: &str) -> (&str, &str) {
    match raw.find('[') {
        Some(i) if i > 0 => raw.split_at(i),
        _ => (raw, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conventions::Conventions;

    fn id(name: &str, class: Option<&str>, file: Option<&str>) -> String {
        Conventions::builtin()
            .test_id_rules()
            .canonical(TestNames { name, class, file })
    }

    #[test]
    fn a_pytest_node_id_and_its_junit_case_meet() {
        let node = id("tests/integration/test_totals.py::test_totals", None, None);
        let junit = id("test_totals", Some("tests.integration.test_totals"), None);
        assert_eq!(node, "tests.integration.test_totals.test_totals");
        assert_eq!(node, junit);
    }

    #[test]
    fn a_pytest_class_method_meets_its_junit_case() {
        let node = id("tests/test_cart.py::TestCart::test_add", None, None);
        let junit = id("test_add", Some("tests.test_cart.TestCart"), None);
        assert_eq!(node, "tests.test_cart.TestCart.test_add");
        assert_eq!(node, junit);
    }

    #[test]
    fn parameters_are_kept_verbatim_and_make_their_own_test() {
        let a = id("tests/test_x.py::test_x[a/b.c::d]", None, None);
        let junit = id("test_x[a/b.c::d]", Some("tests.test_x"), None);
        assert_eq!(a, "tests.test_x.test_x[a/b.c::d]");
        assert_eq!(a, junit);
        assert_ne!(a, id("tests/test_x.py::test_x[a-2]", None, None));
        assert_ne!(a, id("tests/test_x.py::test_x", None, None));
    }

    #[test]
    fn the_same_function_in_two_files_or_classes_stays_apart() {
        let a = id("test_totals", Some("tests.unit.test_totals"), None);
        let b = id("test_totals", Some("tests.integration.test_totals"), None);
        assert_ne!(a, b);
        let c = id("tests/a.py::TestX::test_y", None, None);
        let d = id("tests/a.py::TestZ::test_y", None, None);
        assert_ne!(c, d);
    }

    #[test]
    fn surefire_and_junit5_forms() {
        assert_eq!(
            id("testBar", Some("com.acme.FooTest"), None),
            "com.acme.FooTest.testBar"
        );
        // The class repeated in the name, and JUnit 5's empty parameter list.
        assert_eq!(
            id("com.acme.FooTest.testBar", Some("com.acme.FooTest"), None),
            "com.acme.FooTest.testBar"
        );
        // The simple class name in front of the method (JUnit-to-OTLP span names).
        assert_eq!(
            id("FooTest.testBar", Some("com.acme.FooTest"), None),
            "com.acme.FooTest.testBar"
        );
        assert_eq!(
            id("testBar()", Some("com.acme.FooTest"), None),
            "com.acme.FooTest.testBar"
        );
        assert_eq!(
            id("testBar(int)[2]", Some("com.acme.FooTest"), None),
            "com.acme.FooTest.testBar(int)[2]"
        );
    }

    #[test]
    fn go_subtests_keep_their_slashes_and_package() {
        assert_eq!(id("TestFoo/sub_case", None, None), "TestFoo/sub_case");
        assert_eq!(
            id("TestFoo/sub_case", Some("github.com/acme/pkg"), None),
            "github.com/acme/pkg.TestFoo/sub_case"
        );
    }

    #[test]
    fn jest_title_paths_unify_their_separators() {
        assert_eq!(id("Cart › adds an item", None, None), "Cart › adds an item");
        assert_eq!(id("Cart > adds an item", None, None), "Cart › adds an item");
        // jest-junit's default: the whole title path in both class and name.
        assert_eq!(
            id("Cart adds an item", Some("Cart adds an item"), None),
            "Cart adds an item"
        );
        assert_eq!(
            id("adds an item", Some("Cart › nested"), None),
            "Cart › nested › adds an item"
        );
    }

    #[test]
    fn a_file_gives_python_tests_their_module() {
        assert_eq!(
            id(
                "test_totals",
                None,
                Some("tests/integration/test_totals.py")
            ),
            "tests.integration.test_totals.test_totals"
        );
        assert_eq!(
            id("test_add", Some("TestCart"), Some("./tests/test_cart.py")),
            "tests.test_cart.TestCart.test_add"
        );
        assert_eq!(
            id("test_add", None, Some("tests\\test_cart.py")),
            "tests.test_cart.test_add"
        );
        // Files that are not module paths qualify nothing.
        assert_eq!(id("adds", None, Some("src/cart.test.ts")), "adds");
    }

    #[test]
    fn bare_names_stay_bare_for_query_time_resolution() {
        assert_eq!(id("test_totals", None, None), "test_totals");
        assert_eq!(id("  test_totals  ", Some(""), None), "test_totals");
    }

    #[test]
    fn unittest_and_phpunit_forms() {
        assert_eq!(
            id("test_parse", Some("test_module.TestParser"), None),
            "test_module.TestParser.test_parse"
        );
        assert_eq!(
            id("testAdd", Some("Acme.Cart.CartTest"), None),
            "Acme.Cart.CartTest.testAdd"
        );
    }

    #[test]
    fn a_user_table_replaces_the_lists_it_gives() {
        let conv =
            Conventions::from_toml_str("[test_id]\ntitle_separators = [\" / \"]\n").expect("valid");
        let rules = conv.test_id_rules();
        assert_eq!(rules.title_separators, vec![" / ".to_string()]);
        assert!(!rules.node_separators.is_empty(), "other lists stay");
        let names = TestNames {
            name: "Cart / adds",
            ..TestNames::default()
        };
        assert_eq!(rules.canonical(names), "Cart / adds");
    }
}
