//! Who is calling, and what they may do. Every endpoint decides on a [`Principal`], never on
//! anything the client claims.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AccountsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An operator of the centrale itself: manages enti, users and the supplier registry.
    Admin,
    /// Responsabile Unico del Progetto of one ente (art. 15).
    Rup,
    /// Member of a commissione giudicatrice or seggio di gara of one ente (art. 93).
    Commission,
    /// Reads an ente's audit trail and exports.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Rup => "rup",
            Role::Commission => "commission",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "rup" => Some(Role::Rup),
            "commission" => Some(Role::Commission),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }

    /// `admin` is centrale-wide; every other role is held for one ente.
    pub fn is_per_ente(self) -> bool {
        self != Role::Admin
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// Acts for the centrale or a member ente.
    Official,
    /// Acts for an operatore economico.
    Supplier,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Official => "official",
            UserKind::Supplier => "supplier",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "official" => Some(UserKind::Official),
            "supplier" => Some(UserKind::Supplier),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    pub role: Role,
    pub ente_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub kind: UserKind,
    pub grants: Vec<Grant>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::Admin)
    }

    pub fn has_role_in(&self, role: Role, ente: Uuid) -> bool {
        self.grants.iter().any(|g| g.role == role && g.ente_id == Some(ente))
    }

    /// Any role at all in this ente (officials only).
    pub fn belongs_to(&self, ente: Uuid) -> bool {
        self.grants.iter().any(|g| g.ente_id == Some(ente))
    }

    pub fn require_admin(&self) -> Result<(), AccountsError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AccountsError::Forbidden)
        }
    }

    /// Officials' endpoints: suppliers never pass, whatever else they hold.
    pub fn require_official(&self) -> Result<(), AccountsError> {
        if self.kind == UserKind::Official {
            Ok(())
        } else {
            Err(AccountsError::Forbidden)
        }
    }

    /// The admin, or a holder of one of `roles` in `ente`.
    pub fn require_any_in(&self, roles: &[Role], ente: Uuid) -> Result<(), AccountsError> {
        self.require_official()?;
        if self.is_admin() || roles.iter().any(|r| self.has_role_in(*r, ente)) {
            Ok(())
        } else {
            Err(AccountsError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(kind: UserKind, grants: Vec<Grant>) -> Principal {
        Principal {
            user_id: Uuid::new_v4(),
            email: "x@example.it".into(),
            kind,
            grants,
        }
    }

    #[test]
    fn a_rup_acts_only_in_their_own_ente() {
        let mine = Uuid::new_v4();
        let other = Uuid::new_v4();
        let rup = principal(
            UserKind::Official,
            vec![Grant {
                role: Role::Rup,
                ente_id: Some(mine),
            }],
        );
        assert!(rup.require_any_in(&[Role::Rup], mine).is_ok());
        assert!(rup.require_any_in(&[Role::Rup], other).is_err());
        assert!(rup.require_any_in(&[Role::Auditor], mine).is_err());
        assert!(rup.require_admin().is_err());
    }

    #[test]
    fn suppliers_never_pass_official_checks() {
        let ente = Uuid::new_v4();
        let supplier = principal(
            UserKind::Supplier,
            vec![Grant {
                role: Role::Rup,
                ente_id: Some(ente),
            }],
        );
        assert!(supplier.require_any_in(&[Role::Rup], ente).is_err());
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [Role::Admin, Role::Rup, Role::Commission, Role::Auditor] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
