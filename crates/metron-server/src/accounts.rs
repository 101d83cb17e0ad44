//! Accounts and offboarding: creating users, disabling and enabling them, changing passwords
//! and revoking tokens. Shared by the `metron-server user ...` commands and the admins' API,
//! so both revoke the same way: every revocation bumps the epoch that all instances check.

use chrono::Utc;
use metron_core::wire::User;

use crate::auth::hash_password;
use crate::db::{DbError, UserRow};
use crate::AppState;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest name of a person, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest password accepted (argon2 hashes whatever it is given; a megabyte costs real time).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What can go wrong managing accounts; the API and the CLI word it their own way.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes")]
    BadPassword,
    #[error("an email needs 3 to 254 bytes with an @")]
    BadEmail,
    #[error("{0}")]
    BadName(String),
    #[error("no user with email {0}")]
    NoSuchUser(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("hashing the password: {0}")]
    Hashing(String),
    /// The change would leave the organization without an enabled admin.
    #[error("{0} is the organization's last admin: make someone else an admin first")]
    LastAdmin(String),
}

/// Whether a password is of an accepted length.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::BadPassword);
    }
    Ok(())
}

/// The normalized form of an email (trimmed, lower case), if it can be one.
pub fn normalize_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    if email.len() < 3
        || email.len() > crate::auth::MAX_EMAIL_BYTES
        || !email.contains('@')
        || email.chars().any(char::is_control)
    {
        return Err(AccountError::BadEmail);
    }
    Ok(email)
}

/// A person's name as it is stored and shown: trimmed, 1 to [`MAX_NAME_CHARS`] characters,
/// no control characters, bidi and other format characters dropped.
pub fn plain_name(name: &str) -> Result<String, AccountError> {
    let name = metron_core::limits::plain_text("the name", name.trim())
        .map_err(AccountError::BadName)?
        .trim()
        .to_string();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(AccountError::BadName(format!(
            "a name needs 1 to {MAX_NAME_CHARS} characters, not {chars}"
        )));
    }
    Ok(name)
}

/// Creates a user: hashes the password, creates the organization if needed.
pub async fn add_user(
    state: &AppState,
    org: &str,
    email: &str,
    name: &str,
    password: &str,
    admin: bool,
) -> Result<User, AccountError> {
    check_password(password)?;
    let email = normalize_email(email)?;
    let name = plain_name(name)?;
    let org_id = state.db.organization(org).await?;
    let hash = hash_password(password).map_err(|e| AccountError::Hashing(e.to_string()))?;
    Ok(state
        .db
        .create_user(&org_id, &email, &name, &hash, admin)
        .await?
        .user)
}

/// The user with this email.
pub async fn find(state: &AppState, email: &str) -> Result<UserRow, AccountError> {
    let email = normalize_email(email)?;
    match state.db.user_by_email(&email).await? {
        Some((row, _)) => Ok(row),
        None => Err(AccountError::NoSuchUser(email)),
    }
}

/// Refuses (`LastAdmin`) to take away the last enabled admin of `user`'s organization: call it
/// before disabling, demoting or removing anyone. Nothing is refused for a person who is not
/// an enabled admin. Two admins taking each other away at the very same moment could both
/// pass on PostgreSQL; the CLI (`metron-server user role`) puts an admin back.
pub async fn ensure_not_last_admin(state: &AppState, user: &UserRow) -> Result<(), AccountError> {
    if !user.user.admin || user.disabled {
        return Ok(());
    }
    if state
        .db
        .other_active_admins(&user.org_id, &user.user.id)
        .await?
        == 0
    {
        return Err(AccountError::LastAdmin(user.user.email.clone()));
    }
    Ok(())
}

/// Disables (or enables) a user. Disabling revokes every token they hold, at once everywhere;
/// the organization's last admin can't be disabled.
pub async fn set_disabled(
    state: &AppState,
    user: &UserRow,
    disabled: bool,
) -> Result<(), AccountError> {
    if disabled {
        ensure_not_last_admin(state, user).await?;
    }
    state.db.set_disabled(&user.user.id, disabled).await?;
    if disabled {
        revoke_tokens(state, user).await?;
    } else {
        // Cached entries hold the disabled flag: let every instance read it again.
        state.db.bump_revocation_epoch().await?;
    }
    Ok(())
}

/// Sets a new password and revokes every token signed in with the old one.
pub async fn set_password(
    state: &AppState,
    user: &UserRow,
    password: &str,
) -> Result<(), AccountError> {
    check_password(password)?;
    let hash = hash_password(password).map_err(|e| AccountError::Hashing(e.to_string()))?;
    state.db.set_password_hash(&user.user.id, &hash).await?;
    revoke_tokens(state, user).await.map(drop)
}

/// Revokes every token of the user; how many were live.
pub async fn revoke_tokens(state: &AppState, user: &UserRow) -> Result<u64, AccountError> {
    let revoked = state
        .db
        .revoke_user_tokens(&user.user.id, None, Utc::now().timestamp())
        .await?;
    state.db.bump_revocation_epoch().await?;
    Ok(revoked)
}

/// A person's role: admin (the stored flag), manager (the stored role, or managing someone),
/// or member. What `GET /api/v1/users` shows.
pub async fn role_of(
    state: &AppState,
    user: &UserRow,
) -> Result<crate::routes::people::Role, AccountError> {
    use crate::routes::people::Role;
    Ok(if user.user.admin {
        Role::Admin
    } else if state.db.manager_flag(&user.user.id).await?
        || !state.db.managed(&user.user.id).await?.is_empty()
    {
        Role::Manager
    } else {
        Role::Member
    })
}

/// Sets a person's role (`actor` is the admin, or the command line's stand-in). Demoting the
/// organization's last admin is refused; a member manages nobody, so making someone a member
/// also takes away the people they managed (the audit row keeps the role before and after).
pub async fn set_role(
    state: &AppState,
    actor: &UserRow,
    person: &UserRow,
    role: crate::routes::people::Role,
) -> Result<(), AccountError> {
    use crate::routes::people::Role;
    let before = role_of(state, person).await?;
    if role != Role::Admin {
        ensure_not_last_admin(state, person).await?;
    }
    let record = crate::timesheets::audit(
        actor,
        person,
        "role.set",
        &person.user.id,
        Some(serde_json::json!({ "role": before.as_str() })),
        Some(serde_json::json!({ "role": role.as_str() })),
        "",
    );
    state
        .db
        .set_role(
            &person.user.id,
            role == Role::Admin,
            role == Role::Manager,
            &record,
        )
        .await?;
    // Cached sign-ins hold the admin flag: every instance reads it again.
    state.db.bump_revocation_epoch().await?;
    Ok(())
}
