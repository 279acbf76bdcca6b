//! `hktia-portal audit list`: the audit trail of security events, as a
//! table or as JSON.

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::accounts::Username;
use crate::clock::rfc3339;
use crate::store::{AuditFilter, AuditRecord, Store};

/// Audit trail commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List security events, oldest first.
    List {
        /// Only the events of this member.
        #[arg(long)]
        member: Option<String>,
        /// Only the events at or after this time, RFC 3339, such as
        /// 2026-12-04T08:15:00Z.
        #[arg(long, value_parser = parse_time)]
        since: Option<i64>,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// One event as `--json` prints it.
#[derive(Debug, Serialize)]
struct EventJson {
    occurred_at: String,
    event: String,
    member_id: Option<i64>,
    username: Option<String>,
    client_id: Option<String>,
    grant_id: Option<String>,
    address: Option<String>,
    detail: Option<String>,
}

/// Runs an audit trail command.
pub async fn run(command: AuditCommand, store: &Store) -> anyhow::Result<()> {
    let AuditCommand::List { member, since, json } = command;
    let member_id = match member {
        Some(name) => Some(member_id(store, &name).await?),
        None => None,
    };
    let events = store.list_audit_events(AuditFilter { member_id, since }).await?;
    if json {
        let events: Vec<EventJson> = events.into_iter().map(event_json).collect();
        println!("{}", serde_json::to_string_pretty(&events)?);
    } else {
        let rows: Vec<[String; 7]> = events.into_iter().map(event_row).collect();
        let header = ["TIME", "EVENT", "MEMBER", "CLIENT", "SESSION", "ADDRESS", "DETAIL"];
        super::client::print_table(&header, &rows);
    }
    Ok(())
}

async fn member_id(store: &Store, name: &str) -> anyhow::Result<i64> {
    let username = Username::normalize(name);
    match store.find_member(&username.key).await? {
        Some(member) => Ok(member.id),
        None => bail!("user {:?} not found", username.display),
    }
}

fn parse_time(value: &str) -> anyhow::Result<i64> {
    let time = OffsetDateTime::parse(value, &Rfc3339)
        .with_context(|| format!("invalid time {value:?}: expected RFC 3339"))?;
    Ok(time.unix_timestamp())
}

fn event_json(record: AuditRecord) -> EventJson {
    EventJson {
        occurred_at: rfc3339(record.occurred_at),
        event: record.event,
        member_id: record.member_id,
        username: record.username,
        client_id: record.client_id,
        grant_id: record.grant_id,
        address: record.address,
        detail: record.detail,
    }
}

fn event_row(record: AuditRecord) -> [String; 7] {
    let member = match (record.username, record.member_id) {
        (Some(username), _) => username,
        (None, Some(id)) => format!("#{id}"),
        (None, None) => "-".to_owned(),
    };
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    [
        rfc3339(record.occurred_at),
        record.event,
        member,
        or_dash(record.client_id),
        or_dash(record.grant_id),
        or_dash(record.address),
        or_dash(record.detail),
    ]
}
