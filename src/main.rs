//! The `pipescope` binary: parse arguments, set up logging, run, and turn the outcome
//! into one message on stderr and an exit status (0 success, 1 a finding that fails
//! the command, 2 error). A closed pipe (`pipescope flaky | head`) is not an error.
//! A command that `--strict` failed on a damaged store file exits 1, as a finding.

use std::process::ExitCode;

use clap::Parser;
use pipescope::cli::{Cli, run};

fn main() -> ExitCode {
    ignore_file_size_signal();
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match run(cli) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let mut said = error.to_string();
            eprintln!("error: {said}");
            for cause in error.chain().skip(1) {
                // DataFusion (and some wrappers) repeat their message in their source:
                // a cause already said adds nothing.
                let cause = cause.to_string();
                if !said.contains(&cause) {
                    eprintln!("  Cause: {cause}");
                    said = cause;
                }
            }
            if pipescope::store::integrity::reading::refused_damage() {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

/// Under a file-size limit (`ulimit -f`, a quota) a write past it must fail with EFBIG
/// and be reported like a full disk, with the store left as it was, rather than kill
/// the process mid-write with SIGXFSZ (PostgreSQL ignores it for the same reason).
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a disposition to SIG_IGN at startup, before any other thread
    // exists, has no preconditions; no handler runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PIPESCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("pipescope={level},warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        // Colours only for a person at a terminal: a CI log or a file gets plain text.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .init();
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
