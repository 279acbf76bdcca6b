//! The OAuth endpoints.

pub mod auth;
pub mod metadata;
pub mod revoke;
pub mod token;
pub mod tokeninfo;
