//! Login sessions: opaque bearer tokens, stored only as their SHA-256, with an expiry;
//! logout revokes. A leaked database therefore yields no usable token.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::{sessions, users};
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::users::{active_grants, UserRow};
use crate::{password, AccountsError, Principal, UserKind};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// Send as `Authorization: Bearer <token>`. Shown only once.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user_id: Uuid,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn login(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    credentials: &Credentials,
    ttl: Duration,
) -> Result<IssuedToken, AccountsError> {
    let email = credentials.email.trim().to_lowercase();
    let row: Option<UserRow> = users::table
        .filter(users::email.eq(&email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    // Verify against a dummy hash when the user is unknown, so timing does not reveal
    // which emails exist.
    let ok = match &row {
        Some(r) => password::verify(&credentials.password, &r.password_hash) && r.active,
        None => {
            password::verify(
                &credentials.password,
                "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            );
            false
        }
    };
    let Some(user) = row.filter(|_| ok) else {
        return Err(AccountsError::InvalidCredentials);
    };
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let expires_at = ctx.at + ttl;
    conn.transaction(|conn| {
        diesel::insert_into(sessions::table)
            .values((
                sessions::token_sha256.eq(digest(&token)),
                sessions::user_id.eq(user.id),
                sessions::created_at.eq(ctx.at),
                sessions::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        let ctx = AuditCtx {
            actor: Some(user.id),
            ..ctx.clone()
        };
        audit::record(
            conn,
            &ctx,
            AuditEvent {
                action: "session.login",
                object_type: "user",
                object_id: user.id.to_string(),
                ente_id: None,
                details: serde_json::json!({ "expires_at": expires_at }),
            },
        )?;
        Ok::<_, AccountsError>(())
    })?;
    Ok(IssuedToken {
        token,
        expires_at,
        user_id: user.id,
    })
}

/// Resolves a bearer token to its principal at `now`; expired and revoked tokens fail.
pub fn authenticate(conn: &mut PgConnection, token: &str, now: DateTime<Utc>) -> Result<Principal, AccountsError> {
    let found: Option<(Uuid, String, String, bool)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_sha256.eq(digest(token)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((users::id, users::email, users::kind, users::active))
        .first(conn)
        .optional()?;
    let Some((user_id, email, kind, true)) = found else {
        return Err(AccountsError::Unauthenticated);
    };
    Ok(Principal {
        user_id,
        email,
        kind: UserKind::parse(&kind).unwrap_or(UserKind::Supplier),
        grants: active_grants(conn, user_id)?,
    })
}

pub fn logout(conn: &mut PgConnection, ctx: &AuditCtx, token: &str) -> Result<(), AccountsError> {
    conn.transaction(|conn| {
        let user: Option<Uuid> = diesel::update(sessions::table)
            .filter(sessions::token_sha256.eq(digest(token)))
            .filter(sessions::revoked_at.is_null())
            .set(sessions::revoked_at.eq(ctx.at))
            .returning(sessions::user_id)
            .get_result(conn)
            .optional()?;
        let Some(user) = user else {
            return Err(AccountsError::Unauthenticated);
        };
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "session.logout",
                object_type: "user",
                object_id: user.to_string(),
                ente_id: None,
                details: serde_json::json!({}),
            },
        )?;
        Ok(())
    })
}
