//! `/calcolatori`: the public calculators as GET forms (a result is a link anyone can reopen),
//! each run by the same engine as its `POST /api/v1/tools/...` twin and as the tenders
//! themselves, showing every value the engine reports. `/calcolatori` is the index and keeps
//! the anomaly threshold in place (its links and query parameters predate the other two).

pub(crate) mod anomalia;
mod punteggi;
mod sorteggio;

use actix_web::http::StatusCode;
use actix_web::web;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::error::PortalError;
use crate::forms::FieldErrors;

pub fn configure(cfg: &mut web::ServiceConfig) {
    anomalia::configure(cfg);
    punteggi::configure(cfg);
    sorteggio::configure(cfg);
}

/// A list typed in a textarea: one item per line, or separated by `;` or blanks. A comma is
/// never a separator, so it can be the Italian decimal comma.
fn items(text: Option<&str>) -> Vec<&str> {
    text.unwrap_or_default()
        .split(|c: char| c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A number as typed in Italian (`12,5`) or as the API writes it (`12.5`), read by the same
/// deserializer as the API's JSON, so the page accepts exactly what the API accepts.
fn decimal(text: &str) -> Option<Decimal> {
    serde_json::from_value(Value::String(text.trim().replace(',', "."))).ok()
}

/// A decimal as Italian text, every digit the engine reported kept.
fn comma(d: &Decimal) -> String {
    d.to_string().replace('.', ",")
}

fn status(errors: &FieldErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Runs an engine off the async workers. A refusal (4xx) comes back for the form; anything
/// else is the error page, never a form message.
async fn run<T, F>(f: F) -> Result<Result<T, api::ApiError>, PortalError>
where
    F: FnOnce() -> Result<T, api::ApiError> + Send + 'static,
    T: Send + 'static,
{
    match web::block(f).await.map_err(|_| PortalError::internal())? {
        Err(e) if e.status.is_server_error() => Err(e.into()),
        outcome => Ok(outcome),
    }
}

/// The engine's refusal on the form field `field` names (or above the form when it names
/// none the page has).
fn refusal_on(field: Option<&str>, message: String) -> FieldErrors {
    let mut errors = FieldErrors::default();
    match field {
        Some(f) => {
            errors.by_field.insert(f.into(), message);
        }
        None => errors.general.push(message),
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_lines_semicolons_and_blanks_but_not_commas() {
        assert_eq!(items(Some("10\r\n12,5; 7\t8")), ["10", "12,5", "7", "8"]);
        assert!(items(None).is_empty());
    }

    #[test]
    fn numbers_read_with_either_decimal_mark() {
        assert_eq!(decimal("12,50").map(|d| comma(&d)).as_deref(), Some("12,50"));
        assert_eq!(decimal(" 0.85 ").map(|d| d.to_string()).as_deref(), Some("0.85"));
        // A thousands separator with a decimal comma is refused, not misread.
        assert_eq!(decimal("150.000,00"), None);
        assert_eq!(decimal("dieci"), None);
    }
}
