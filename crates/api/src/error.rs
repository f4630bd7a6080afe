//! The one error edge. Every crate's error converts into [`ApiError`] here, once, and
//! leaves the server as `application/problem+json` (RFC 9457) with a stable machine `code`,
//! an Italian `detail`, and the offending `field` where there is one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use accounts::AccountsError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Violation {
    pub code: String,
    pub field: Option<String>,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:centrale:problem:<code>`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// Italian, for people.
    pub detail: String,
    /// Stable, for machines.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Every violation, when there are several (e.g. the legal checks at publication).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Violation>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub errors: Vec<Violation>,
    /// Seconds, sent as `Retry-After` (429 throttled logins, 503 busy hashing).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The problem response, with `Retry-After` when set.
    pub fn render(&self, request_id: Option<String>) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.problem(request_id))
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Errore interno: l'operazione non è stata eseguita",
        )
    }

    pub fn unauthenticated() -> Self {
        AccountsError::Unauthenticated.into()
    }

    pub fn problem(&self, request_id: Option<String>) -> Problem {
        Problem {
            type_: format!("urn:centrale:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            detail: self.message.clone(),
            code: self.code.clone(),
            field: self.field.clone(),
            request_id,
            errors: self.errors.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        // The request id is added by the request-id middleware, which also fills it in here.
        self.render(None)
    }
}

impl From<AccountsError> for ApiError {
    fn from(e: AccountsError) -> Self {
        let status = match &e {
            AccountsError::InvalidCredentials | AccountsError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AccountsError::TooManyAttempts { retry_after_secs } => {
                return ApiError::new(StatusCode::TOO_MANY_REQUESTS, e.code(), e.to_string())
                    .with_retry_after(*retry_after_secs);
            }
            AccountsError::Forbidden => StatusCode::FORBIDDEN,
            AccountsError::NotFound { .. } => StatusCode::NOT_FOUND,
            AccountsError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AccountsError::Conflict { .. } => StatusCode::CONFLICT,
            AccountsError::Database(inner) => {
                tracing::error!(error = %inner, "database error");
                return ApiError::internal();
            }
            AccountsError::Internal(inner) => {
                tracing::error!(error = %inner, "internal error");
                return ApiError::internal();
            }
        };
        let mut out = ApiError::new(status, e.code(), e.to_string());
        out.field = e.field().map(str::to_string);
        out
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::internal()
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %e, "no database connection");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "Database non raggiungibile: riprovare tra poco",
        )
    }
}
