//! Login sessions: opaque bearer tokens, stored only as their SHA-256, with an expiry;
//! logout revokes. A leaked database therefore yields no usable token.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::{role_grants, sessions, users};
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::principal::Grant;
use crate::throttle::{self, Policy};
use crate::users::UserRow;
use crate::{password, AccountsError, Principal, Role, UserKind};

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

pub(crate) fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Checks the credentials and opens a session. Throttled per account and per client
/// `address` ([`throttle`]): while either is locked the attempt is refused before the password
/// is checked. An unknown email costs the same Argon2 verification as a known one and counts
/// against its key the same way, so neither the answer nor its timing tells whether the
/// account exists. Every failure and every lock is an audit event (never with the password;
/// an unknown email only as its hash).
pub fn login(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    credentials: &Credentials,
    ttl: Duration,
    policy: &Policy,
    address: Option<&str>,
) -> Result<IssuedToken, AccountsError> {
    let email = credentials.email.trim().to_lowercase();
    let keys = Keys::new(&email, address);
    refuse_if_locked(conn, &keys, ctx.at)?;
    let row: Option<UserRow> = users::table
        .filter(users::email.eq(&email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    let failure = match &row {
        Some(r) if !password::verify(&credentials.password, &r.password_hash) => Some("wrong_password"),
        Some(r) if !r.active => Some("inactive"),
        Some(_) => None,
        None => {
            password::verify(&credentials.password, password::DUMMY_HASH);
            Some("unknown_account")
        }
    };
    let user = match (failure, row) {
        (None, Some(user)) => user,
        (failure, row) => {
            record_failure(
                conn,
                ctx,
                policy,
                &keys,
                row.map(|r| r.id),
                failure.unwrap_or("unknown_account"),
            )?;
            return Err(AccountsError::InvalidCredentials);
        }
    };
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let expires_at = ctx.at + ttl;
    conn.transaction(|conn| {
        throttle::succeeded(conn, &keys.account, ctx.at)?;
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
                details: serde_json::json!({ "expires_at": expires_at, "address": keys.address_text }),
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

/// The throttling keys of one attempt.
pub(crate) struct Keys {
    pub account: String,
    pub address: Option<String>,
    pub address_text: Option<String>,
}

impl Keys {
    pub(crate) fn new(normalised_email: &str, address: Option<&str>) -> Self {
        Self {
            account: throttle::account_key(normalised_email),
            address: throttle::address_key(address),
            address_text: address.map(str::to_string),
        }
    }

    fn all(&self) -> Vec<String> {
        std::iter::once(self.account.clone())
            .chain(self.address.clone())
            .collect()
    }
}

pub(crate) fn refuse_if_locked(conn: &mut PgConnection, keys: &Keys, now: DateTime<Utc>) -> Result<(), AccountsError> {
    match throttle::locked_until(conn, &keys.all(), now)? {
        Some(until) => Err(AccountsError::TooManyAttempts {
            retry_after_secs: throttle::retry_after(until, now),
        }),
        None => Ok(()),
    }
}

/// Counts a failed password check on the attempt's keys and audits it, with any lock it caused.
pub(crate) fn record_failure(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    policy: &Policy,
    keys: &Keys,
    user: Option<Uuid>,
    reason: &str,
) -> Result<(), AccountsError> {
    conn.transaction(|conn| {
        let mut locks = Vec::new();
        locks.extend(throttle::failed(
            conn,
            policy,
            &keys.account,
            policy.account_failures,
            ctx.at,
        )?);
        if let Some(address) = &keys.address {
            locks.extend(throttle::failed(
                conn,
                policy,
                address,
                policy.address_failures,
                ctx.at,
            )?);
        }
        // An unknown account is named by its key (a hash), never by the email it was tried with.
        let (object_type, object_id) = match user {
            Some(id) => ("user", id.to_string()),
            None => ("login", keys.account.clone()),
        };
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "login.failed",
                object_type,
                object_id: object_id.clone(),
                ente_id: None,
                details: serde_json::json!({ "reason": reason, "address": keys.address_text }),
            },
        )?;
        for lock in locks {
            audit::record(
                conn,
                ctx,
                AuditEvent {
                    action: "login.locked",
                    object_type,
                    object_id: object_id.clone(),
                    ente_id: None,
                    details: serde_json::json!({
                        "key": lock.key_kind,
                        "until": lock.until,
                        "locks": lock.locks,
                        "address": keys.address_text,
                    }),
                },
            )?;
        }
        Ok(())
    })
}

/// What a password change sends.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters, different from the current one.
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    /// The caller's other sessions, now ended (the one used for this call stays open).
    pub sessions_ended: usize,
}

/// The caller changes their own password: the current one is checked (a failure counts
/// against the account's throttle, so a stolen token cannot be used to guess it), every other
/// session of the account ends, the one used for the call stays.
pub fn change_password(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    current_token: &str,
    change: &PasswordChange,
    policy: &Policy,
    address: Option<&str>,
) -> Result<PasswordChanged, AccountsError> {
    password::validate(&change.new_password).map_err(|_| {
        AccountsError::invalid(
            "password_too_short",
            "new_password",
            format!("La password deve avere almeno {} caratteri", password::MIN_LENGTH),
        )
    })?;
    let row: UserRow = users::table
        .find(who.user_id)
        .select(UserRow::as_select())
        .first(conn)?;
    let keys = Keys::new(&row.email, address);
    refuse_if_locked(conn, &keys, ctx.at)?;
    if !password::verify(&change.current_password, &row.password_hash) {
        record_failure(conn, ctx, policy, &keys, Some(row.id), "wrong_current_password")?;
        return Err(AccountsError::invalid(
            "current_password_wrong",
            "current_password",
            "La password attuale non è corretta",
        ));
    }
    if change.new_password == change.current_password {
        return Err(AccountsError::invalid(
            "password_unchanged",
            "new_password",
            "La nuova password deve essere diversa da quella attuale",
        ));
    }
    let hash = password::hash(&change.new_password)?;
    conn.transaction(|conn| {
        diesel::update(users::table.find(row.id))
            .set(users::password_hash.eq(&hash))
            .execute(conn)?;
        let ended = end_all(conn, row.id, ctx.at, Some(current_token))?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "user.password_changed",
                object_type: "user",
                object_id: row.id.to_string(),
                ente_id: None,
                details: serde_json::json!({ "sessions_ended": ended }),
            },
        )?;
        Ok(PasswordChanged { sessions_ended: ended })
    })
}

