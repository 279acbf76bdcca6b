//! Codes and tokens: 256 random bits from the operating system, written as
//! base64url after a short prefix that names their kind. Only the SHA-256
//! digest of a token is ever stored.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};

/// The purpose of a secret string. Its prefix lets secret scanners spot it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// An authorization code.
    Code,
    /// An access token.
    Access,
    /// A refresh token.
    Refresh,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Code => "hkc_",
            TokenKind::Access => "hka_",
            TokenKind::Refresh => "hkr_",
        }
    }
}

/// A code, token or password as sent over the wire. `Debug` and `Display`
/// never show the value, so it cannot leak into a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value received from a client.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Returns the value, to be sent to the client it belongs to.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Returns the SHA-256 digest under which the value is stored.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest(Sha256::digest(self.0.as_bytes()).to_vec())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// SHA-256 digest of a code or token: the only form the database keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenDigest(pub Vec<u8>);

/// Generates a new code or token of `kind`.
pub fn generate(kind: TokenKind) -> Secret {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    Secret(format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes)))
}

/// Generates an opaque identifier of 128 random bits, such as a session id.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_token_is_prefixed_base64url() {
        let token = generate(TokenKind::Access);
        let body = token.expose().strip_prefix("hka_").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
    }

    #[test]
    fn generated_tokens_differ() {
        assert_ne!(generate(TokenKind::Code), generate(TokenKind::Code));
    }

    #[test]
    fn secret_debug_hides_value() {
        let secret = Secret::new("hunter22".to_owned());
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn digest_is_sha256() {
        let digest = Secret::new("abc".to_owned()).digest();
        assert_eq!(digest.0[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
