//! Proof Key for Code Exchange (RFC 7636), S256 only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::OauthError;

/// Length of an S256 challenge: 32 bytes in base64url without padding.
const CHALLENGE_LEN: usize = 43;

/// Checks a `code_challenge` and its method from an authorization request
/// and returns the challenge to store with the code. `plain`, and a missing
/// method (which RFC 7636 reads as `plain`), are rejected.
pub fn parse_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<String>, OauthError> {
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OauthError::invalid_request(
            "code_challenge_method was sent without code_challenge",
        )),
        (Some(_), method) if method != Some("S256") => {
            Err(OauthError::invalid_request("code_challenge_method must be S256"))
        }
        (Some(challenge), _) => {
            let valid = challenge.len() == CHALLENGE_LEN
                && URL_SAFE_NO_PAD.decode(challenge).is_ok_and(|bytes| bytes.len() == 32);
            if valid {
                Ok(Some(challenge.to_owned()))
            } else {
                Err(OauthError::invalid_request(
                    "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
                ))
            }
        }
    }
}

/// Checks that a `code_verifier` is 43 to 128 characters of
/// `[A-Za-z0-9-._~]`, as RFC 7636 section 4.1 requires.
pub fn check_verifier(verifier: &str) -> Result<(), OauthError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if (43..=128).contains(&verifier.len()) && verifier.bytes().all(allowed) {
        Ok(())
    } else {
        Err(OauthError::invalid_request(
            "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'",
        ))
    }
}

/// Computes the S256 challenge of `verifier`: its SHA-256 in base64url.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Tells whether `verifier` hashes to `challenge`, in constant time.
pub fn verify(verifier: &str, challenge_sent: &str) -> bool {
    challenge(verifier).as_bytes().ct_eq(challenge_sent.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_example_verifies() {
        assert!(verify(VERIFIER, CHALLENGE));
        assert!(!verify(&VERIFIER.replace('d', "e"), CHALLENGE));
    }

    #[test]
    fn plain_and_missing_method_are_rejected() {
        assert!(parse_challenge(Some(CHALLENGE), Some("plain")).is_err());
        assert!(parse_challenge(Some(CHALLENGE), None).is_err());
        assert!(parse_challenge(None, Some("S256")).is_err());
        assert_eq!(parse_challenge(Some(CHALLENGE), Some("S256")).unwrap().unwrap(), CHALLENGE);
    }

    #[test]
    fn verifier_bounds() {
        assert!(check_verifier(&"a".repeat(42)).is_err());
        assert!(check_verifier(&"a".repeat(43)).is_ok());
        assert!(check_verifier(&"a".repeat(128)).is_ok());
        assert!(check_verifier(&"a".repeat(129)).is_err());
        assert!(check_verifier(&format!("{}+", "a".repeat(43))).is_err());
    }
}
