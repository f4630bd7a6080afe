//! The single error type of the evaluation engine.
//!
//! Every variant has a stable machine code ([`EvalError::code`]), an Italian human message
//! (its `Display`) and, where it makes sense, the offending input field ([`EvalError::field`]),
//! written as a JSON-like path such as `discounts[3]` or `parameters.alpha`.

use thiserror::Error;

/// Errors raised while validating inputs or evaluating them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// A discount is negative or not below 100.
    #[error("Ribasso fuori intervallo: deve essere compreso tra 0 e 100 (escluso) ({field}: {value})")]
    DiscountOutOfRange { field: String, value: String },

    /// A price is zero or negative.
    #[error("Prezzo non valido: deve essere maggiore di zero ({field}: {value})")]
    PriceOutOfRange { field: String, value: String },

    /// A commissioner coefficient is outside [0, 1].
    #[error("Coefficiente fuori intervallo: deve essere compreso tra 0 e 1 ({field}: {value})")]
    CoefficientOutOfRange { field: String, value: String },

    /// A value carries more decimal places than the engine accepts.
    #[error("Troppe cifre decimali in {field}: al massimo {max}")]
    TooManyDecimals { field: String, max: u32 },

    /// The anomaly method is not A, B or C.
    #[error("Metodo di calcolo dell'anomalia sconosciuto: \"{value}\" (ammessi: A, B, C)")]
    UnknownMethod { value: String },

    /// The economic formula is not one of the supported ones.
    #[error("Formula di punteggio economico sconosciuta: \"{value}\" (ammesse: linear, bilinear, concave, inverse_proportional)")]
    UnknownFormula { value: String },

    /// No offers were given.
    #[error("Nessuna offerta presente ({field})")]
    EmptyOffers { field: String },

    /// Two offers (or criteria) share the same identifier.
    #[error("Identificativo duplicato: \"{id}\" ({field})")]
    DuplicateId { field: String, id: String },

    /// A parameter has a value the formula or method does not allow.
    #[error("Parametro non valido ({field}): {reason}")]
    InvalidParameter { field: String, reason: String },

    /// A parameter required by the chosen formula or method is missing.
    #[error("Parametro obbligatorio mancante: {field}")]
    MissingParameter { field: String },

    /// A parameter was given that the chosen formula or method does not use.
    #[error("Parametro non previsto per il metodo o la formula scelti: {field}")]
    UnexpectedParameter { field: String },

    /// An option the tender's text of Allegato II.2 does not allow (the readings contradicting
    /// the amended text are kept only for tenders published before the correttivo).
    #[error("Opzione non ammessa dal testo dell'Allegato II.2 applicabile ({field}): {reason}")]
    OptionNotInForce { field: String, reason: String },

    /// The Method C reference table has no entry for the requested key.
    #[error(
        "Sconto di riferimento non presente in tabella (categoria {category}, fascia {band}, percentile {percentile})"
    )]
    UnknownReference {
        category: String,
        band: String,
        percentile: u8,
    },

    /// A score refers to a criterion that does not exist.
    #[error("Criterio sconosciuto: \"{criterion}\" ({field})")]
    UnknownCriterion { field: String, criterion: String },

    /// An offer has no score for a criterion.
    #[error("Punteggio mancante per il criterio \"{criterion}\" ({field})")]
    MissingScore { field: String, criterion: String },

    /// The request could not be read (malformed JSON, unknown field, wrong type).
    #[error("Richiesta non valida: {message}")]
    InvalidRequest { message: String },

    /// A result does not fit the output decimal type.
    #[error("Risultato fuori dai limiti di rappresentazione numerica ({field})")]
    ArithmeticOverflow { field: String },
}

impl EvalError {
    /// Wrap a JSON parsing error as `invalid_request`.
    pub(crate) fn from_serde(e: serde_json::Error) -> Self {
        EvalError::InvalidRequest { message: e.to_string() }
    }

    /// Stable machine-readable code, suitable for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            EvalError::DiscountOutOfRange { .. } => "discount_out_of_range",
            EvalError::PriceOutOfRange { .. } => "price_out_of_range",
            EvalError::CoefficientOutOfRange { .. } => "coefficient_out_of_range",
            EvalError::TooManyDecimals { .. } => "too_many_decimals",
            EvalError::UnknownMethod { .. } => "unknown_method",
            EvalError::UnknownFormula { .. } => "unknown_formula",
            EvalError::EmptyOffers { .. } => "empty_offers",
            EvalError::DuplicateId { .. } => "duplicate_id",
            EvalError::InvalidParameter { .. } => "invalid_parameter",
            EvalError::MissingParameter { .. } => "missing_parameter",
            EvalError::UnexpectedParameter { .. } => "unexpected_parameter",
            EvalError::OptionNotInForce { .. } => "option_not_in_force",
            EvalError::UnknownReference { .. } => "unknown_reference",
            EvalError::UnknownCriterion { .. } => "unknown_criterion",
            EvalError::MissingScore { .. } => "missing_score",
            EvalError::InvalidRequest { .. } => "invalid_request",
            EvalError::ArithmeticOverflow { .. } => "arithmetic_overflow",
        }
    }

    /// The offending input field, as a path (`discounts[2]`, `parameters.X`), when known.
    pub fn field(&self) -> Option<String> {
        match self {
            EvalError::DiscountOutOfRange { field, .. }
            | EvalError::PriceOutOfRange { field, .. }
            | EvalError::CoefficientOutOfRange { field, .. }
            | EvalError::TooManyDecimals { field, .. }
            | EvalError::EmptyOffers { field }
            | EvalError::DuplicateId { field, .. }
            | EvalError::InvalidParameter { field, .. }
            | EvalError::OptionNotInForce { field, .. }
            | EvalError::MissingParameter { field }
            | EvalError::UnexpectedParameter { field }
            | EvalError::UnknownCriterion { field, .. }
            | EvalError::MissingScore { field, .. }
            | EvalError::ArithmeticOverflow { field } => Some(field.clone()),
            EvalError::UnknownMethod { .. } => Some("method".to_owned()),
            EvalError::UnknownFormula { .. } => Some("formula".to_owned()),
            EvalError::UnknownReference { .. } => Some("reference".to_owned()),
            EvalError::InvalidRequest { .. } => None,
        }
    }
}
