//! Usernames: trimmed, NFKC-normalised, compared without case.

use unicode_normalization::UnicodeNormalization;

/// Maximum username length, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;

/// A username as registered, and the key that lookups compare with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username {
    /// Trimmed and NFKC-normalised, with its case kept for display.
    pub display: String,
    /// `display` in lower case, normalised again: two spellings of one
    /// username have the same key.
    pub key: String,
}

/// A reason a username cannot be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsernameError {
    /// Nothing left after trimming.
    #[error("username is empty")]
    Empty,
    /// Over [`MAX_USERNAME_CHARS`].
    #[error("username is longer than {MAX_USERNAME_CHARS} characters")]
    TooLong,
    /// Contains a control character or whitespace inside.
    #[error("username may not contain spaces or control characters")]
    BadCharacter,
}

impl Username {
    /// Normalises `raw` without judging it, for looking a member up.
    pub fn normalize(raw: &str) -> Self {
        let display: String = raw.trim().nfkc().collect();
        let key = display.to_lowercase().nfkc().collect();
        Self { display, key }
    }

    /// Normalises `raw` and checks that it can be registered.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let username = Self::normalize(raw);
        if username.display.is_empty() {
            return Err(UsernameError::Empty);
        }
        if username.display.chars().count() > MAX_USERNAME_CHARS {
            return Err(UsernameError::TooLong);
        }
        if username.display.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(UsernameError::BadCharacter);
        }
        Ok(username)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_share_one_key() {
        let plain = Username::normalize("alice");
        assert_eq!(Username::normalize("  ALICE ").key, plain.key);
        // Fullwidth letters fold to ASCII under NFKC.
        assert_eq!(Username::normalize("ａｌｉｃｅ").key, plain.key);
    }

    #[test]
    fn display_keeps_case() {
        assert_eq!(Username::normalize(" Alice").display, "Alice");
    }

    #[test]
    fn parse_rejects_bad_names() {
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
        assert_eq!(Username::parse("a b"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse("a\u{0}b"), Err(UsernameError::BadCharacter));
        assert_eq!(Username::parse(&"x".repeat(65)), Err(UsernameError::TooLong));
    }
}