/// Ends every open session of `user` at `at`, except the one of `keep` (a token); returns how
/// many ended.
pub(crate) fn end_all(
    conn: &mut PgConnection,
    user: Uuid,
    at: DateTime<Utc>,
    keep: Option<&str>,
) -> QueryResult<usize> {
    let keep = keep.map(digest).unwrap_or_default();
    diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(at))
        .filter(sessions::token_sha256.ne(keep))
        .set(sessions::revoked_at.eq(at))
        .execute(conn)
}

/// A session's user (id, email, kind, active) and one of its active grants (role, ente), if any.
type SessionGrantRow = (Uuid, String, String, bool, Option<String>, Option<Uuid>);

/// Resolves a bearer token to its principal at `now`; expired and revoked tokens fail.
pub fn authenticate(conn: &mut PgConnection, token: &str, now: DateTime<Utc>) -> Result<Principal, AccountsError> {
    // One statement with the active grants joined in (a row per grant, one without any): every
    // authenticated request asks, so the second query it used to take counted (issue 15).
    let rows: Vec<SessionGrantRow> = sessions::table
        .inner_join(users::table)
        .left_join(
            role_grants::table.on(role_grants::user_id
                .eq(users::id)
                .and(role_grants::revoked_at.is_null())),
        )
        .filter(sessions::token_sha256.eq(digest(token)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((role_grants::role.asc(), role_grants::ente_id.asc()))
        .select((
            users::id,
            users::email,
            users::kind,
            users::active,
            role_grants::role.nullable(),
            role_grants::ente_id.nullable(),
        ))
        .load(conn)?;
    let Some((user_id, email, kind, true, _, _)) = rows.first().cloned() else {
        return Err(AccountsError::Unauthenticated);
    };
    Ok(Principal {
        user_id,
        email,
        kind: UserKind::parse(&kind).unwrap_or(UserKind::Supplier),
        grants: rows
            .into_iter()
            .filter_map(|(.., role, ente_id)| {
                let role = Role::parse(&role?)?;
                Some(Grant { role, ente_id })
            })
            .collect(),
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
