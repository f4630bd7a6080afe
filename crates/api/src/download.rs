//! How every route that serves a file (tender documents, albo documents, envelopes, the award
//! report, the audit export) answers: always as an attachment, with a content type from an
//! allow-list and a sanitised file name (issue 11, web hygiene).
//!
//! Files come from users (a RUP's tender documents, a supplier's albo documents, bidders'
//! envelopes): a browser must never render one in the platform's origin, where an HTML or SVG
//! file would run script with the reader's session. So no type is served inline — not even
//! PDF, whose viewers run embedded JavaScript — and a declared type outside the allow-list
//! becomes `application/octet-stream`. `X-Content-Type-Options: nosniff` comes from
//! [`crate::security_headers`] on every answer.

use actix_web::http::header;
use actix_web::HttpResponseBuilder;

/// Media types served under their own name; everything else is `application/octet-stream`.
/// None of them is rendered by a browser as an active document in the platform's origin.
const SAFE_TYPES: &[&str] = &[
    "application/pdf",
    "application/pkcs7-mime",
    "application/pkcs7-signature",
    "application/timestamped-data",
    "application/timestamp-reply",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "image/png",
    "image/jpeg",
    "text/csv",
    "text/plain",
];

const FALLBACK_TYPE: &str = "application/octet-stream";
const MAX_NAME_CHARS: usize = 120;

/// The content type to serve for a declared one: its essence (no parameters) when on the
/// allow-list, with `charset=utf-8` for text; `application/octet-stream` otherwise.
pub fn safe_content_type(declared: &str) -> String {
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match SAFE_TYPES.iter().find(|t| **t == essence) {
        Some(t) if t.starts_with("text/") => format!("{t}; charset=utf-8"),
        Some(t) => (*t).to_string(),
        None => FALLBACK_TYPE.to_string(),
    }
}

/// The file name reduced to what is safe in a header and on a disk: the last path segment,
/// without control characters, quotes, separators or leading dots, at most 120 characters;
/// `download` when nothing is left.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '"' | '\'' | ';' | ':' | '*' | '?' | '<' | '>' | '|' | '%' | '\\' | '/' => '_',
            c => c,
        })
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "download".to_string()
    } else {
        cleaned
    }
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>` (RFC 6266,
/// RFC 8187).
pub fn attachment_disposition(name: &str) -> String {
    let name = sanitize_filename(name);
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Sets the safe content type and the attachment disposition on a file's answer.
pub fn as_attachment<'a>(
    builder: &'a mut HttpResponseBuilder,
    declared_type: &str,
    filename: &str,
) -> &'a mut HttpResponseBuilder {
    builder
        .content_type(safe_content_type(declared_type))
        .insert_header((header::CONTENT_DISPOSITION, attachment_disposition(filename)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_types_become_octet_stream_and_text_gets_a_charset() {
        assert_eq!(safe_content_type("text/html"), FALLBACK_TYPE);
        assert_eq!(safe_content_type("image/svg+xml"), FALLBACK_TYPE);
        assert_eq!(safe_content_type("application/xhtml+xml"), FALLBACK_TYPE);
        assert_eq!(safe_content_type("text/xml"), FALLBACK_TYPE);
        assert_eq!(safe_content_type(""), FALLBACK_TYPE);
        assert_eq!(safe_content_type("Application/PDF; x=y"), "application/pdf");
        assert_eq!(safe_content_type("text/csv"), "text/csv; charset=utf-8");
    }

    #[test]
    fn file_names_lose_paths_quotes_and_control_characters() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("a\"b\r\nc.pdf"), "a_bc.pdf");
        assert_eq!(sanitize_filename("..."), "download");
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        assert_eq!(sanitize_filename(&"x".repeat(500)).len(), MAX_NAME_CHARS);
        assert_eq!(
            attachment_disposition("capitolato è.pdf"),
            "attachment; filename=\"capitolato _.pdf\"; filename*=UTF-8''capitolato%20%C3%A8.pdf"
        );
    }
}
