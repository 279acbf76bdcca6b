//! hktia-portal: the association's OAuth 2.0 authorization server.
//!
//! Members sign in through it; the association's web and mobile apps read
//! a member's own data with the tokens it issues. One binary serves HTTP
//! and runs the admin commands, on SQLite by default or on PostgreSQL,
//! where several servers on one database act as one service.
//!
//! # The layers
//!
//! ```text
//! http  ->  oauth / accounts (rules)  ->  store  ->  SQLite | PostgreSQL
//! ```
//!
//! - [`http`]: routes, our body extractor, the request context, the one
//!   place where errors become responses, and the HTML pages of the
//!   browser flow ([`http::pages`]), rendered from `templates/`.
//! - [`oauth`]: codes, tokens, PKCE, refresh rotation and reuse detection.
//!   Its error enum has one variant per RFC error code.
//! - [`accounts`]: usernames, passwords, Argon2id on a bounded pool.
//! - [`store`]: all the SQL, for both databases, and nothing else.
//! - [`cli`]: the commands; `serve` starts [`server`].
//! - [`config`], [`clock`], [`tokens`], [`telemetry`], [`state`]: settings,
//!   the injected time source, secret tokens, logging and metrics, shared
//!   state.
//! - [`server`]: serving the router, and graceful shutdown with a deadline.
//!   `docs/deploy.md` covers running it in production.
//! - [`audit`]: security events, to the `audit_events` table and the log.
//! - [`cleanup`]: the task `serve` starts to delete expired rows.
//!
//! # One request's path
//!
//! A `POST /oauth2/token` gets a request id and a log span from
//! [`http::middleware`]; [`http::params`] reads the JSON or form body into
//! one map; the handler in [`http::oauth::token`] reads the clock once and
//! calls [`oauth::token::token`], which checks client, device and PKCE and
//! has the store spend the code with one conditional `UPDATE`, so that
//! only one request on one server can win. A failure comes back as
//! [`oauth::OauthError`], becomes [`http::error::ApiError`] at the edge, and
//! leaves as the documented status and body.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod accounts;
pub mod audit;
pub mod cleanup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod oauth;
pub mod server;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tokens;
