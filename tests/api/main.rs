//! Contract tests over real HTTP on loopback, each on SQLite and on
//! PostgreSQL.

mod support;

mod auth;
mod backup;
mod logs;
mod openapi;
mod ops;
mod proxy;
mod shutdown;
mod systemd;
