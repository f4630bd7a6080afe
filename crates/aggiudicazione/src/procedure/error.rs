//! The workflow's errors, with stable codes and Italian messages.

use bando::BandoError;

use crate::EvalError;

#[derive(Debug, thiserror::Error)]
pub enum ProcedureError {
    #[error("Operazione non consentita")]
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
    Conflict { code: &'static str, message: String },
    #[error(transparent)]
    Bando(#[from] BandoError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error("errore del database: {0}")]
    Database(#[from] diesel::result::Error),
    /// Writing a decision leaf to the seal's log failed.
    #[error("registro del sigillo: {0}")]
    Seal(#[from] offerte::OfferteError),
}

impl ProcedureError {
    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        ProcedureError::Invalid {
            code,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ProcedureError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ProcedureError::Forbidden => "forbidden",
            ProcedureError::NotFound { .. } => "not_found",
            ProcedureError::Invalid { code, .. } | ProcedureError::Conflict { code, .. } => code,
            ProcedureError::Bando(e) => e.code(),
            ProcedureError::Eval(e) => e.code(),
            ProcedureError::Database(_) | ProcedureError::Seal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<String> {
        match self {
            ProcedureError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        }
    }
}
