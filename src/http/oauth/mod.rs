//! The OAuth endpoints.

pub mod auth;
pub mod token;
pub mod tokeninfo;
