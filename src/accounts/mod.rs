//! Members: usernames, passwords and signing in. No HTTP and no SQL here;
//! the store keeps the records.

mod hash_pool;
mod password;
mod username;

pub use password::{
    HashError, MAX_PASSWORD_BYTES, MIN_PASSWORD_BYTES, Password, PasswordError, PasswordHasher,
    Verification,
};
pub use username::{MAX_USERNAME_CHARS, Username, UsernameError};

use std::net::IpAddr;

use crate::audit::{AuditEntry, Event};
use crate::clock::UnixTime;
use crate::config::{Config, MAX_LOGIN_PAUSE};
use crate::store::{LockoutPolicy, MemberRecord, NewMember, Reservation, Store, StoreError};

/// The reason a sign-in failed. Clients see one error for the first three
/// variants, and the audit trail records the variant.
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
    /// Too many sign-ins of this username failed; the password was not
    /// checked.
    #[error("sign-in paused for {retry_after} s after repeated failures")]
    Paused {
        /// Seconds until the next attempt is checked.
        retry_after: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A reason a member could not be added or changed.
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
    /// The email address is not of the form `local@domain`.
    #[error("invalid email address {0:?}: expected local@domain")]
    InvalidEmail(String),
}

/// Checks that `email` looks like `local@domain`: one `@` with text on
/// both sides, no spaces or control characters, at most 254 bytes (RFC
/// 5321 section 4.5.3.1.3). Whether the mailbox exists is not checked.
fn check_email(email: &str) -> Result<(), AccountError> {
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if valid { Ok(()) } else { Err(AccountError::InvalidEmail(email.to_owned())) }
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

/// One sign-in attempt, with what the audit trail records of it.
#[derive(Debug)]
pub struct SignInAttempt<'a> {
    /// The username as typed.
    pub username: &'a str,
    /// The password as typed.
    pub password: &'a Password,
    /// The application the member signs in to.
    pub client_id: &'a str,
    /// The address of the client that sent the attempt.
    pub address: Option<IpAddr>,
    /// The time the request arrived.
    pub now: UnixTime,
}

/// Returns the sign-in pause rules of `config`.
pub fn lockout_policy(config: &Config) -> LockoutPolicy {
    LockoutPolicy {
        max_failures: config.login_max_failures.into(),
        first_pause: seconds(config.login_lockout),
        max_pause: seconds(MAX_LOGIN_PAUSE),
    }
}

fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// Checks a username and password. Unknown and disabled members cost the
/// same hashing work as known ones, so the response time reveals nothing.
///
/// Each attempt counts as a failure of that username before the password
/// is checked, and a success clears the count. Once `policy.max_failures`
/// attempts failed, sign-in pauses and the password is not checked until
/// the pause ends. Unknown usernames are counted the same way, so a pause
/// does not tell whether a member exists.
pub async fn sign_in(
    store: &Store,
    hasher: &PasswordHasher,
    policy: &LockoutPolicy,
    attempt: &SignInAttempt<'_>,
) -> Result<MemberRecord, SignInError> {
    let username = Username::normalize(attempt.username);
    let member = store.find_member(&username.key).await?;
    let reservation = reserve_attempt(store, policy, member.as_ref(), &username.key, attempt.now);
    if let Reservation::Paused { until } = reservation.await? {
        let retry_after = u64::try_from(until - attempt.now).unwrap_or(1);
        audit_signin(store, attempt, member.as_ref(), Event::SignInPaused, "too many failures")
            .await;
        return Err(SignInError::Paused { retry_after });
    }

    let hash = member.as_ref().map(|m| m.password_hash.as_str());
    let verification = hasher.verify(attempt.password, hash).await?;
    let Some(member) = member else {
        return Err(reject(store, attempt, None, SignInError::UnknownMember).await);
    };
    let Verification::Match { outdated } = verification else {
        return Err(reject(store, attempt, Some(&member), SignInError::WrongPassword).await);
    };
    if member.disabled {
        return Err(reject(store, attempt, Some(&member), SignInError::Disabled).await);
    }

    store.clear_signin_failures(&username.key).await?;
    if outdated {
        rehash(store, hasher, &member, attempt.password).await;
    }
    audit_signin(store, attempt, Some(&member), Event::SignInSucceeded, "").await;
    Ok(member)
}

