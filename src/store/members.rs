//! The `members` table.

use super::sqlite::from_sqlite_row;
use super::{Outcome, Step, Store, StoreError, args};
use crate::clock::UnixTime;

/// A member as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRecord {
    /// Row id.
    pub id: i64,
    /// The username as registered, trimmed and NFKC-normalised.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Email address, if given.
    pub email: Option<String>,
    /// Argon2id hash in PHC string format.
    pub password_hash: String,
    /// A disabled member cannot sign in and their tokens stop working.
    pub disabled: bool,
    /// When the member was added.
    pub created_at: UnixTime,
    /// Failed sign-ins since the last success.
    pub failed_logins: i64,
    /// Sign-in is paused until this time, when set.
    pub locked_until: Option<UnixTime>,
}

/// A member to add.
#[derive(Debug)]
pub struct NewMember<'a> {
    /// The username as registered.
    pub username: &'a str,
    /// The case-folded username that lookups compare with.
    pub username_key: &'a str,
    /// Name shown to people.
    pub display_name: &'a str,
    /// Email address, if given.
    pub email: Option<&'a str>,
    /// Argon2id hash in PHC string format.
    pub password_hash: &'a str,
    /// Creation time.
    pub now: UnixTime,
}

from_sqlite_row!(MemberRecord {
    id,
    username,
    display_name,
    email,
    password_hash,
    disabled,
    created_at,
    failed_logins,
    locked_until,
});

/// Expands to the columns of a [`MemberRecord`], for `concat!`.
macro_rules! member_columns {
    () => {
        "id, username, display_name, email, password_hash, disabled, created_at, \
         failed_logins, locked_until"
    };
}

impl Store {
    /// Adds a member. Fails with [`StoreError::Conflict`] when the username
    /// key is taken.
    pub async fn insert_member(&self, member: &NewMember<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO members \
             (username, username_key, display_name, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            args![
                member.username,
                member.username_key,
                member.display_name,
                member.email,
                member.password_hash,
                member.now,
            ],
        )
        .await?;
        Ok(())
    }

    /// Finds a member by the case-folded username.
    pub async fn find_member(
        &self,
        username_key: &str,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.fetch_optional(
            concat!("SELECT ", member_columns!(), " FROM members WHERE username_key = $1"),
            args![username_key],
        )
        .await
    }

    /// Finds a member by row id.
    pub async fn member_by_id(&self, id: i64) -> Result<Option<MemberRecord>, StoreError> {
        self.fetch_optional(
            concat!("SELECT ", member_columns!(), " FROM members WHERE id = $1"),
            args![id],
        )
        .await
    }

    /// Lists every member, oldest first.
    pub async fn list_members(&self) -> Result<Vec<MemberRecord>, StoreError> {
        self.fetch_all(concat!("SELECT ", member_columns!(), " FROM members ORDER BY id"), args![])
            .await
    }

    /// Disables or enables a member. Disabling also ends every session of
    /// theirs. Returns `false` when no such member exists.
    pub async fn set_member_disabled(
        &self,
        username_key: &str,
        disabled: bool,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut steps = vec![Step::required(
            "UPDATE members SET disabled = $1 WHERE username_key = $2",
            args![disabled, username_key],
        )];
        if disabled {
            steps.push(Step::new(REVOKE_MEMBER_GRANTS, args![now, username_key]));
        }
        Ok(self.transaction(steps).await? == Outcome::Committed)
    }

    /// Replaces a member's password hash and ends every session of theirs.
    /// Returns `false` when no such member exists.
    pub async fn set_member_password(
        &self,
        username_key: &str,
        password_hash: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let steps = vec![
            Step::required(
                "UPDATE members SET password_hash = $1, failed_logins = 0, locked_until = NULL \
                 WHERE username_key = $2",
                args![password_hash, username_key],
            ),
            Step::new(REVOKE_MEMBER_GRANTS, args![now, username_key]),
        ];
        Ok(self.transaction(steps).await? == Outcome::Committed)
    }

    /// Replaces a password hash that was made with weaker settings, unless
    /// the password was changed since `old_hash` was read.
    pub async fn rehash_member_password(
        &self,
        member_id: i64,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE members SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            args![new_hash, member_id, old_hash],
        )
        .await?;
        Ok(())
    }
}

/// Ends every live session of the member whose username key is `$2`, as
/// of time `$1`.
const REVOKE_MEMBER_GRANTS: &str = "UPDATE grants SET revoked_at = $1 WHERE revoked_at IS NULL \
     AND member_id = (SELECT id FROM members WHERE username_key = $2)";
