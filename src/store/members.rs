//! The `members` table.

use super::{Store, StoreError, on_pool};
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

const MEMBER_COLUMNS: &str = "id, username, display_name, email, password_hash, disabled, \
                              created_at, failed_logins, locked_until";

impl Store {
    /// Adds a member. Fails with [`StoreError::Conflict`] when the username
    /// key is taken.
    pub async fn insert_member(&self, member: &NewMember<'_>) -> Result<(), StoreError> {
        on_pool!(self, writer, |pool| {
            sqlx::query(
                "INSERT INTO members \
                 (username, username_key, display_name, email, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(member.username)
            .bind(member.username_key)
            .bind(member.display_name)
            .bind(member.email)
            .bind(member.password_hash)
            .bind(member.now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Finds a member by the case-folded username.
    pub async fn find_member(
        &self,
        username_key: &str,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE username_key = $1");
        let member = on_pool!(self, reader, |pool| {
            sqlx::query_as(&sql).bind(username_key).fetch_optional(pool).await?
        });
        Ok(member)
    }

    /// Finds a member by row id.
    pub async fn member_by_id(&self, id: i64) -> Result<Option<MemberRecord>, StoreError> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1");
        let member = on_pool!(self, reader, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        Ok(member)
    }

    /// Lists every member, oldest first.
    pub async fn list_members(&self) -> Result<Vec<MemberRecord>, StoreError> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members ORDER BY id");
        let members = on_pool!(self, reader, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(members)
    }

    /// Disables or enables a member. Disabling also ends every session of
    /// theirs. Returns `false` when no such member exists.
    pub async fn set_member_disabled(
        &self,
        username_key: &str,
        disabled: bool,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let found = on_pool!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query("UPDATE members SET disabled = $1 WHERE username_key = $2")
                .bind(disabled)
                .bind(username_key)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled {
                sqlx::query(REVOKE_MEMBER_GRANTS)
                    .bind(now)
                    .bind(username_key)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            updated > 0
        });
        Ok(found)
    }

    /// Replaces a member's password hash and ends every session of theirs.
    /// Returns `false` when no such member exists.
    pub async fn set_member_password(
        &self,
        username_key: &str,
        password_hash: &str,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let found = on_pool!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE members SET password_hash = $1, failed_logins = 0, locked_until = NULL \
                 WHERE username_key = $2",
            )
            .bind(password_hash)
            .bind(username_key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(REVOKE_MEMBER_GRANTS)
                .bind(now)
                .bind(username_key)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            updated > 0
        });
        Ok(found)
    }

    /// Replaces a password hash that was made with weaker settings, unless
    /// the password was changed since `old_hash` was read.
    pub async fn rehash_member_password(
        &self,
        member_id: i64,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, writer, |pool| {
            sqlx::query(
                "UPDATE members SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            )
            .bind(new_hash)
            .bind(member_id)
            .bind(old_hash)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

/// Ends every live session of the member whose username key is `$2`, as
/// of time `$1`.
const REVOKE_MEMBER_GRANTS: &str = "UPDATE grants SET revoked_at = $1 WHERE revoked_at IS NULL \
     AND member_id = (SELECT id FROM members WHERE username_key = $2)";
