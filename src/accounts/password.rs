//! Passwords and their Argon2id hashes. Hashing runs on a thread of its own
//! per core ([`HashPool`]), so that a burst of sign-ins never stalls the
//! threads that serve other requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::OnceCell;

use super::hash_pool::HashPool;
use crate::config::Argon2Params;
use crate::tokens::Secret;

/// Minimum password length, in bytes.
pub const MIN_PASSWORD_BYTES: usize = 8;
/// Maximum password length, in bytes. Longer input is never hashed.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password whose length is within bounds. `Debug` prints nothing.
#[derive(Clone, Debug)]
pub struct Password(Secret);

/// A password that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Under [`MIN_PASSWORD_BYTES`].
    #[error("password is shorter than {MIN_PASSWORD_BYTES} bytes")]
    TooShort,
    /// Over [`MAX_PASSWORD_BYTES`].
    #[error("password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

impl Password {
    /// Checks the length of `value`.
    pub fn new(value: String) -> Result<Self, PasswordError> {
        match value.len() {
            n if n < MIN_PASSWORD_BYTES => Err(PasswordError::TooShort),
            n if n > MAX_PASSWORD_BYTES => Err(PasswordError::TooLong),
            _ => Ok(Self(Secret::new(value))),
        }
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose().as_bytes()
    }
}

/// The result of checking a password against a hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// The password does not match, or there was no hash to match.
    Mismatch,
    /// The password matches. `outdated` is true when the hash was made with weaker
    /// settings than the current ones and should be made again.
    Match {
        /// Whether the hash should be made again with the current settings.
        outdated: bool,
    },
}

/// A hashing or verification failure that is not a wrong password.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes and verifies passwords on a pool bounded by the number of cores.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: Argon2Params,
    pool: HashPool,
    dummy_hash: Arc<OnceCell<String>>,
    verifications: Arc<AtomicU64>,
}

impl PasswordHasher {
    /// Creates a hasher for new hashes of cost `params`.
    pub fn new(params: Argon2Params) -> Self {
        Self {
            params,
            pool: HashPool::new(),
            dummy_hash: Arc::new(OnceCell::new()),
            verifications: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Hashes `password` with a fresh salt.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.clone();
        let argon2 = self.argon2()?;
        self.run(move || hash_with_reused_memory(&argon2, password.bytes())).await
    }

    /// Checks `password` against `hash`. Without a hash (an unknown member)
    /// it checks against a dummy hash of the same cost, so that the
    /// response takes as long either way, and reports a mismatch.
    pub async fn verify(
        &self,
        password: &Password,
        hash: Option<&str>,
    ) -> Result<Verification, HashError> {
        let (hash, known) = match hash {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?.to_owned(), false),
        };
        let password = password.clone();
        let params = self.params;
        let verification = self
            .run(move || {
                let parsed = PasswordHash::new(&hash).map_err(|e| HashError(e.to_string()))?;
                let matches = verify_with_reused_memory(&parsed, password.bytes())?;
                Ok(if matches && known {
                    Verification::Match { outdated: is_outdated(&parsed, params) }
                } else {
                    Verification::Mismatch
                })
            })
            .await?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        Ok(verification)
    }

    /// Returns how many Argon2 verifications this hasher has run, against
    /// stored and dummy hashes alike.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn dummy_hash(&self) -> Result<&str, HashError> {
        let hash = self
            .dummy_hash
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                rand::RngCore::fill_bytes(&mut OsRng, &mut random);
                let filler = Password(Secret::new(to_hex(&random)));
                self.hash(&filler).await
            })
            .await?;
        Ok(hash)
    }

    fn argon2(&self) -> Result<Argon2<'static>, HashError> {
        let params =
            Params::new(self.params.memory_kib, self.params.passes, self.params.lanes, None)
                .map_err(|e| HashError(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Runs `work` on a hashing thread once one is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        self.pool.run(work).await.map_err(|e| HashError(e.to_string()))?
    }
}

thread_local! {
    /// The Argon2 memory of this hashing thread, kept from one hash to the
    /// next. Allocating 19 MiB for each hash fragments the C allocator's
    /// heap among the server's small allocations, and `scripts/bench` saw
    /// the process grow past 600 MB under sign-ins.
    static ARGON2_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `argon2` into `out` on this thread's kept memory, growing it when
/// the parameters ask for more.
fn argon2_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let needed = argon2.params().block_count();
        if memory.len() < needed {
            memory.resize(needed, Block::default());
        }
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
            .map_err(|e| HashError(e.to_string()))
    })
}

