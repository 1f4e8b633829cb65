//! GitHub Actions output: workflow-command annotations (`::error title=…::message`) on
//! stdout and the job's step summary (Markdown appended to `$GITHUB_STEP_SUMMARY`),
//! with the escapers GitHub's toolkit uses, so trace-derived text cannot end a
//! command early or inject another one.

use std::io::{self, Write};
use std::path::PathBuf;

/// The severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// Writes one annotation line.
pub fn annotate(out: &mut dyn Write, level: Level, title: &str, message: &str) -> io::Result<()> {
    writeln!(
        out,
        "::{} title={}::{}",
        level.command(),
        escape_property(title),
        escape_data(message)
    )
}

/// The step-summary file of this job, when GitHub set one.
pub fn step_summary_path() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
}

/// Appends `markdown` to the step summary at `path`, or writes it to `out` when there
/// is none (a run outside GitHub Actions still shows it).
pub fn step_summary(markdown: &str, path: Option<PathBuf>, out: &mut dyn Write) -> io::Result<()> {
    match path {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            file.write_all(markdown.as_bytes())
        }
        None => out.write_all(markdown.as_bytes()),
    }
}

/// Escapes a workflow-command message (GitHub's `escapeData`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property (GitHub's `escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_cannot_be_injected() {
        assert_eq!(escape_data("a\n::error::x%"), "a%0A::error::x%25");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let mut out = Vec::new();
        annotate(&mut out, Level::Warning, "t: 1", "line\nnext").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::warning title=t%3A 1::line%0Anext\n"
        );
    }

    #[test]
    fn the_summary_is_appended_to_the_file_or_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "before\n").unwrap();
        let mut out = Vec::new();
        step_summary("## gate\n", Some(path.clone()), &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before\n## gate\n");
        step_summary("## gate\n", None, &mut out).unwrap();
        assert_eq!(out, b"## gate\n");
    }
}
