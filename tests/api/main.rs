//! Contract tests over real HTTP on loopback, each on SQLite and on
//! PostgreSQL.

mod support;

mod audit;
mod auth;
mod cli;
mod lifecycle;
mod lockout;
mod metadata;
mod rate_limit;
mod revoke;
mod sessions;
mod signin;
