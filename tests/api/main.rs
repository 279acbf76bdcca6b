//! Contract tests over real HTTP on loopback, each on SQLite and on
//! PostgreSQL.

mod support;

mod auth;
mod lockout;
mod rate_limit;
mod signin;
