use accounts::AccountsError;

use crate::model::State;

/// One legal or formal problem found when publishing; `message` starts with the article.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl Violation {
    pub fn new(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Violation {
            code,
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Everything the tender area can refuse. Each variant has a stable machine code; the
/// Display text is the Italian message shown to users.
#[derive(Debug, thiserror::Error)]
pub enum BandoError {
    #[error("Operazione non consentita per il proprio ruolo")]
    Forbidden,
    /// The caller may manage the tender but not this act: it belongs to the authority that
    /// runs it (403).
    #[error("{message}")]
    NotRunner { message: String },
    #[error("{what} non trovato")]
    NotFound { what: &'static str },
    /// A field fails validation (422).
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    /// The tender breaks one or more legal rules (422 listing every one).
    #[error("Il bando non rispetta {} regol{} del Codice: {}", .0.len(), if .0.len() == 1 { "a" } else { "e" },
        .0.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join("; "))]
    Legal(Vec<Violation>),
    /// Not allowed from the current state (409).
    #[error("Transizione non consentita: lo stato attuale è «{current}», non si può passare a «{requested}»{}", .why.as_deref().map(|w| format!(" ({w})")).unwrap_or_default())]
    IllegalTransition {
        current: String,
        requested: String,
        why: Option<String>,
    },
    /// A state or a rule that forbids the operation now (409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// Stored bytes no longer match their recorded SHA-256 (500: never served as if sound).
    #[error("{message}")]
    Integrity { message: String },
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error("errore del database")]
    Database(#[from] diesel::result::Error),
}

impl BandoError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::NotRunner { .. } => "centrale_publishes",
            Self::NotFound { .. } => "not_found",
            Self::Invalid { code, .. } | Self::Conflict { code, .. } => code,
            Self::Legal(_) => "legal_violations",
            Self::Integrity { .. } => "document_integrity",
            Self::IllegalTransition { .. } => "illegal_transition",
            Self::Accounts(e) => e.code(),
            Self::Database(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::Conflict { field, .. } => field.as_deref(),
            Self::IllegalTransition { .. } => Some("state"),
            Self::Accounts(e) => e.field(),
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

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            field: None,
            message: message.into(),
        }
    }

    pub fn illegal(current: State, requested: &str, why: Option<String>) -> Self {
        Self::IllegalTransition {
            current: current.as_str().to_string(),
            requested: requested.to_string(),
            why,
        }
    }
}
