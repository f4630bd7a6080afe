//! People: officials with roles per ente, and supplier accounts.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::{enti, role_grants, users};
use diesel::prelude::*;
use domain::ids::Pec;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::principal::Grant;
use crate::{password, AccountsError, Principal, Role, UserKind};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfficial {
    pub email: String,
    pub full_name: String,
    /// At least 12 characters.
    pub password: String,
    #[serde(default)]
    pub roles: Vec<Grant>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSupplierAccount {
    pub email: String,
    pub full_name: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub kind: UserKind,
    pub active: bool,
    pub roles: Vec<Grant>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub kind: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

fn normalized_email(email: &str) -> Result<String, AccountsError> {
    // Any valid mailbox will do here; the same syntax check as a PEC address.
    Pec::from_str(email.trim())
        .map(|p| p.to_string())
        .map_err(|_| AccountsError::invalid("email_invalid", "email", "Indirizzo email non valido"))
}

pub(crate) fn active_grants(conn: &mut PgConnection, user: Uuid) -> QueryResult<Vec<Grant>> {
    let rows: Vec<(String, Option<Uuid>)> = role_grants::table
        .filter(role_grants::user_id.eq(user))
        .filter(role_grants::revoked_at.is_null())
        .order((role_grants::role.asc(), role_grants::ente_id.asc()))
        .select((role_grants::role, role_grants::ente_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(role, ente_id)| Role::parse(&role).map(|role| Grant { role, ente_id }))
        .collect())
}

fn to_user(conn: &mut PgConnection, row: UserRow) -> QueryResult<User> {
    Ok(User {
        roles: active_grants(conn, row.id)?,
        id: row.id,
        email: row.email,
        full_name: row.full_name,
        kind: UserKind::parse(&row.kind).unwrap_or(UserKind::Supplier),
        active: row.active,
        created_at: row.created_at,
    })
}

fn check_grant(conn: &mut PgConnection, grant: &Grant, index: usize) -> Result<(), AccountsError> {
    let field = format!("roles[{index}].ente_id");
    match (grant.role.is_per_ente(), grant.ente_id) {
        (false, Some(_)) => Err(AccountsError::invalid(
            "role_admin_has_no_ente",
            &field,
            "Il ruolo admin è della centrale e non si assegna a un ente",
        )),
        (true, None) => Err(AccountsError::invalid(
            "role_needs_ente",
            &field,
            "Il ruolo va assegnato per un ente: indicare ente_id",
        )),
        (true, Some(ente)) => {
            let exists: i64 = enti::table.find(ente).count().get_result(conn)?;
            if exists == 0 {
                Err(AccountsError::invalid("ente_unknown", &field, "Ente inesistente"))
            } else {
                Ok(())
            }
        }
        (false, None) => Ok(()),
    }
}

fn insert_user(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    email: &str,
    full_name: &str,
    password_hash: &str,
    kind: UserKind,
) -> Result<UserRow, AccountsError> {
    let taken: i64 = users::table.filter(users::email.eq(email)).count().get_result(conn)?;
    if taken > 0 {
        return Err(email_taken());
    }
    // The count above answers the common case; two concurrent creations with the same address
    // both pass it, and the unique index decides: the second insert waits for the first's
    // commit and does nothing, and is refused like the common case.
    diesel::insert_into(users::table)
        .values((
            users::id.eq(Uuid::new_v4()),
            users::email.eq(email),
            users::full_name.eq(full_name),
            users::password_hash.eq(password_hash),
            users::kind.eq(kind.as_str()),
            users::created_at.eq(ctx.at),
        ))
        .on_conflict_do_nothing()
        .returning(UserRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(email_taken)
}

fn email_taken() -> AccountsError {
    AccountsError::Conflict {
        code: "email_taken",
        field: "email".into(),
        message: "Esiste già un utente con questo indirizzo email".into(),
    }
}

fn insert_grant(conn: &mut PgConnection, ctx: &AuditCtx, user: Uuid, grant: &Grant) -> Result<(), AccountsError> {
    let inserted = diesel::insert_into(role_grants::table)
        .values((
            role_grants::id.eq(Uuid::new_v4()),
            role_grants::user_id.eq(user),
            role_grants::role.eq(grant.role.as_str()),
            role_grants::ente_id.eq(grant.ente_id),
            role_grants::granted_at.eq(ctx.at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    // A role already held (the second click of a double click, a repeated API call) is not a
    // new act: the trail must not show two grants for one.
    if inserted == 0 {
        return Ok(());
    }
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action: "role.granted",
            object_type: "user",
            object_id: user.to_string(),
            ente_id: grant.ente_id,
            details: serde_json::json!({ "role": grant.role.as_str() }),
        },
    )?;
    Ok(())
}

fn required_name(full_name: &str) -> Result<&str, AccountsError> {
    let name = full_name.trim();
    if name.is_empty() {
        return Err(AccountsError::invalid(
            "full_name_required",
            "full_name",
            "Il nome è obbligatorio",
        ));
    }
    Ok(name)
}

/// An admin creates an official (a RUP, a commissioner, an auditor, another admin).
pub fn create_official(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    input: &NewOfficial,
) -> Result<User, AccountsError> {
    who.require_admin()?;
    let email = normalized_email(&input.email)?;
    let name = required_name(&input.full_name)?;
    password::validate(&input.password)?;
    let hash = password::hash(&input.password)?;
    conn.transaction(|conn| {
        for (i, grant) in input.roles.iter().enumerate() {
            check_grant(conn, grant, i)?;
        }
        let row = insert_user(conn, ctx, &email, name, &hash, UserKind::Official)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "user.created",
                object_type: "user",
                object_id: row.id.to_string(),
                ente_id: None,
                details: serde_json::json!({ "email": row.email, "kind": "official" }),
            },
        )?;
        for grant in &input.roles {
            insert_grant(conn, ctx, row.id, grant)?;
        }
        Ok(to_user(conn, row)?)
    })
}

/// What a self-registration did. The API answers both the same way (no enumeration); only
/// the outbox and the audit trail know which happened.
#[derive(Debug)]
pub enum Registration {
    Created(User),
    /// The address already has an account: nothing is created and its owner gets a notice.
    EmailTaken,
}

/// A supplier opens its own account; the registry links it to an operatore economico.
/// A taken email is not refused to the caller (that would tell anyone which addresses have an
/// account): the password is hashed all the same (same timing), nothing is created, and the
/// owner of the existing account is told by e-mail through the outbox.
pub fn register_supplier(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    input: &NewSupplierAccount,
) -> Result<Registration, AccountsError> {
    let email = normalized_email(&input.email)?;
    let name = required_name(&input.full_name)?;
    password::validate(&input.password)?;
    let hash = password::hash(&input.password)?;
    conn.transaction(|conn| {
        let row = match insert_user(conn, ctx, &email, name, &hash, UserKind::Supplier) {
            Ok(row) => row,
            Err(AccountsError::Conflict {
                code: "email_taken", ..
            }) => {
                notify_taken_email(conn, ctx, &email)?;
                return Ok(Registration::EmailTaken);
            }
            Err(e) => return Err(e),
        };
        let ctx = AuditCtx {
            actor: Some(row.id),
            ..ctx.clone()
        };
        audit::record(
            conn,
            &ctx,
            AuditEvent {
                action: "user.registered",
                object_type: "user",
                object_id: row.id.to_string(),
                ente_id: None,
                details: serde_json::json!({ "email": row.email, "kind": "supplier" }),
            },
        )?;
        Ok(Registration::Created(to_user(conn, row)?))
    })
}

fn notify_taken_email(conn: &mut PgConnection, ctx: &AuditCtx, email: &str) -> Result<(), AccountsError> {
    use notify::schema::notifications_outbox;
    let owner: Uuid = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)?;
    diesel::insert_into(notifications_outbox::table)
        .values((
            notifications_outbox::id.eq(Uuid::new_v4()),
            notifications_outbox::recipient_user_id.eq(Some(owner)),
            notifications_outbox::recipient_address.eq(email),
            notifications_outbox::subject.eq("Tentativo di registrazione con il Suo indirizzo"),
            notifications_outbox::body.eq(format!(
                "Gentile utente,\nè stata chiesta la registrazione di un nuovo account con l'indirizzo {email}, \
                 che ha già un account sulla piattaforma della centrale di committenza.\n\
                 Non è stato creato nulla. Se la richiesta è Sua e non ricorda la password, chieda \
                 all'amministrazione della centrale di reimpostarla; altrimenti può ignorare questo messaggio.\n"
            )),
            notifications_outbox::object_type.eq("user"),
            notifications_outbox::object_id.eq(owner.to_string()),
            notifications_outbox::created_at.eq(ctx.at),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action: "user.registration_email_taken",
            object_type: "user",
            object_id: owner.to_string(),
            ente_id: None,
            details: serde_json::json!({}),
        },
    )?;
    Ok(())
}

pub fn grant_role(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    user: Uuid,
    grant: &Grant,
) -> Result<User, AccountsError> {
    who.require_admin()?;
    conn.transaction(|conn| {
        let row: UserRow = users::table
            .find(user)
            .select(UserRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(AccountsError::NotFound { what: "Utente" })?;
        if row.kind != UserKind::Official.as_str() {
            return Err(AccountsError::invalid(
                "role_for_supplier",
                "role",
                "I ruoli si assegnano solo ai funzionari, non agli operatori economici",
            ));
        }
        check_grant(conn, grant, 0)?;
        insert_grant(conn, ctx, user, grant)?;
        Ok(to_user(conn, row)?)
    })
}

pub fn list(conn: &mut PgConnection, who: &Principal, page: crate::listing::Page) -> Result<Vec<User>, AccountsError> {
    who.require_admin()?;
    let (limit, offset) = page.bounds()?;
    let rows: Vec<UserRow> = users::table
        .order((users::email.asc(), users::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(UserRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| to_user(conn, r).map_err(AccountsError::from))
        .collect()
}

pub fn get(conn: &mut PgConnection, id: Uuid) -> Result<User, AccountsError> {
    let row: UserRow = users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AccountsError::NotFound { what: "Utente" })?;
    Ok(to_user(conn, row)?)
}

/// The outcome of the first-start check.
#[derive(Debug)]
pub enum Bootstrap {
    AlreadyHasAdmin,
    Created {
        email: String,
        generated_password: Option<String>,
    },
}

/// Creates the centrale's first admin when there is none. The password comes from config;
/// without one a random password is generated and returned so the caller prints it once.
pub fn bootstrap_admin(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    email: &str,
    configured_password: Option<&str>,
) -> Result<Bootstrap, AccountsError> {
    conn.transaction(|conn| {
        // Serialise concurrent first starts of several instances.
        diesel::sql_query("LOCK TABLE role_grants IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
        let admins: i64 = role_grants::table
            .filter(role_grants::role.eq("admin"))
            .filter(role_grants::revoked_at.is_null())
            .count()
            .get_result(conn)?;
        if admins > 0 {
            return Ok(Bootstrap::AlreadyHasAdmin);
        }
        let email = normalized_email(email)?;
        let (password, generated) = match configured_password {
            Some(p) => (p.to_string(), None),
            None => {
                let p = password::generate();
                (p.clone(), Some(p))
            }
        };
        password::validate(&password)?;
        let row = insert_user(
            conn,
            ctx,
            &email,
            "Amministratore della centrale",
            &password::hash(&password)?,
            UserKind::Official,
        )?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "user.bootstrap_admin",
                object_type: "user",
                object_id: row.id.to_string(),
                ente_id: None,
                details: serde_json::json!({ "email": row.email }),
            },
        )?;
        insert_grant(
            conn,
            ctx,
            row.id,
            &Grant {
                role: Role::Admin,
                ente_id: None,
            },
        )?;
        Ok(Bootstrap::Created {
            email,
            generated_password: generated,
        })
    })
}

/// The officials holding a role in `ente`: visible to that ente's own officials and admins.
pub fn members(conn: &mut PgConnection, who: &Principal, ente: Uuid) -> Result<Vec<User>, AccountsError> {
    who.require_any_in(&[Role::Rup, Role::Commission, Role::Auditor], ente)?;
    crate::enti::find(conn, ente)?;
    let rows: Vec<UserRow> = users::table
        .filter(
            users::id.eq_any(
                role_grants::table
                    .filter(role_grants::ente_id.eq(ente))
                    .filter(role_grants::revoked_at.is_null())
                    .select(role_grants::user_id),
            ),
        )
        .order((users::email.asc(), users::id.asc()))
        .select(UserRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| to_user(conn, r).map_err(AccountsError::from))
        .collect()
}
