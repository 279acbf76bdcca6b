//! Members: usernames, passwords and signing in. No HTTP and no SQL here;
//! the store keeps the records.

mod password;
mod username;

pub use password::{
    HashError, MAX_PASSWORD_BYTES, MIN_PASSWORD_BYTES, Password, PasswordError, PasswordHasher,
    Verification,
};
pub use username::{MAX_USERNAME_CHARS, Username, UsernameError};

use crate::clock::UnixTime;
use crate::store::{MemberRecord, NewMember, Store, StoreError};

/// Why a sign-in failed. Clients see one error for every variant but the
/// last two; the variant goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No member has that username.
    #[error("unknown member")]
    UnknownMember,
    /// The password is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// The password is right but the member is disabled.
    #[error("member is disabled")]
    Disabled,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// Why a member could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The username is not acceptable.
    #[error(transparent)]
    Username(#[from] UsernameError),
    /// The password is not acceptable.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// A member with the same username exists.
    #[error("user {0:?} already exists")]
    Exists(String),
    /// No member has that username.
    #[error("user {0:?} not found")]
    NotFound(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// Details of a member to add.
#[derive(Debug)]
pub struct MemberDetails<'a> {
    /// The username as typed.
    pub username: &'a str,
    /// Name shown to people; the username when absent.
    pub display_name: Option<&'a str>,
    /// Email address.
    pub email: Option<&'a str>,
}

/// Checks a username and password. Unknown and disabled members cost the
/// same hashing work as known ones, so the answer's timing tells nothing.
pub async fn sign_in(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &Password,
) -> Result<MemberRecord, SignInError> {
    let username = Username::normalize(username);
    let member = store.find_member(&username.key).await?;

    let hash = member.as_ref().map(|m| m.password_hash.as_str());
    let verification = hasher.verify(password, hash).await?;

    let Some(member) = member else { return Err(SignInError::UnknownMember) };
    let Verification::Match { outdated } = verification else {
        return Err(SignInError::WrongPassword);
    };
    if member.disabled {
        return Err(SignInError::Disabled);
    }

    if outdated {
        rehash(store, hasher, &member, password).await;
    }
    Ok(member)
}

/// Makes a member's hash again with the current settings. A failure is
/// logged and otherwise ignored: the old hash still works.
async fn rehash(
    store: &Store,
    hasher: &PasswordHasher,
    member: &MemberRecord,
    password: &Password,
) {
    let result = match hasher.hash(password).await {
        Ok(new_hash) => store
            .rehash_member_password(member.id, &member.password_hash, &new_hash)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => tracing::info!(member_id = member.id, "password hash upgraded"),
        Err(error) => tracing::warn!(member_id = member.id, %error, "password hash upgrade failed"),
    }
}

/// Adds a member.
pub async fn add_member(
    store: &Store,
    hasher: &PasswordHasher,
    details: &MemberDetails<'_>,
    password: &Password,
    now: UnixTime,
) -> Result<(), AccountError> {
    let username = Username::parse(details.username)?;
    let hash = hasher.hash(password).await?;
    let member = NewMember {
        username: &username.display,
        username_key: &username.key,
        display_name: details.display_name.unwrap_or(&username.display),
        email: details.email,
        password_hash: &hash,
        now,
    };
    store.insert_member(&member).await.map_err(|e| match e {
        StoreError::Conflict => AccountError::Exists(username.display.clone()),
        other => AccountError::Store(other),
    })
}

/// Replaces a member's password and ends every session of theirs.
pub async fn set_password(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &Password,
    now: UnixTime,
) -> Result<(), AccountError> {
    let name = Username::normalize(username);
    let hash = hasher.hash(password).await?;
    let found =
        store.set_member_password(&name.key, &hash, now).await.map_err(AccountError::Store)?;
    if found { Ok(()) } else { Err(AccountError::NotFound(name.display)) }
}

/// Disables or enables a member; disabling ends every session of theirs.
pub async fn set_disabled(
    store: &Store,
    username: &str,
    disabled: bool,
    now: UnixTime,
) -> Result<(), AccountError> {
    let name = Username::normalize(username);
    let found =
        store.set_member_disabled(&name.key, disabled, now).await.map_err(AccountError::Store)?;
    if found { Ok(()) } else { Err(AccountError::NotFound(name.display)) }
}
