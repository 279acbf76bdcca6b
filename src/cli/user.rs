//! `hktia-portal user …`: adding, listing, disabling and enabling members,
//! and replacing their passwords.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::accounts::{self, MemberDetails, Password, PasswordHasher};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::Config;
use crate::store::Store;

/// Member commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a member; the password is the first line of standard input.
    Add {
        /// The username; compared without case after NFKC normalisation.
        username: String,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
        /// Name shown to people; the username by default.
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List members.
    List,
    /// Stop a member's access and end their sessions.
    Disable {
        /// The username.
        name: String,
    },
    /// Restore a member's access.
    Enable {
        /// The username.
        name: String,
    },
    /// Lift a member's sign-in pause after repeated failed sign-ins.
    Unlock {
        /// The username.
        name: String,
    },
    /// Replace a member's password and end their sessions; the password is
    /// the first line of standard input.
    SetPassword {
        /// The username.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// Runs a member command.
pub async fn run(command: UserCommand, store: &Store, config: Config) -> anyhow::Result<()> {
    let hasher = PasswordHasher::new(config.argon2);
    let now = SystemClock.now();
    match command {
        UserCommand::Add { username, email, display_name, .. } => {
            let password = read_password()?;
            let details = MemberDetails {
                username: &username,
                display_name: display_name.as_deref(),
                email: email.as_deref(),
            };
            accounts::add_member(store, &hasher, &details, &password, now).await?;
            println!("user {:?} added", username.trim());
        }
        UserCommand::List => list(store, now).await?,
        UserCommand::Disable { name } => {
            accounts::set_disabled(store, &name, true, now).await?;
            println!("user {:?} disabled", name.trim());
        }
        UserCommand::Enable { name } => {
            accounts::set_disabled(store, &name, false, now).await?;
            println!("user {:?} enabled", name.trim());
        }
        UserCommand::Unlock { name } => {
            accounts::unlock(store, &name, now).await?;
            println!("user {:?} unlocked", name.trim());
        }
        UserCommand::SetPassword { name, .. } => {
            let password = read_password()?;
            accounts::set_password(store, &hasher, &name, &password, now).await?;
            println!("password of user {:?} replaced", name.trim());
        }
    }
    Ok(())
}

async fn list(store: &Store, now: i64) -> anyhow::Result<()> {
    let members = store.list_members().await?;
    let rows: Vec<[String; 5]> = members
        .into_iter()
        .map(|m| {
            let status = match m.locked_until {
                _ if m.disabled => "disabled".to_owned(),
                Some(until) if until > now => format!("paused until {}", rfc3339(until)),
                _ => "active".to_owned(),
            };
            [m.username, m.display_name, m.email.unwrap_or_default(), status, rfc3339(m.created_at)]
        })
        .collect();
    super::client::print_table(&["USERNAME", "DISPLAY NAME", "EMAIL", "STATUS", "CREATED"], &rows);
    Ok(())
}

/// Reads the password from the first line of standard input.
fn read_password() -> anyhow::Result<Password> {
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    if read == 0 {
        bail!("no password on standard input: send it as the first line");
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok(Password::new(password.to_owned())?)
}
