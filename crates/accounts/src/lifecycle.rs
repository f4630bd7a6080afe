//! How an account's access ends: an admin deactivates it, revokes one of its role grants or
//! ends all its sessions; an admin issues a one-time password reset, sent to the account's
//! address through the outbox, which its owner consumes. Each change is one audit event in
//! the same transaction. Nothing is deleted: a deactivated account keeps its data and history.
//!
//! The centrale never runs without an admin: deactivating or revoking the last active admin
//! is refused (`last_admin`), and the check is serialised with a table lock so two admins
//! cannot remove each other at once.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::{role_grants, users};
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::principal::Grant;
use crate::schema::password_resets;
// The outbox belongs to the notify crate: its schema, not a copy.
use crate::sessions::{digest, end_all};
use crate::users::{User, UserRow};
use crate::{password, AccountsError, Principal, Role};
use notify::schema::notifications_outbox;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deactivation {
    /// Why (kept in the audit trail), e.g. "cessato dal servizio il 30/04".
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRevocation {
    pub role: Role,
    /// The ente of the grant; absent for `admin`.
    pub ente_id: Option<Uuid>,
    /// Why (kept in the audit trail).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    pub sessions_ended: usize,
}

fn required_reason(reason: &str) -> Result<&str, AccountsError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AccountsError::invalid(
            "reason_required",
            "reason",
            "Indicare il motivo",
        ));
    }
    Ok(reason)
}

fn user_row(conn: &mut PgConnection, id: Uuid) -> Result<UserRow, AccountsError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AccountsError::NotFound { what: "Utente" })
}

/// Active admins other than `user` (grant not revoked, account active). Call after locking
/// `role_grants`.
fn other_active_admins(conn: &mut PgConnection, user: Uuid) -> QueryResult<i64> {
    role_grants::table
        .inner_join(users::table)
        .filter(role_grants::role.eq(Role::Admin.as_str()))
        .filter(role_grants::revoked_at.is_null())
        .filter(users::active.eq(true))
        .filter(users::id.ne(user))
        .count()
        .get_result(conn)
}

fn lock_grants(conn: &mut PgConnection) -> QueryResult<()> {
    // The same lock as the first-start bootstrap: serialises every change to the set of admins.
    diesel::sql_query("LOCK TABLE role_grants IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
    Ok(())
}

fn last_admin() -> AccountsError {
    AccountsError::Conflict {
        code: "last_admin",
        field: "id".into(),
        message: "È l'ultimo amministratore attivo della centrale: nominarne prima un altro".into(),
    }
}

fn is_active_admin(conn: &mut PgConnection, user: Uuid) -> QueryResult<bool> {
    let n: i64 = role_grants::table
        .filter(role_grants::user_id.eq(user))
        .filter(role_grants::role.eq(Role::Admin.as_str()))
        .filter(role_grants::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// An admin deactivates an account: it cannot log in, its sessions end now, and any token it
/// still holds stops working at the next request (`sessions::authenticate` checks `active`).
pub fn deactivate(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    user: Uuid,
    input: &Deactivation,
) -> Result<User, AccountsError> {
    who.require_admin()?;
    let reason = required_reason(&input.reason)?;
    conn.transaction(|conn| {
        lock_grants(conn)?;
        let row = user_row(conn, user)?;
        if !row.active {
            return Err(AccountsError::Conflict {
                code: "user_inactive",
                field: "id".into(),
                message: "L'utente è già disattivato".into(),
            });
        }
        if is_active_admin(conn, user)? && other_active_admins(conn, user)? == 0 {
            return Err(last_admin());
        }
        diesel::update(users::table.find(user))
            .set(users::active.eq(false))
            .execute(conn)?;
        let ended = end_all(conn, user, ctx.at, None)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "user.deactivated",
                object_type: "user",
                object_id: user.to_string(),
                ente_id: None,
                details: serde_json::json!({ "reason": reason, "sessions_ended": ended }),
            },
        )?;
        crate::users::get(conn, user)
    })
}

/// An admin revokes one active role grant; the holder loses what it allowed at the next
/// request (grants are read per request).
pub fn revoke_role(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    user: Uuid,
    input: &RoleRevocation,
) -> Result<User, AccountsError> {
    who.require_admin()?;
    let reason = required_reason(&input.reason)?;
    conn.transaction(|conn| {
        lock_grants(conn)?;
        user_row(conn, user)?;
        if input.role == Role::Admin && other_active_admins(conn, user)? == 0 {
            return Err(last_admin());
        }
        let grant = Grant {
            role: input.role,
            ente_id: input.ente_id,
        };
        let revoked = diesel::update(role_grants::table)
            .filter(role_grants::user_id.eq(user))
            .filter(role_grants::role.eq(grant.role.as_str()))
            .filter(role_grants::revoked_at.is_null())
            .filter(role_grants::ente_id.is_not_distinct_from(grant.ente_id))
            .set(role_grants::revoked_at.eq(ctx.at))
            .execute(conn)?;
        if revoked == 0 {
            return Err(AccountsError::NotFound { what: "Ruolo" });
        }
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "role.revoked",
                object_type: "user",
                object_id: user.to_string(),
                ente_id: grant.ente_id,
                details: serde_json::json!({ "role": grant.role.as_str(), "reason": reason }),
            },
        )?;
        crate::users::get(conn, user)
    })
}

