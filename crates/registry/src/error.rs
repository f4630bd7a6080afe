use accounts::AccountsError;
use domain::ids::IdError;

/// Everything the registry can refuse. Each variant has a stable machine code (`code()`),
/// the offending field where there is one (`field()`), and an Italian Display text.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("Sessione assente, scaduta o revocata: effettuare l'accesso")]
    Unauthenticated,
    #[error("Operazione non consentita per il proprio ruolo")]
    Forbidden,
    #[error("{what} non trovato")]
    NotFound { what: &'static str },
    /// A field fails validation (422).
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    /// A duplicate or a state that forbids the operation (409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    #[error("errore del database")]
    Database(#[from] diesel::result::Error),
    #[error("errore interno: {0}")]
    Internal(String),
}

impl RegistryError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Invalid { code, .. } | Self::Conflict { code, .. } => code,
            Self::Database(_) | Self::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn invalid(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// A malformed identifier in `field`, with the identifier's own code and message.
    pub fn id(field: impl Into<String>, e: IdError) -> Self {
        Self::invalid(e.code(), field, e.to_string())
    }
}

impl From<AccountsError> for RegistryError {
    fn from(e: AccountsError) -> Self {
        match e {
            // Login throttling never reaches the registry; refused like a failed login if it did.
            AccountsError::Unauthenticated
            | AccountsError::InvalidCredentials
            | AccountsError::TooManyAttempts { .. } => Self::Unauthenticated,
            AccountsError::Forbidden => Self::Forbidden,
            AccountsError::NotFound { what } => Self::NotFound { what },
            AccountsError::Invalid { code, field, message } => Self::Invalid { code, field, message },
            AccountsError::Conflict { code, field, message } => Self::Conflict {
                code,
                field: Some(field),
                message,
            },
            AccountsError::Database(inner) => Self::Database(inner),
            AccountsError::Internal(s) => Self::Internal(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_errors_keep_their_code_and_name_the_field() {
        let e = RegistryError::id("partita_iva", IdError::PartitaIvaCheckDigit);
        assert_eq!(e.code(), "partita_iva_check_digit");
        assert_eq!(e.field(), Some("partita_iva"));
        assert_eq!(e.to_string(), "Partita IVA non valida: cifra di controllo errata");
        assert_eq!(
            RegistryError::NotFound {
                what: "Operatore economico"
            }
            .to_string(),
            "Operatore economico non trovato"
        );
    }
}
