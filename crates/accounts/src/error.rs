/// Everything the accounts area can refuse. Each variant has a stable machine code; the
/// Display text is the Italian message shown to users.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("Credenziali non valide")]
    InvalidCredentials,
    /// Too many failed logins for this account or from this address; the same answer whether
    /// or not the account exists.
    #[error("Troppi tentativi di accesso non riusciti: riprovare tra {retry_after_secs} secondi")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("Sessione assente, scaduta o revocata: effettuare l'accesso")]
    Unauthenticated,
    #[error("Operazione non consentita per il proprio ruolo")]
    Forbidden,
    #[error("{what} non trovato")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: String,
        message: String,
    },
    #[error("errore del database")]
    Database(#[from] diesel::result::Error),
    #[error("errore interno: {0}")]
    Internal(String),
}

impl AccountsError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Invalid { code, .. } | Self::Conflict { code, .. } => code,
            Self::Database(_) | Self::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } | Self::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            field: field.to_string(),
            message: message.into(),
        }
    }
}
