//! Contract tests over real HTTP on loopback, each on SQLite and on
//! PostgreSQL.

mod support;

mod auth;
mod bad_input;
mod cli;
mod refresh;
mod standard_client;
mod storage;
mod token;
mod tokeninfo;
