//! `hktia-portal client …`: registering, listing and removing applications.

use anyhow::bail;
use clap::{Subcommand, ValueEnum};

use crate::clock::{Clock, SystemClock};
use crate::store::{ClientKind, NewClient, Store, StoreError};

/// Application commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an application.
    Add {
        /// The client_id the application will send.
        client_id: String,
        /// Web or mobile; mobile clients must send device_id.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// A redirect URI for the browser flow; repeat for several.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Name shown to members; the client_id by default.
        #[arg(long)]
        name: Option<String>,
    },
    /// List applications.
    List,
    /// Remove an application; its sessions and tokens end at once.
    Remove {
        /// The client_id.
        client_id: String,
    },
}

/// The `--kind` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KindArg {
    /// A web application.
    Web,
    /// A mobile application.
    Mobile,
}

/// Runs an application command.
pub async fn run(command: ClientCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        ClientCommand::Add { client_id, kind, redirect_uris, name } => {
            let kind = match kind {
                KindArg::Web => ClientKind::Web,
                KindArg::Mobile => ClientKind::Mobile,
            };
            add(store, &client_id, kind, &redirect_uris, name.as_deref()).await?;
            println!("client {client_id:?} added");
        }
        ClientCommand::List => {
            let rows: Vec<[String; 4]> = store
                .list_clients()
                .await?
                .into_iter()
                .map(|c| [c.id, c.kind.as_str().to_owned(), c.name, c.redirect_uris.join(" ")])
                .collect();
            print_table(&["CLIENT_ID", "KIND", "NAME", "REDIRECT URIS"], &rows);
        }
        ClientCommand::Remove { client_id } => {
            if !store.remove_client(&client_id).await? {
                bail!("client {client_id:?} not found");
            }
            println!("client {client_id:?} removed");
        }
    }
    Ok(())
}

/// Registers a client after checking its id and redirect URIs.
pub async fn add(
    store: &Store,
    client_id: &str,
    kind: ClientKind,
    redirect_uris: &[String],
    name: Option<&str>,
) -> anyhow::Result<()> {
    check_client_id(client_id)?;
    for uri in redirect_uris {
        check_redirect_uri(uri)?;
    }
    let client = NewClient {
        id: client_id,
        kind,
        name: name.unwrap_or(client_id),
        redirect_uris,
        now: SystemClock.now(),
    };
    match store.insert_client(&client).await {
        Err(StoreError::Conflict) => bail!("client {client_id:?} already exists"),
        other => Ok(other?),
    }
}

fn check_client_id(client_id: &str) -> anyhow::Result<()> {
    let valid = !client_id.is_empty()
        && client_id.len() <= 255
        && client_id.chars().all(|c| c.is_ascii_graphic());
    if !valid {
        bail!("invalid client id {client_id:?}: use 1 to 255 visible ASCII characters");
    }
    Ok(())
}

/// Checks that `uri` is absolute and has no fragment (RFC 6749 section
/// 3.1.2), and that plain `http` goes only to a loopback address (RFC 9700
/// section 2.1, RFC 8252 section 7.3). Custom schemes of mobile apps are
/// accepted. The URI is stored exactly as given: matching is character for
/// character, so a wildcard would never match and is rejected as a mistake.
fn check_redirect_uri(uri: &str) -> anyhow::Result<()> {
    let Ok(parsed) = url::Url::parse(uri) else {
        bail!("invalid redirect URI {uri:?}: expected an absolute URI without a fragment");
    };
    if parsed.fragment().is_some() || parsed.cannot_be_a_base() {
        bail!("invalid redirect URI {uri:?}: expected an absolute URI without a fragment");
    }
    if uri.contains('*') {
        bail!("invalid redirect URI {uri:?}: wildcards are not supported; register each URI");
    }
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    if parsed.scheme() == "http" && !loopback {
        bail!("invalid redirect URI {uri:?}: use https, or http only on a loopback address");
    }
    Ok(())
}

/// Prints rows under a header, in columns padded to their widest cell.
pub fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(widths).map(|(cell, width)| format!("{cell:width$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