/// An admin ends every open session of an account (e.g. a lost laptop); the account stays
/// active and may log in again.
pub fn end_sessions(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    user: Uuid,
) -> Result<SessionsEnded, AccountsError> {
    who.require_admin()?;
    conn.transaction(|conn| {
        user_row(conn, user)?;
        let ended = end_all(conn, user, ctx.at, None)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "user.sessions_ended",
                object_type: "user",
                object_id: user.to_string(),
                ente_id: None,
                details: serde_json::json!({ "sessions_ended": ended }),
            },
        )?;
        Ok(SessionsEnded { sessions_ended: ended })
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResetIssued {
    /// The link goes to the account's own address; it is never shown to the admin.
    pub sent_to: String,
    pub expires_at: DateTime<Utc>,
}

/// An admin issues a one-time password reset: a random token, stored only as its SHA-256,
/// valid for `ttl`, sent to the account's address through the outbox. A newer reset for the
/// same account supersedes any older one still unused.
pub fn issue_password_reset(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    user: Uuid,
    ttl: Duration,
    public_url: &str,
) -> Result<ResetIssued, AccountsError> {
    who.require_admin()?;
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let expires_at = ctx.at + ttl;
    conn.transaction(|conn| {
        let row = user_row(conn, user)?;
        if !row.active {
            return Err(AccountsError::Conflict {
                code: "user_inactive",
                field: "id".into(),
                message: "L'utente è disattivato: riattivarlo prima di reimpostare la password".into(),
            });
        }
        diesel::update(password_resets::table)
            .filter(password_resets::user_id.eq(user))
            .filter(password_resets::used_at.is_null())
            .set(password_resets::used_at.eq(ctx.at))
            .execute(conn)?;
        diesel::insert_into(password_resets::table)
            .values((
                password_resets::token_sha256.eq(digest(&token)),
                password_resets::user_id.eq(user),
                password_resets::issued_by.eq(Some(who.user_id)),
                password_resets::created_at.eq(ctx.at),
                password_resets::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        let minutes = ttl.num_minutes();
        let base = public_url.trim_end_matches('/');
        diesel::insert_into(notifications_outbox::table)
            .values((
                notifications_outbox::id.eq(Uuid::new_v4()),
                notifications_outbox::recipient_user_id.eq(Some(user)),
                notifications_outbox::recipient_address.eq(&row.email),
                notifications_outbox::subject.eq("Reimpostazione della password"),
                notifications_outbox::body.eq(format!(
                    "Gentile {name},\nl'amministrazione della centrale di committenza ha avviato la \
                     reimpostazione della Sua password.\nApra questo collegamento entro {minutes} minuti \
                     (vale una sola volta):\n{base}/reimposta-password#codice={token}\n\
                     Codice: {token}\nSe non ha chiesto la reimpostazione, avvisi l'amministrazione.\n",
                    name = row.full_name
                )),
                notifications_outbox::object_type.eq("user"),
                notifications_outbox::object_id.eq(user.to_string()),
                notifications_outbox::created_at.eq(ctx.at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "user.password_reset_issued",
                object_type: "user",
                object_id: user.to_string(),
                ente_id: None,
                details: serde_json::json!({ "expires_at": expires_at }),
            },
        )?;
        Ok(ResetIssued {
            sent_to: row.email,
            expires_at,
        })
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The code from the e-mail.
    pub token: String,
    /// At least 12 characters.
    pub new_password: String,
}

fn reset_invalid() -> AccountsError {
    AccountsError::invalid(
        "reset_token_invalid",
        "token",
        "Codice di reimpostazione non valido, già usato o scaduto: chiederne un altro",
    )
}

/// The owner of a reset token sets a new password: the token must be unused and unexpired and
/// its account active; it is then used up, and every session of the account ends. Unknown,
/// used and expired tokens get the same answer.
pub fn reset_password(conn: &mut PgConnection, ctx: &AuditCtx, input: &PasswordReset) -> Result<(), AccountsError> {
    password::validate(&input.new_password).map_err(|_| {
        AccountsError::invalid(
            "password_too_short",
            "new_password",
            format!("La password deve avere almeno {} caratteri", password::MIN_LENGTH),
        )
    })?;
    let hash = password::hash(&input.new_password)?;
    conn.transaction(|conn| {
        // Used up first, under the row lock: two concurrent uses of one token, one wins.
        let user: Option<Uuid> = diesel::update(password_resets::table)
            .filter(password_resets::token_sha256.eq(digest(input.token.trim())))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(ctx.at))
            .set(password_resets::used_at.eq(ctx.at))
            .returning(password_resets::user_id)
            .get_result(conn)
            .optional()?;
        let Some(user) = user else {
            return Err(reset_invalid());
        };
        let row = user_row(conn, user)?;
        if !row.active {
            return Err(reset_invalid());
        }
        diesel::update(users::table.find(user))
            .set(users::password_hash.eq(&hash))
            .execute(conn)?;
        let ended = end_all(conn, user, ctx.at, None)?;
        let ctx = AuditCtx {
            actor: Some(user),
            ..ctx.clone()
        };
        audit::record(
            conn,
            &ctx,
            AuditEvent {
                action: "user.password_reset",
                object_type: "user",
                object_id: user.to_string(),
                ente_id: None,
                details: serde_json::json!({ "sessions_ended": ended }),
            },
        )?;
        Ok(())
    })
}
