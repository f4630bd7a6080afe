//! Everything the bids area can refuse. Each variant has a stable machine code; the Display
//! text is the Italian message shown to users.

use accounts::AccountsError;
use seal::SealError;

#[derive(Debug, thiserror::Error)]
pub enum OfferteError {
    /// Authentication or role refusals, shared with the accounts area.
    #[error(transparent)]
    Accounts(#[from] AccountsError),
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
    /// The caller is who it says, but may not do this (403), with the reason as its code:
    /// `supplier_not_qualified`, `supplier_documents_expired`, `supplier_not_invited`.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The envelope (or withdrawal) arrived when the submission deadline had already passed.
    #[error("Termine di presentazione delle offerte scaduto il {deadline}: la busta non è stata accettata")]
    DeadlinePassed { deadline: String },
    #[error("Busta troppo grande (massimo {limit} byte)")]
    TooLarge { limit: u64 },
    /// The bidder's envelopes on this tender, superseded ones included, would pass the quota.
    #[error("Quota di caricamento esaurita: le buste dell'operatore su questo bando, comprese quelle sostituite, non possono superare {limit} byte (già usati {used})")]
    QuotaBytes { limit: u64, used: u64 },
    /// The bidder has replaced this envelope kind as many times as allowed.
    #[error(
        "Numero massimo di sostituzioni della busta {kind} raggiunto ({limit}): la busta attuale resta quella valida"
    )]
    QuotaReplacements { kind: &'static str, limit: u32 },
    /// A refusal from the seal core (bad share, bad key...) or an internal crypto failure.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// An envelope of several files that breaks `centrale-busta/1`, or a file not in it.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    #[error("errore del database")]
    Database(#[from] diesel::result::Error),
    #[error("errore di lettura/scrittura: {0}")]
    Io(#[from] std::io::Error),
    #[error("errore interno: {0}")]
    Internal(String),
}

impl OfferteError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Accounts(e) => e.code(),
            Self::NotFound { .. } => "not_found",
            Self::Invalid { code, .. } | Self::Conflict { code, .. } | Self::Refused { code, .. } => code,
            Self::DeadlinePassed { .. } => "deadline_passed",
            Self::TooLarge { .. } => "envelope_too_large",
            Self::QuotaBytes { .. } => "upload_quota_bytes",
            Self::QuotaReplacements { .. } => "upload_quota_replacements",
            Self::Seal(e) => e.code(),
            Self::Archive(e) => e.code(),
            Self::Database(_) | Self::Io(_) | Self::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Accounts(e) => e.field(),
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Seal errors caused by what the caller sent (a bad share, a bad key), as opposed to
    /// failures of the platform itself.
    pub fn is_client_seal_error(e: &SealError) -> bool {
        matches!(
            e,
            SealError::InvalidThreshold { .. }
                | SealError::CustodianCountMismatch { .. }
                | SealError::NotEnoughShares { .. }
                | SealError::ShareMalformed(_)
                | SealError::ShareDecrypt(_)
                | SealError::RecipientMismatch
                | SealError::CommitmentMalformed(_)
                | SealError::ProofInvalid
                | SealError::ShareInvalid
                | SealError::InvalidAgeKey(_)
        )
    }

    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    /// A failure reading another area (bando, registry) that is not the caller's fault.
    pub(crate) fn other_area(what: impl std::fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
}
