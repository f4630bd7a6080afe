//! Extractor settings: malformed JSON, wrong types, unknown fields, oversized bodies, bad
//! paths and queries all become 4xx problem documents that say what is wrong.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};

use crate::error::ApiError;

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req: &HttpRequest| json_error(err, limit).into())
}

fn json_error(err: JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("Corpo della richiesta troppo grande (massimo {limit} byte)"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type_not_json",
            "Il corpo della richiesta deve essere JSON (Content-Type: application/json)",
        ),
        JsonPayloadError::Deserialize(e) => {
            let (code, message) = if e.is_syntax() || e.is_eof() {
                ("json_malformed", format!("JSON non valido: {e}"))
            } else {
                ("json_invalid", format!("Dati non validi: {e}"))
            };
            let mut out = ApiError::new(StatusCode::BAD_REQUEST, code, message);
            out.field = field_from_serde_message(&e.to_string());
            out
        }
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "body_unreadable",
            format!("Corpo della richiesta non leggibile: {other}"),
        ),
    }
}

/// serde names the field in its message (`unknown field `x``, `missing field `y``);
/// surface it as `field` so clients can highlight it.
fn field_from_serde_message(msg: &str) -> Option<String> {
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = msg.split(marker).nth(1) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    None
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "path_invalid",
            format!("Parametro del percorso non valido: {err}"),
        )
        .into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _| {
        let mut out = ApiError::new(
            StatusCode::BAD_REQUEST,
            "query_invalid",
            format!("Parametri della richiesta non validi: {err}"),
        );
        out.field = field_from_serde_message(&err.to_string());
        out.into()
    })
}

#[cfg(test)]
mod tests {
    use super::field_from_serde_message;

    #[test]
    fn serde_messages_name_the_field() {
        assert_eq!(
            field_from_serde_message("unknown field `pecc`, expected one of `pec`").as_deref(),
            Some("pecc")
        );
        assert_eq!(
            field_from_serde_message("missing field `nome` at line 1").as_deref(),
            Some("nome")
        );
        assert_eq!(field_from_serde_message("expected a string"), None);
    }
}
