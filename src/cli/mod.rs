//! The command line: one file per command. Every command opens the
//! database and applies pending migrations first.

mod audit;
mod client;
mod demo;
mod serve;
mod user;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::store::Store;

/// The default database: a SQLite file in the working folder.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://hktia-portal.db";

/// hktia-portal: the association's OAuth 2.0 sign-in service.
#[derive(Debug, Parser)]
#[command(name = "hktia-portal", version)]
pub struct Cli {
    /// Database URL: sqlite://PATH (created when missing) or postgres://...
    #[arg(long, global = true, env = "PORTAL_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database: String,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server; applies pending migrations first.
    Serve(serve::ServeArgs),
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage members.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage applications.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Read the audit trail of security events.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Runs the parsed command.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    let store = open_store(&cli.database).await?;
    let result = match cli.command {
        Command::Serve(args) => serve::run(args, store.clone(), config).await,
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::User(command) => user::run(command, &store, config).await,
        Command::Client(command) => client::run(command, &store).await,
        Command::Audit(command) => audit::run(command, &store).await,
    };
    store.close().await;
    result
}

async fn open_store(url: &str) -> anyhow::Result<Store> {
    let store =
        Store::connect(url).await.map_err(|e| anyhow::anyhow!("cannot open database: {e}"))?;
    store.migrate().await.map_err(|e| anyhow::anyhow!("cannot migrate database: {e}"))?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
