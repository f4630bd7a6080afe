//! Just enough `multipart/form-data` (RFC 7578) for the document upload form: the body is
//! already in memory (bounded by the route's payload limit), split on its boundary into named
//! parts. Without JavaScript a browser can send a file only this way.

/// One part of the form: a field, or a file with its name and declared type.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut pieces = content_type.split(';');
    let kind = pieces.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    pieces.find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| &haystack[i..i + needle.len()] == needle)
}

/// A `name="value"` parameter of a Content-Disposition header.
fn param(header: &str, key: &str) -> Option<String> {
    let mut rest = header;
    while let Some(pos) = rest.find(key) {
        let before_ok = pos == 0 || matches!(rest.as_bytes()[pos - 1], b' ' | b';' | b'\t');
        let after = &rest[pos + key.len()..];
        if before_ok {
            if let Some(v) = after.strip_prefix("=\"") {
                let end = v.find('"')?;
                return Some(v[..end].to_string());
            }
        }
        rest = after;
    }
    None
}

/// The parts of `body`, or `None` when it is not well-formed multipart with this boundary.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}");
    let between = format!("\r\n--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body.get(at..at + 2)? == b"--" {
            return Some(parts);
        }
        if body.get(at..at + 2)? != b"\r\n" {
            return None;
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at)?;
        let headers = std::str::from_utf8(&body[at..headers_end]).ok()?;
        let data_start = headers_end + 4;
        let data_end = find(body, between.as_bytes(), data_start)?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let (k, v) = line.split_once(':')?;
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = param(v, "name");
                filename = param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_string());
            }
        }
        parts.push(Part {
            name: name?,
            filename,
            content_type,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + between.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_form_with_a_file_splits_into_its_fields() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"durc.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--\r\n--XyZ--\r\n";
        let parts = parse(body, "XyZ").expect("parsed");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "_csrf");
        assert_eq!(parts[0].text(), "abc");
        assert_eq!(parts[1].filename.as_deref(), Some("durc.pdf"));
        assert_eq!(parts[1].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(parts[1].data, b"%PDF\r\n--");
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
    }

    #[test]
    fn a_truncated_body_is_refused() {
        assert!(parse(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc", "XyZ").is_none());
        assert!(parse(b"garbage", "XyZ").is_none());
    }
}
