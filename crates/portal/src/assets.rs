//! Static files (Bootstrap Italia, fonts, our scripts) embedded in the binary, so an install
//! is one file and nothing is fetched from elsewhere at run time.

use actix_web::http::header::{self, EntityTag};
use actix_web::{get, web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// Every embedded path, for tests and the accessibility statement's inventory.
pub fn paths() -> impl Iterator<Item = String> {
    Assets::iter().map(|p| p.into_owned())
}

#[get("/static/{path:.*}")]
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(file) = Assets::get(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Risorsa inesistente");
    };
    // rust-embed hashes every file at build time: the hash is the validator.
    let tag = EntityTag::new_strong(hex::encode(file.metadata.sha256_hash()));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag.to_string())
        });
    if fresh {
        return HttpResponse::NotModified().insert_header(header::ETag(tag)).finish();
    }
    let mime = mime_guess::from_path(path.as_str()).first_or_octet_stream();
    HttpResponse::Ok()
        .content_type(mime.as_ref())
        .insert_header(header::ETag(tag))
        // No version in the URL, so revalidate rather than cache for a year.
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600, must-revalidate"))
        .body(file.data.into_owned())
}
