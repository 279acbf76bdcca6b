//! Contract tests over real HTTP on loopback, each on SQLite and on
//! PostgreSQL.

mod support;

mod audit;
mod auth;
mod bad_input;
mod cli;
mod cli_admin;
mod consent;
mod lifecycle;
mod lockout;
mod metadata;
mod rate_limit;
mod refresh;
mod revoke;
mod sessions;
mod signin;
mod standard_client;
mod storage;
mod token;
mod tokeninfo;
