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
    // The server tells its story at `info`; one-shot commands print their
    // own results and log only warnings.
    let level = if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" };
    telemetry::init(config.log_format, level);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    match runtime.block_on(cli::run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&format!("{error:#}")),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
