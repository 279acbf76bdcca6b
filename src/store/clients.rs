//! The `clients` and `redirect_uris` tables.

use super::sqlite::from_sqlite_row;
use super::{Step, Store, StoreError, args};
use crate::clock::UnixTime;

/// The kind of application a client is. Mobile clients must name the
/// device with every code and token request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// A web application.
    Web,
    /// A mobile application; it must send `device_id`.
    Mobile,
}

impl ClientKind {
    /// Returns the name stored in the database and shown in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Web => "web",
            ClientKind::Mobile => "mobile",
        }
    }

    fn parse(value: &str) -> Self {
        if value == "mobile" { ClientKind::Mobile } else { ClientKind::Web }
    }
}

/// A registered application.
#[derive(Clone, Debug)]
pub struct ClientRecord {
    /// The `client_id` applications send.
    pub id: String,
    /// Web or mobile.
    pub kind: ClientKind,
    /// Name shown to members.
    pub name: String,
    /// Registered redirect URIs, compared character for character.
    pub redirect_uris: Vec<String>,
    /// When the client was registered.
    pub created_at: UnixTime,
}

/// An application to register.
#[derive(Debug)]
pub struct NewClient<'a> {
    /// The `client_id`.
    pub id: &'a str,
    /// Web or mobile.
    pub kind: ClientKind,
    /// Name shown to members.
    pub name: &'a str,
    /// Redirect URIs, stored exactly as given.
    pub redirect_uris: &'a [String],
    /// Registration time.
    pub now: UnixTime,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    kind: String,
    name: String,
    created_at: UnixTime,
}

/// A client row joined with one of its redirect URIs, if it has any.
#[derive(sqlx::FromRow)]
struct ClientUriRow {
    id: String,
    kind: String,
    name: String,
    created_at: UnixTime,
    uri: Option<String>,
}

from_sqlite_row!(ClientRow { id, kind, name, created_at });
from_sqlite_row!(ClientUriRow { id, kind, name, created_at, uri });

/// Adds a redirect URI to a client, unless it is registered already.
const INSERT_REDIRECT_URI: &str =
    "INSERT INTO redirect_uris (client_id, uri) VALUES ($1, $2) ON CONFLICT DO NOTHING";

impl Store {
    /// Registers a client. Fails with [`StoreError::Conflict`] when the id
    /// is taken.
    pub async fn insert_client(&self, client: &NewClient<'_>) -> Result<(), StoreError> {
        let mut steps = vec![Step::new(
            "INSERT INTO clients (id, kind, name, created_at) VALUES ($1, $2, $3, $4)",
            args![client.id, client.kind.as_str(), client.name, client.now],
        )];
        for uri in client.redirect_uris {
            steps.push(Step::new(INSERT_REDIRECT_URI, args![client.id, uri.as_str()]));
        }
        self.transaction(steps).await?;
        Ok(())
    }

    /// Finds a client with its redirect URIs.
    pub async fn find_client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        // One query for the client and its URIs: this runs on every token
        // request. A client without URIs comes back as one row whose `uri`
        // is NULL.
        let rows: Vec<ClientUriRow> = self
            .fetch_all(
                "SELECT c.id, c.kind, c.name, c.created_at, r.uri FROM clients c \
                 LEFT JOIN redirect_uris r ON r.client_id = c.id WHERE c.id = $1 ORDER BY r.uri",
                args![id],
            )
            .await?;
        let uris = rows.iter().filter_map(|row| row.uri.clone()).collect();
        Ok(rows.into_iter().next().map(|row| {
            let ClientUriRow { id, kind, name, created_at, uri: _ } = row;
            client_record(ClientRow { id, kind, name, created_at }, uris)
        }))
    }

    /// Lists every client with its redirect URIs, by id.
    pub async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let rows: Vec<ClientRow> = self
            .fetch_all("SELECT id, kind, name, created_at FROM clients ORDER BY id", args![])
            .await?;
        let uris: Vec<(String, String)> = self
            .fetch_all("SELECT client_id, uri FROM redirect_uris ORDER BY uri", args![])
            .await?;
        let clients = rows
            .into_iter()
            .map(|row| {
                let own = uris
                    .iter()
                    .filter(|(client_id, _)| *client_id == row.id)
                    .map(|(_, uri)| uri.clone())
                    .collect();
                client_record(row, own)
            })
            .collect();
        Ok(clients)
    }

    /// Removes a client; its codes, sessions and tokens go with it.
    /// Returns `false` when no such client exists.
    pub async fn remove_client(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self.execute("DELETE FROM clients WHERE id = $1", args![id]).await?;
        Ok(removed > 0)
    }

    /// Adds a redirect URI to a client, unless it is registered already.
    pub async fn add_redirect_uri(&self, client_id: &str, uri: &str) -> Result<(), StoreError> {
        self.execute(INSERT_REDIRECT_URI, args![client_id, uri]).await?;
        Ok(())
    }
}

fn client_record(row: ClientRow, redirect_uris: Vec<String>) -> ClientRecord {
    ClientRecord {
        kind: ClientKind::parse(&row.kind),
        id: row.id,
        name: row.name,
        redirect_uris,
        created_at: row.created_at,
    }
}
