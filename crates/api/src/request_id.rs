//! Request ids and structured request logs. Every request gets the server's own id (a new
//! UUID), echoed in the response header, attached to the tracing span, recorded in audit
//! events, and written into problem documents. A client-sent `x-request-id` never replaces
//! it: anyone may send any value, including the id of someone else's earlier request, and an
//! auditor must be able to tell which events one request caused. The client's value is kept
//! apart, sanitised and bounded, in the audit event's `client_request_id` and in the log span.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};
use tracing::Instrument;

use crate::error::ApiError;

pub const HEADER: &str = "x-request-id";

/// `.0` is the server's id of the request; `.1` the client's `x-request-id`, sanitised
/// ([`client_value`]), when it sent one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String, pub Option<String>);

/// Longest client request id kept, in characters.
pub const CLIENT_ID_MAX_CHARS: usize = 128;

impl FromRequest for RequestId {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(uuid::Uuid::new_v4().to_string(), None))))
    }
}

/// The client's `x-request-id` as it is recorded: visible ASCII only (no spaces, quotes,
/// backslashes or control characters), at most [`CLIENT_ID_MAX_CHARS`]; `None` when nothing
/// is left.
pub fn client_value(raw: &[u8]) -> Option<String> {
    let kept: String = raw
        .iter()
        .map(|b| *b as char)
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .take(CLIENT_ID_MAX_CHARS)
        .collect();
    (!kept.is_empty()).then_some(kept)
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let client = req.headers().get(HEADER).and_then(|v| client_value(v.as_bytes()));
    req.extensions_mut().insert(RequestId(id.clone(), client.clone()));
    let span = tracing::info_span!("request", request_id = %id, client_request_id = client.as_deref().unwrap_or(""),
        method = %req.method(), path = %req.path());
    let started = std::time::Instant::now();
    let res = next.call(req).instrument(span.clone()).await?;
    let mut res = match res.response().error().and_then(|e| e.as_error::<ApiError>()).cloned() {
        // Re-render problem documents so they carry the request id.
        Some(api_error) => {
            let response = api_error.render(Some(id.clone()));
            res.into_response(response)
        }
        None => res.map_into_boxed_body(),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request completed"
        );
    });
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_bounded_and_stripped_of_what_could_forge_a_log_line() {
        assert_eq!(client_value(b"abc-123").as_deref(), Some("abc-123"));
        assert_eq!(client_value(b"a b\r\nc\"d\\e").as_deref(), Some("abcde"));
        assert_eq!(client_value(&[0xff, 0xfe]), None);
        assert_eq!(client_value(b"   "), None);
        assert_eq!(client_value(&[b'x'; 1000]).map(|v| v.len()), Some(CLIENT_ID_MAX_CHARS));
    }
}
