//! Security headers on every response (issue 11, point 6). API answers carry tokens and
//! personal data, so none of them may be cached; only the public API docs may be.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

/// The Swagger UI needs its own scripts and styles; everything else is JSON or a download.
const CSP_API: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const CSP_DOCS: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/// The portal: everything from this origin, nothing inline (no `'unsafe-inline'`), no
/// framing. `data:` images are the icons Bootstrap Italia's stylesheet embeds.
const CSP_PORTAL: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

enum Surface {
    Api,
    Docs,
    Portal,
    Static,
}

fn surface(path: &str) -> Surface {
    if path.starts_with("/api/docs") {
        Surface::Docs
    } else if path.starts_with("/api/") || path == "/api" || path == "/healthz" || path == "/readyz" {
        Surface::Api
    } else if path.starts_with("/static/") {
        Surface::Static
    } else {
        Surface::Portal
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let surface = surface(req.path());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    };
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "no-referrer");
    set("x-frame-options", "DENY");
    let csp = match surface {
        Surface::Docs => CSP_DOCS,
        Surface::Api => CSP_API,
        Surface::Portal | Surface::Static => CSP_PORTAL,
    };
    set("content-security-policy", csp);
    // Static files set their own caching; pages and API answers may carry personal data.
    if matches!(surface, Surface::Api | Surface::Portal) {
        set("cache-control", "no-store");
    }
    Ok(res)
}
