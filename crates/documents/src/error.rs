//! The crate's one error type; the API maps it in `crates/api/src/routes/documents.rs`.

use aggiudicazione::procedure::ProcedureError;

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("Operazione non consentita")]
    Forbidden,
    #[error("{what} non trovato")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error(transparent)]
    Procedure(#[from] ProcedureError),
    #[error(transparent)]
    Offerte(#[from] offerte::OfferteError),
    #[error(transparent)]
    Bando(#[from] bando::BandoError),
    #[error("albo: {0}")]
    Registry(#[from] registry::RegistryError),
    #[error("errore del database: {0}")]
    Database(#[from] diesel::result::Error),
}

impl DocumentError {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        DocumentError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        DocumentError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The stable machine code of the crate's own variants.
    pub fn code(&self) -> &'static str {
        match self {
            DocumentError::Forbidden => "forbidden",
            DocumentError::NotFound { .. } => "not_found",
            DocumentError::Invalid { code, .. } | DocumentError::Conflict { code, .. } => code,
            DocumentError::Procedure(_)
            | DocumentError::Offerte(_)
            | DocumentError::Bando(_)
            | DocumentError::Registry(_)
            | DocumentError::Database(_) => "internal",
        }
    }
}

impl From<accounts::AccountsError> for DocumentError {
    fn from(e: accounts::AccountsError) -> Self {
        match e {
            accounts::AccountsError::Forbidden => DocumentError::Forbidden,
            accounts::AccountsError::NotFound { what } => DocumentError::NotFound { what },
            other => DocumentError::conflict("accounts_unavailable", other.to_string()),
        }
    }
}