/// Hashes `password` with a fresh salt into a PHC string, as
/// `argon2::PasswordHasher` would, but on this thread's kept memory.
fn hash_with_reused_memory(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, HashError> {
    let error = |e: argon2::password_hash::Error| HashError(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(error)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(argon2, password, salt_bytes, &mut out)?;

    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(error)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(error)?),
    };
    Ok(hash.to_string())
}

/// Checks `password` against a parsed PHC hash of any Argon2 variant, on
/// this thread's kept memory. The comparison is in constant time.
fn verify_with_reused_memory(hash: &PasswordHash<'_>, password: &[u8]) -> Result<bool, HashError> {
    let error = |e: argon2::password_hash::Error| HashError(e.to_string());
    let algorithm = Algorithm::try_from(hash.algorithm).map_err(error)?;
    let version = hash.version.map_or(Ok(Version::V0x13), Version::try_from);
    let version = version.map_err(|e| HashError(e.to_string()))?;
    let params = Params::try_from(hash).map_err(error)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err(HashError("the stored hash has no salt or no output".to_owned()));
    };
    let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(error)?;

    let mut out = vec![0u8; expected.len()];
    argon2_into(&Argon2::new(algorithm, version, params), password, salt_bytes, &mut out)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(error)? == expected)
}

/// Tells whether `hash` is weaker than `params` in any setting, or is not
/// Argon2id at all.
fn is_outdated(hash: &PasswordHash<'_>, params: Argon2Params) -> bool {
    let Ok(stored) = Params::try_from(hash) else { return true };
    hash.algorithm != argon2::ARGON2ID_IDENT
        || stored.m_cost() < params.memory_kib
        || stored.t_cost() < params.passes
        || stored.p_cost() < params.lanes
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_length_bounds() {
        assert_eq!(Password::new("1234567".into()).unwrap_err(), PasswordError::TooShort);
        assert!(Password::new("12345678".into()).is_ok());
        assert!(Password::new("x".repeat(1024)).is_ok());
        assert_eq!(Password::new("x".repeat(1025)).unwrap_err(), PasswordError::TooLong);
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = PasswordHasher::new(Argon2Params::MINIMUM);
        let password = Password::new("correct horse".into()).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));

        let verified = hasher.verify(&password, Some(&hash)).await.unwrap();
        assert_eq!(verified, Verification::Match { outdated: false });

        let wrong = Password::new("wrong horse".into()).unwrap();
        assert_eq!(hasher.verify(&wrong, Some(&hash)).await.unwrap(), Verification::Mismatch);
    }

    #[test]
    fn hashes_match_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

        let argon2 = PasswordHasher::new(Argon2Params::MINIMUM).argon2().unwrap();
        let ours = hash_with_reused_memory(&argon2, b"correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2.hash_password(b"correct horse", &salt).unwrap().to_string();
        let parsed = PasswordHash::new(&theirs).unwrap();
        assert!(verify_with_reused_memory(&parsed, b"correct horse").unwrap());
        assert!(!verify_with_reused_memory(&parsed, b"wrong horse").unwrap());
    }

    #[tokio::test]
    async fn unknown_member_uses_dummy_hash() {
        let hasher = PasswordHasher::new(Argon2Params::MINIMUM);
        let password = Password::new("anything at all".into()).unwrap();
        assert_eq!(hasher.verify(&password, None).await.unwrap(), Verification::Mismatch);
        assert!(hasher.dummy_hash.get().is_some());
    }

    #[tokio::test]
    async fn stronger_settings_mark_hash_outdated() {
        let weak = PasswordHasher::new(Argon2Params::MINIMUM);
        let password = Password::new("correct horse".into()).unwrap();
        let hash = weak.hash(&password).await.unwrap();

        let strong =
            PasswordHasher::new(Argon2Params { memory_kib: 20 * 1024, ..Argon2Params::MINIMUM });
        let verified = strong.verify(&password, Some(&hash)).await.unwrap();
        assert_eq!(verified, Verification::Match { outdated: true });
    }
}
