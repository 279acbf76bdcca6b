//! The `hktia-portal` binary: parses the command line, starts logging and
//! hands over to the library.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::process::ExitCode;

use clap::Parser;
use hktia_portal::cli::{self, Cli, Command};
use hktia_portal::config::Config;
use hktia_portal::telemetry;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    // The server logs at `info`. One-shot commands print their own results
    // and log only warnings.
    let serving = matches!(cli.command, Command::Serve(_));
    let level = if serving { "info" } else { "warn" };
    telemetry::init(config.log_format, level);
    if !serving {
        end_quietly_on_closed_pipe();
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    match runtime.block_on(cli::run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&format!("{error:#}")),
    }
}

/// Lets a one-shot command end quietly when the reader of its output goes
/// away, as in `hktia-portal audit list | head`, instead of panicking on
/// the failed write. Rust ignores SIGPIPE by default; the server keeps
/// that, because its sockets report a closed peer as an error.
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition touches no memory
    // and runs before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
