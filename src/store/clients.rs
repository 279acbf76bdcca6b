//! The `clients` and `redirect_uris` tables.

use super::{Store, StoreError, on_pool};
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
    #[sqlx(flatten)]
    client: ClientRow,
    uri: Option<String>,
}

impl Store {
    /// Registers a client. Fails with [`StoreError::Conflict`] when the id
    /// is taken.
    pub async fn insert_client(&self, client: &NewClient<'_>) -> Result<(), StoreError> {
        on_pool!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO clients (id, kind, name, created_at) VALUES ($1, $2, $3, $4)")
                .bind(client.id)
                .bind(client.kind.as_str())
                .bind(client.name)
                .bind(client.now)
                .execute(&mut *tx)
                .await?;
            for uri in client.redirect_uris {
                sqlx::query(
                    "INSERT INTO redirect_uris (client_id, uri) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(client.id)
                .bind(uri)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Finds a client with its redirect URIs.
    pub async fn find_client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        // One query for the client and its URIs: this runs on every token
        // request. A client without URIs comes back as one row whose `uri`
        // is NULL.
        let rows: Vec<ClientUriRow> = on_pool!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.kind, c.name, c.created_at, r.uri FROM clients c \
                 LEFT JOIN redirect_uris r ON r.client_id = c.id WHERE c.id = $1 ORDER BY r.uri",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let uris = rows.iter().filter_map(|row| row.uri.clone()).collect();
        Ok(rows.into_iter().next().map(|row| client_record(row.client, uris)))
    }

    /// Lists every client with its redirect URIs, by id.
    pub async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let clients = on_pool!(self, reader, |pool| {
            let rows: Vec<ClientRow> =
                sqlx::query_as("SELECT id, kind, name, created_at FROM clients ORDER BY id")
                    .fetch_all(pool)
                    .await?;
            let uris: Vec<(String, String)> =
                sqlx::query_as("SELECT client_id, uri FROM redirect_uris ORDER BY uri")
                    .fetch_all(pool)
                    .await?;
            rows.into_iter()
                .map(|row| {
                    let own = uris
                        .iter()
                        .filter(|(client_id, _)| *client_id == row.id)
                        .map(|(_, uri)| uri.clone())
                        .collect();
                    client_record(row, own)
                })
                .collect()
        });
        Ok(clients)
    }

    /// Removes a client; its codes, sessions and tokens go with it.
    /// Returns `false` when no such client exists.
    pub async fn remove_client(&self, id: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, writer, |pool| {
            sqlx::query("DELETE FROM clients WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
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

impl Store {
    /// Adds a redirect URI to a client, unless it is registered already.
    pub async fn add_redirect_uri(&self, client_id: &str, uri: &str) -> Result<(), StoreError> {
        on_pool!(self, writer, |pool| {
            sqlx::query(
                "INSERT INTO redirect_uris (client_id, uri) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(client_id)
            .bind(uri)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