async fn reserve_attempt(
    store: &Store,
    policy: &LockoutPolicy,
    member: Option<&MemberRecord>,
    username_key: &str,
    now: UnixTime,
) -> Result<Reservation, StoreError> {
    if policy.max_failures == 0 {
        return Ok(Reservation::Allowed);
    }
    match member {
        Some(member) => store.reserve_member_signin(member.id, policy, now).await,
        None => store.reserve_unknown_signin(username_key, policy, now).await,
    }
}

/// Records a failed sign-in and returns its error.
async fn reject(
    store: &Store,
    attempt: &SignInAttempt<'_>,
    member: Option<&MemberRecord>,
    error: SignInError,
) -> SignInError {
    audit_signin(store, attempt, member, Event::SignInFailed, &error.to_string()).await;
    error
}

/// Records a sign-in event. The typed username is recorded only when it
/// names a member.
async fn audit_signin(
    store: &Store,
    attempt: &SignInAttempt<'_>,
    member: Option<&MemberRecord>,
    event: Event,
    detail: &str,
) {
    let mut entry = AuditEntry::new(event).client(attempt.client_id).address(attempt.address);
    if let Some(member) = member {
        entry = entry.member(member.id, &member.username);
    }
    if !detail.is_empty() {
        entry = entry.detail(detail);
    }
    entry.record(store, attempt.now).await;
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
    if let Some(email) = details.email {
        check_email(email)?;
    }
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

/// Replaces a member's password, ends every session of theirs and lifts
/// their sign-in pause.
pub async fn set_password(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &Password,
    now: UnixTime,
) -> Result<(), AccountError> {
    let name = Username::normalize(username);
    let member = existing_member(store, &name).await?;
    let hash = hasher.hash(password).await?;
    store.set_member_password(&name.key, &hash, now).await.map_err(AccountError::Store)?;
    AuditEntry::new(Event::PasswordChanged)
        .member(member.id, &member.username)
        .record(store, now)
        .await;
    Ok(())
}

/// Disables or enables a member; disabling ends every session of theirs.
pub async fn set_disabled(
    store: &Store,
    username: &str,
    disabled: bool,
    now: UnixTime,
) -> Result<(), AccountError> {
    let name = Username::normalize(username);
    let member = existing_member(store, &name).await?;
    store.set_member_disabled(&name.key, disabled, now).await.map_err(AccountError::Store)?;
    let event = if disabled { Event::MemberDisabled } else { Event::MemberEnabled };
    AuditEntry::new(event).member(member.id, &member.username).record(store, now).await;
    Ok(())
}

/// Lifts a member's sign-in pause and clears their count of failures, for
/// an administrator who has checked that the member is the one signing in.
pub async fn unlock(store: &Store, username: &str, now: UnixTime) -> Result<(), AccountError> {
    let name = Username::normalize(username);
    let member = existing_member(store, &name).await?;
    store.clear_signin_failures(&name.key).await.map_err(AccountError::Store)?;
    AuditEntry::new(Event::MemberUnlocked)
        .member(member.id, &member.username)
        .record(store, now)
        .await;
    Ok(())
}

/// Finds the member named `name`, or fails with [`AccountError::NotFound`].
async fn existing_member(store: &Store, name: &Username) -> Result<MemberRecord, AccountError> {
    match store.find_member(&name.key).await {
        Ok(Some(member)) => Ok(member),
        Ok(None) => Err(AccountError::NotFound(name.display.clone())),
        Err(error) => Err(AccountError::Store(error)),
    }
}
