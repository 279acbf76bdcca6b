//! The member API, for bearers of an access token.

pub mod me;
pub mod sessions;
