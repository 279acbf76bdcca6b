//! Contract tests over real HTTP on loopback, each on SQLite and on
//! PostgreSQL.

mod support;

mod audit;
mod auth;
mod backup;
mod bad_input;
mod cli;
mod cli_admin;
mod consent;
mod lifecycle;
mod lockout;
mod logs;
mod metadata;
mod openapi;
mod ops;
mod proxy;
mod rate_limit;
mod refresh;
mod revoke;
mod sessions;
mod shutdown;
mod signin;
mod standard_client;
mod storage;
mod systemd;
mod token;
mod tokeninfo;
