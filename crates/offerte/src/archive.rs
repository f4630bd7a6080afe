//! `centrale-busta/1`: the plaintext of an envelope of several files, before age encryption
//! (CONTRACT.md §1, docs/seal.md "Envelopes of several files"). A POSIX ustar stream whose
//! first entry is `manifest.json` (names, sizes, SHA-256 of every file, in name order), then
//! the files in that order, then two zero blocks. Byte for byte deterministic, so the browser
//! (crates/portal/assets/js/archive.js) and `centrale seal` produce the same bytes for the
//! same inputs.
//!
//! The headers are written and checked by hand rather than with the `tar` crate: the contract
//! fixes every byte of every header (`0000000\0` device numbers, a zero mtime, empty prefix,
//! the checksum as six digits, NUL, space), and the reader must refuse the extensions (pax,
//! GNU long names, links) that `tar` would follow transparently. A reader that rebuilds the
//! canonical header of each entry and compares it byte for byte is shorter than undoing what
//! a general-purpose tar library accepts.

use std::io::{self, Read, Seek, SeekFrom, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const FORMAT: &str = "centrale-busta/1";
pub const MANIFEST_NAME: &str = "manifest.json";
/// The member of envelope C that the award engine reads (`opening::economic_offer`).
pub const OFFER_NAME: &str = "offerta-economica.json";
/// The member of envelope B with the values of the quantitative and tabular criteria, which
/// the platform scores itself (`aggiudicazione::procedure::technical_values`).
pub const VALUES_NAME: &str = "valori-tecnici.json";
/// The member of an envelope with the bidder's requests to redact parts of its offer from the
/// other bidders' access (art. 35 c.4 lett. a, art. 36 c.3–5), read only after the opening by
/// `aggiudicazione::procedure::redaction`. An ordinary file for the packers: sealed with the
/// offer, so nobody learns of a request before the envelope is opened.
pub const REDACTION_NAME: &str = "oscuramento.json";
pub const MAX_FILES: usize = 50;
/// 50 entries of at most 100-byte names take a few KiB; anything larger is not a manifest.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
const BLOCK: usize = 512;
/// The size field holds 11 octal digits.
const MAX_ENTRY_BYTES: u64 = (1 << 33) - 1;

/// One file of an envelope archive, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveFile {
    pub name: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// `manifest.json`. The field order is the contract's key order: serde_json writes it as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub bando: Uuid,
    pub lotto: Option<Uuid>,
    pub busta: String,
    pub files: Vec<ArchiveFile>,
}

/// Everything an archive can be refused for. Each variant has a stable code; the Display text
/// is the Italian message.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archivio della busta non valido: {0}")]
    Invalid(String),
    #[error("archivio della busta non valido: checksum errato nell'intestazione di «{entry}»")]
    Checksum { entry: String },
    #[error("nome di file non ammesso nella busta «{name}»: {why}")]
    NameInvalid { name: String, why: &'static str },
    #[error("il file «{name}» compare due volte nella busta")]
    DuplicateName { name: String },
    #[error("l'archivio della busta non corrisponde al suo manifest: {0}")]
    ManifestMismatch(String),
    #[error("manca il file «{name}» elencato nel manifest della busta")]
    MissingFile { name: String },
    #[error("l'archivio della busta contiene «{name}», che il manifest non elenca")]
    ExtraEntry { name: String },
    #[error("la voce «{name}» dell'archivio non è un file regolare (tipo «{typeflag}»)")]
    EntryType { name: String, typeflag: char },
    #[error("dati in eccesso dopo la fine dell'archivio della busta")]
    TrailingData,
    #[error("troppi file nella busta: {count} (massimo {MAX_FILES})")]
    TooManyFiles { count: usize },
    #[error("il file «{name}» non è nella busta")]
    FileNotFound { name: String },
    #[error("la busta non è un archivio di più file")]
    NotArchive,
    #[error("errore di lettura/scrittura: {0}")]
    Io(#[from] io::Error),
}

impl ArchiveError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "archive_invalid",
            Self::Checksum { .. } => "archive_checksum",
            Self::NameInvalid { .. } => "archive_name_invalid",
            Self::DuplicateName { .. } => "archive_duplicate_name",
            Self::ManifestMismatch(_) => "archive_manifest_mismatch",
            Self::MissingFile { .. } => "archive_missing_file",
            Self::ExtraEntry { .. } => "archive_extra_entry",
            Self::EntryType { .. } => "archive_entry_type",
            Self::TrailingData => "archive_trailing_data",
            Self::TooManyFiles { .. } => "archive_too_many_files",
            Self::FileNotFound { .. } => "archive_file_not_found",
            Self::NotArchive => "envelope_not_archive",
            Self::Io(_) => "internal",
        }
    }

    fn invalid(m: impl Into<String>) -> Self {
        Self::Invalid(m.into())
    }
}

type Result<T> = std::result::Result<T, ArchiveError>;

/// The name rules of the contract: 1..=100 bytes of UTF-8, no `/`, `\` or control character
/// (Unicode Cc: U+0000–U+001F, U+007F–U+009F), not `.`, `..` or `manifest.json`.
pub fn check_name(name: &str) -> Result<()> {
    let bad = |why| {
        Err(ArchiveError::NameInvalid {
            name: name.chars().filter(|c| !c.is_control()).take(100).collect(),
            why,
        })
    };
    if name.is_empty() || name.len() > 100 {
        return bad("da 1 a 100 byte");
    }
    if name.contains(['/', '\\']) {
        return bad("niente percorsi («/», «\\»)");
    }
    if name.chars().any(char::is_control) {
        return bad("niente caratteri di controllo");
    }
    if name == "." || name == ".." {
        return bad("«.» e «..» non sono nomi di file");
    }
    if name == MANIFEST_NAME {
        return bad("«manifest.json» è riservato al manifest");
    }
    Ok(())
}

impl ArchiveFile {
    /// The manifest entry of a file, read once (streaming) for its size and digest.
    pub fn digest(name: &str, mut reader: impl Read) -> Result<Self> {
        check_name(name)?;
        let mut hasher = Sha256::new();
        let size = io::copy(&mut reader, &mut HashWrite(&mut hasher))?;
        Ok(Self {
            name: name.to_string(),
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

struct HashWrite<'a>(&'a mut Sha256);

impl Write for HashWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Manifest {
    /// The manifest of envelope `busta` with these files, sorted by name (byte order).
    pub fn new(bando: Uuid, lotto: Option<Uuid>, busta: &str, mut files: Vec<ArchiveFile>) -> Result<Self> {
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let m = Self {
            format: FORMAT.to_string(),
            bando,
            lotto,
            busta: busta.to_string(),
            files,
        };
        m.check()?;
        Ok(m)
    }

    /// The manifest's own rules: format, kind, at most 50 files, names valid, unique and
    /// sorted, digests as 64 lowercase hex digits.
    pub fn check(&self) -> Result<()> {
        if self.format != FORMAT {
            return Err(ArchiveError::invalid(format!("formato «{}» sconosciuto", self.format)));
        }
        if !matches!(self.busta.as_str(), "A" | "B" | "C") {
            return Err(ArchiveError::invalid("busta diversa da A, B o C"));
        }
        if self.files.is_empty() {
            return Err(ArchiveError::invalid("nessun file"));
        }
        if self.files.len() > MAX_FILES {
            return Err(ArchiveError::TooManyFiles {
                count: self.files.len(),
            });
        }
        for (i, f) in self.files.iter().enumerate() {
            check_name(&f.name)?;
            if f.sha256.len() != 64
                || !f
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(ArchiveError::invalid(format!("SHA-256 di «{}» non valido", f.name)));
            }
            if f.size > MAX_ENTRY_BYTES {
                return Err(ArchiveError::invalid(format!("«{}» supera 8 GiB", f.name)));
            }
            if i > 0 {
                let prev = &self.files[i - 1].name;
                if *prev == f.name {
                    return Err(ArchiveError::DuplicateName { name: f.name.clone() });
                }
                if prev.as_bytes() > f.name.as_bytes() {
                    return Err(ArchiveError::ManifestMismatch(format!(
                        "file non in ordine di nome («{prev}» prima di «{}»)",
                        f.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Compact JSON with the contract's key order.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serializes")
    }

    pub fn file(&self, name: &str) -> Option<&ArchiveFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// The canonical ustar header of a regular file.
fn header(name: &str, size: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[329..337].copy_from_slice(b"0000000\0");
    h[337..345].copy_from_slice(b"0000000\0");
    let sum = checksum(&h);
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// Sum of the header's bytes with the checksum field counted as eight spaces.
fn checksum(h: &[u8; BLOCK]) -> u32 {
    h.iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { 32 } else { u32::from(*b) })
        .sum()
}

fn padding(size: u64) -> usize {
    (BLOCK - (size % BLOCK as u64) as usize) % BLOCK
}

/// Writes the archive of `manifest` to `out`, streaming each file from its reader. `files`
/// come in the manifest's order (name order); each must have exactly the size and digest the
/// manifest gives (a file that changed since it was digested fails with
/// `archive_manifest_mismatch`, and what was written must be discarded). Returns the bytes
/// written.
pub fn write_archive<I, R, W>(manifest: &Manifest, files: I, mut out: W) -> Result<u64>
where
    I: IntoIterator<Item = (String, R)>,
    R: Read,
    W: Write,
{
    manifest.check()?;
    let json = manifest.to_bytes();
    let mut written = 0u64;
    let mut put = |out: &mut W, bytes: &[u8]| -> Result<()> {
        out.write_all(bytes)?;
        written += bytes.len() as u64;
        Ok(())
    };
    put(&mut out, &header(MANIFEST_NAME, json.len() as u64))?;
    put(&mut out, &json)?;
    put(&mut out, &[0u8; BLOCK][..padding(json.len() as u64)])?;
    let mut expected = manifest.files.iter();
    for (name, reader) in files {
        let Some(entry) = expected.next() else {
            return Err(ArchiveError::ExtraEntry { name });
        };
        if entry.name != name {
            return Err(ArchiveError::ManifestMismatch(format!(
                "atteso «{}», ricevuto «{name}»",
                entry.name
            )));
        }
        put(&mut out, &header(&entry.name, entry.size))?;
        let mut hasher = Sha256::new();
        let mut limited = reader.take(entry.size + 1);
        let mut buf = vec![0u8; 64 * 1024];
        let mut n_total = 0u64;
        loop {
            let n = limited.read(&mut buf)?;
            if n == 0 {
                break;
            }
            n_total += n as u64;
            if n_total > entry.size {
                return Err(ArchiveError::ManifestMismatch(format!(
                    "«{}» è più lungo di {} byte",
                    entry.name, entry.size
                )));
            }
            hasher.update(&buf[..n]);
            put(&mut out, &buf[..n])?;
        }
        if n_total != entry.size || hex::encode(hasher.finalize()) != entry.sha256 {
            return Err(ArchiveError::ManifestMismatch(format!(
                "«{}» non ha la dimensione o lo SHA-256 del manifest (è cambiato?)",
                entry.name
            )));
        }
        put(&mut out, &[0u8; BLOCK][..padding(entry.size)])?;
    }
    if let Some(missing) = expected.next() {
        return Err(ArchiveError::MissingFile {
            name: missing.name.clone(),
        });
    }
    put(&mut out, &[0u8; 2 * BLOCK])?;
    out.flush()?;
    Ok(written)
}

/// Whether a plaintext is meant as an archive: its first block carries the ustar magic.
/// Anything else is a legacy single-body envelope.
pub fn looks_like_archive(first_block: &[u8]) -> bool {
    first_block.len() >= BLOCK && &first_block[257..262] == b"ustar"
}

/// Reads one full block; `None` at a clean end of input.
fn read_block(r: &mut impl Read) -> Result<Option<[u8; BLOCK]>> {
    let mut b = [0u8; BLOCK];
    let mut got = 0;
    while got < BLOCK {
        let n = r.read(&mut b[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    match got {
        0 => Ok(None),
        BLOCK => Ok(Some(b)),
        _ => Err(ArchiveError::invalid("archivio troncato")),
    }
}

fn field_str(f: &[u8]) -> &[u8] {
    let end = f.iter().position(|b| *b == 0).unwrap_or(f.len());
    &f[..end]
}

fn parse_octal(f: &[u8]) -> Option<u64> {
    let digits = field_str(f);
    let digits = std::str::from_utf8(digits).ok()?.trim_matches(' ');
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, 8).ok()
}

/// Checks one header against the entry expected at that position; the `seen` names came
/// before it (for duplicates).
fn check_header(h: &[u8; BLOCK], expected: &ArchiveFile, seen: &[ArchiveFile]) -> Result<()> {
    if h.iter().all(|b| *b == 0) {
        return Err(ArchiveError::MissingFile {
            name: expected.name.clone(),
        });
    }
    let label = String::from_utf8_lossy(field_str(&h[..100])).into_owned();
    if parse_octal(&h[148..156]) != Some(u64::from(checksum(h))) {
        return Err(ArchiveError::Checksum { entry: label });
    }
    if &h[257..265] != b"ustar\x0000" {
        return Err(ArchiveError::invalid(format!("«{label}» non è una voce ustar")));
    }
    if h[156] != b'0' {
        return Err(ArchiveError::EntryType {
            name: label,
            typeflag: char::from(h[156]),
        });
    }
    if h[345..500].iter().any(|b| *b != 0) {
        return Err(ArchiveError::NameInvalid {
            name: label,
            why: "il campo prefix deve essere vuoto",
        });
    }
    let name = std::str::from_utf8(field_str(&h[..100])).map_err(|_| ArchiveError::NameInvalid {
        name: label.clone(),
        why: "non è UTF-8",
    })?;
    if name != MANIFEST_NAME {
        check_name(name)?;
    }
    if name != expected.name {
        if seen.iter().any(|f| f.name == name) {
            return Err(ArchiveError::DuplicateName { name: name.into() });
        }
        return Err(ArchiveError::ManifestMismatch(format!(
            "al posto di «{}» c'è «{name}»",
            expected.name
        )));
    }
    let size = parse_octal(&h[124..136])
        .ok_or_else(|| ArchiveError::invalid(format!("dimensione di «{name}» illeggibile")))?;
    if size != expected.size {
        return Err(ArchiveError::ManifestMismatch(format!(
            "«{name}» ha {size} byte, il manifest ne dichiara {}",
            expected.size
        )));
    }
    if *h != header(name, size) {
        return Err(ArchiveError::invalid(format!("intestazione di «{name}» non canonica")));
    }
    Ok(())
}

/// Reads the first entry and checks the manifest (its own rules, and that its bytes are the
/// canonical serialization). Leaves `r` at the first file's header.
pub fn read_manifest(r: &mut impl Read) -> Result<Manifest> {
    let h = match read_block(r) {
        Ok(Some(h)) => h,
        Ok(None) | Err(ArchiveError::Invalid(_)) => return Err(ArchiveError::NotArchive),
        Err(e) => return Err(e),
    };
    if !looks_like_archive(&h) {
        return Err(ArchiveError::NotArchive);
    }
    let size = parse_octal(&h[124..136]).unwrap_or(u64::MAX);
    if field_str(&h[..100]) != MANIFEST_NAME.as_bytes() {
        return Err(ArchiveError::invalid("la prima voce deve essere manifest.json"));
    }
    if size > MAX_MANIFEST_BYTES {
        return Err(ArchiveError::invalid("manifest troppo grande"));
    }
    check_header(
        &h,
        &ArchiveFile {
            name: MANIFEST_NAME.into(),
            size,
            sha256: String::new(),
        },
        &[],
    )?;
    let mut json = vec![0u8; size as usize];
    r.read_exact(&mut json)
        .map_err(|_| ArchiveError::invalid("archivio troncato nel manifest"))?;
    skip_padding(r, size)?;
    let manifest: Manifest =
        serde_json::from_slice(&json).map_err(|e| ArchiveError::invalid(format!("manifest illeggibile: {e}")))?;
    manifest.check()?;
    if manifest.to_bytes() != json {
        return Err(ArchiveError::invalid(
            "manifest non in forma canonica (JSON compatto, chiavi nell'ordine del formato)",
        ));
    }
    Ok(manifest)
}

fn skip_padding(r: &mut impl Read, size: u64) -> Result<()> {
    let mut pad = vec![0u8; padding(size)];
    r.read_exact(&mut pad)
        .map_err(|_| ArchiveError::invalid("archivio troncato"))?;
    if pad.iter().any(|b| *b != 0) {
        return Err(ArchiveError::invalid("riempimento non nullo dopo i dati"));
    }
    Ok(())
}

/// Reads the whole archive, streaming, and checks every rule: each header canonical with a
/// good checksum, regular files only, the entries exactly the manifest's (names, order,
/// sizes, SHA-256), the two zero blocks at the end and nothing after them. Returns the manifest.
pub fn validate(mut r: impl Read) -> Result<Manifest> {
    let manifest = read_manifest(&mut r)?;
    let mut buf = vec![0u8; 64 * 1024];
    for (i, entry) in manifest.files.iter().enumerate() {
        let h = read_block(&mut r)?.ok_or_else(|| ArchiveError::MissingFile {
            name: entry.name.clone(),
        })?;
        check_header(&h, entry, &manifest.files[..i])?;
        let mut hasher = Sha256::new();
        let mut left = entry.size;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            r.read_exact(&mut buf[..want])
                .map_err(|_| ArchiveError::invalid(format!("archivio troncato in «{}»", entry.name)))?;
            hasher.update(&buf[..want]);
            left -= want as u64;
        }
        if hex::encode(hasher.finalize()) != entry.sha256 {
            return Err(ArchiveError::ManifestMismatch(format!(
                "lo SHA-256 di «{}» non è quello del manifest",
                entry.name
            )));
        }
        skip_padding(&mut r, entry.size)?;
    }
    for _ in 0..2 {
        match read_block(&mut r) {
            Ok(Some(b)) if b.iter().all(|x| *x == 0) => {}
            Ok(Some(b)) => {
                // A well-formed header here is one more file; anything else is garbage.
                let name = String::from_utf8_lossy(field_str(&b[..100])).into_owned();
                if parse_octal(&b[148..156]) == Some(u64::from(checksum(&b))) && looks_like_archive(&b) {
                    return Err(ArchiveError::ExtraEntry { name });
                }
                return Err(ArchiveError::TrailingData);
            }
            Ok(None) | Err(ArchiveError::Invalid(_)) => {
                return Err(ArchiveError::invalid("manca la fine dell'archivio (due blocchi nulli)"))
            }
            Err(e) => return Err(e),
        }
    }
    let mut one = [0u8; 1];
    if r.read(&mut one)? != 0 {
        return Err(ArchiveError::TrailingData);
    }
    Ok(manifest)
}

/// The files of a valid archive, as its manifest lists them (after [`validate`]).
pub fn list(r: impl Read) -> Result<Vec<ArchiveFile>> {
    Ok(validate(r)?.files)
}

/// Finds file `name` of an archive (validated when it was opened) by walking the headers,
/// each checked again, and leaves `r` at the first byte of its data. Returns the entry.
pub fn locate<R: Read + Seek>(r: &mut R, name: &str) -> Result<ArchiveFile> {
    let manifest = read_manifest(r)?;
    let Some(index) = manifest.files.iter().position(|f| f.name == name) else {
        return Err(ArchiveError::FileNotFound { name: name.into() });
    };
    for (i, entry) in manifest.files.iter().enumerate() {
        let h = read_block(r)?.ok_or_else(|| ArchiveError::MissingFile {
            name: entry.name.clone(),
        })?;
        check_header(&h, entry, &manifest.files[..i])?;
        if i == index {
            return Ok(entry.clone());
        }
        r.seek(SeekFrom::Current((entry.size + padding(entry.size) as u64) as i64))?;
    }
    unreachable!("the index is within the manifest")
}

/// File `name` of an archive: its entry and a reader of exactly its bytes.
pub fn extract<R: Read + Seek>(mut r: R, name: &str) -> Result<(ArchiveFile, io::Take<R>)> {
    let entry = locate(&mut r, name)?;
    let size = entry.size;
    Ok((entry, r.take(size)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn manifest_of(files: &[(&str, &[u8])], busta: &str) -> Manifest {
        let entries = files
            .iter()
            .map(|(n, b)| ArchiveFile::digest(n, *b).expect("digest"))
            .collect();
        Manifest::new(Uuid::from_u128(1), None, busta, entries).expect("manifest")
    }

    fn pack(files: &[(&str, &[u8])]) -> Vec<u8> {
        let m = manifest_of(files, "A");
        let mut sorted: Vec<(String, &[u8])> = files.iter().map(|(n, b)| (n.to_string(), *b)).collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::new();
        write_archive(&m, sorted, &mut out).expect("write");
        out
    }

    fn sample() -> Vec<u8> {
        pack(&[
            ("domanda.txt", b"Domanda di partecipazione\n"),
            ("dgue.xml", b"<dgue/>\n"),
        ])
    }

    /// An archive of these exact manifest bytes and entries, bypassing the writer's checks.
    fn raw(json: &[u8], files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&header(MANIFEST_NAME, json.len() as u64));
        a.extend_from_slice(json);
        a.resize(a.len() + padding(json.len() as u64), 0);
        for (name, body) in files {
            a.extend_from_slice(&header(name, body.len() as u64));
            a.extend_from_slice(body);
            a.resize(a.len() + padding(body.len() as u64), 0);
        }
        a.resize(a.len() + 1024, 0);
        a
    }

    fn code(r: Result<Manifest>) -> &'static str {
        r.expect_err("must be refused").code()
    }

    /// Recomputes the checksum of the header at `at` after a deliberate change.
    fn reseal(bytes: &mut [u8], at: usize) {
        let mut h = [0u8; BLOCK];
        h.copy_from_slice(&bytes[at..at + BLOCK]);
        let sum = checksum(&h);
        bytes[at + 148..at + 156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    /// Offset of the first file's header (after the manifest entry).
    fn first_file_header(bytes: &[u8]) -> usize {
        let size = parse_octal(&bytes[124..136]).expect("size");
        BLOCK + size as usize + padding(size)
    }

    #[test]
    fn the_writer_is_deterministic_and_sorts_by_name() {
        let a = sample();
        let b = pack(&[
            ("dgue.xml", b"<dgue/>\n"),
            ("domanda.txt", b"Domanda di partecipazione\n"),
        ]);
        assert_eq!(a, b);
        assert_eq!(a.len() % BLOCK, 0);
        let m = validate(&a[..]).expect("valid");
        let names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["dgue.xml", "domanda.txt"]);
        assert_eq!(
            std::str::from_utf8(&m.to_bytes()).expect("utf-8"),
            format!(
                "{{\"format\":\"centrale-busta/1\",\"bando\":\"00000000-0000-0000-0000-000000000001\",\"lotto\":null,\"busta\":\"A\",\"files\":[{{\"name\":\"dgue.xml\",\"size\":8,\"sha256\":\"{}\"}},{{\"name\":\"domanda.txt\",\"size\":26,\"sha256\":\"{}\"}}]}}",
                hex::encode(Sha256::digest(b"<dgue/>\n")),
                hex::encode(Sha256::digest(b"Domanda di partecipazione\n"))
            )
        );
        // The canonical header bytes of the contract.
        assert_eq!(&a[100..124], b"0000644\x000000000\x000000000\0");
        assert_eq!(&a[124..136], format!("{:011o}\0", m.to_bytes().len()).as_bytes());
        assert_eq!(&a[136..148], b"00000000000\0");
        assert_eq!(a[154..156], [0, b' ']);
        assert_eq!(&a[257..265], b"ustar\x0000");
        assert_eq!(&a[329..345], b"0000000\x000000000\0");
        assert!(a[a.len() - 1024..].iter().all(|b| *b == 0));
    }

    #[test]
    fn extract_and_list_give_each_file() {
        let a = sample();
        let (entry, mut r) = extract(Cursor::new(&a), "domanda.txt").expect("extract");
        let mut body = String::new();
        r.read_to_string(&mut body).expect("read");
        assert_eq!(body, "Domanda di partecipazione\n");
        assert_eq!(entry.size, 26);
        assert_eq!(list(&a[..]).expect("list").len(), 2);
        let missing = extract(Cursor::new(&a), "garanzia.pdf")
            .map(|_| ())
            .expect_err("absent");
        assert_eq!(missing.code(), "archive_file_not_found");
        assert_eq!(
            extract(Cursor::new(&a), "../dgue.xml")
                .map(|_| ())
                .expect_err("absent")
                .code(),
            "archive_file_not_found"
        );
    }

    #[test]
    fn a_plain_body_is_not_an_archive() {
        assert!(!looks_like_archive(br#"{"discount":"12.5"}"#));
        assert_eq!(code(validate(&b"busta A"[..])), "envelope_not_archive");
        assert_eq!(code(validate(&[0u8; 2048][..])), "envelope_not_archive");
        assert!(looks_like_archive(&sample()));
    }

    #[test]
    fn a_bad_checksum_is_refused() {
        let mut a = sample();
        let at = first_file_header(&a);
        a[at + 148] ^= 1;
        assert_eq!(code(validate(&a[..])), "archive_checksum");
        let mut a = sample();
        a[0] = b'M'; // the manifest's own header
        assert_eq!(code(validate(&a[..])), "archive_invalid");
        let mut a = sample();
        a[3] ^= 0x20;
        reseal(&mut a, 0);
        assert_eq!(code(validate(&a[..])), "archive_invalid");
    }

    #[test]
    fn names_that_break_the_rules_are_refused_everywhere() {
        for bad in [
            "../x",
            "a/b",
            "a\\b",
            ".",
            "..",
            "",
            "manifest.json",
            "a\u{0}b",
            "tab\tx",
            "\u{85}",
            &"x".repeat(101),
        ] {
            assert_eq!(
                check_name(bad).expect_err(bad).code(),
                "archive_name_invalid",
                "{bad:?}"
            );
            let m = Manifest::new(
                Uuid::nil(),
                None,
                "A",
                vec![ArchiveFile {
                    name: bad.to_string(),
                    size: 0,
                    sha256: hex::encode(Sha256::digest(b"")),
                }],
            );
            assert_eq!(m.expect_err(bad).code(), "archive_name_invalid");
        }
        check_name(&"é".repeat(50)).expect("100 bytes of UTF-8");
        check_name("offerta \"firmata\".pdf.p7m").expect("quotes are allowed");
        // A crafted archive naming a file `../x` in both the manifest and the header.
        let entry = ArchiveFile::digest("x", &b"evil"[..]).expect("digest");
        let evil = ArchiveFile {
            name: "../x".into(),
            ..entry
        };
        let manifest = Manifest {
            format: FORMAT.into(),
            bando: Uuid::nil(),
            lotto: None,
            busta: "A".into(),
            files: vec![evil.clone()],
        };
        let a = raw(&manifest.to_bytes(), &[("../x", b"evil")]);
        assert_eq!(code(validate(&a[..])), "archive_name_invalid");
        // A name in the prefix field is refused too.
        let mut a = sample();
        let at = first_file_header(&a);
        a[at + 345] = b'x';
        reseal(&mut a, at);
        assert_eq!(code(validate(&a[..])), "archive_name_invalid");
    }

    #[test]
    fn duplicates_are_refused_in_the_manifest_and_in_the_entries() {
        let f = ArchiveFile::digest("a.txt", &b"1"[..]).expect("digest");
        let dup = Manifest::new(Uuid::nil(), None, "A", vec![f.clone(), f.clone()]);
        assert_eq!(dup.expect_err("dup").code(), "archive_duplicate_name");
        // Manifest (a.txt, b.txt) but the second entry is a.txt again.
        let a = pack(&[("a.txt", b"1"), ("b.txt", b"1")]);
        let mut bytes = a.clone();
        let second = first_file_header(&bytes) + 2 * BLOCK;
        bytes[second] = b'a';
        reseal(&mut bytes, second);
        assert_eq!(code(validate(&bytes[..])), "archive_duplicate_name");
    }

    #[test]
    fn entries_that_differ_from_the_manifest_are_refused() {
        // Other contents, same size: the digest.
        let mut a = sample();
        let at = first_file_header(&a);
        a[at + BLOCK] ^= 1;
        assert_eq!(code(validate(&a[..])), "archive_manifest_mismatch");
        // Another name.
        let mut a = sample();
        a[at] = b'D';
        reseal(&mut a, at);
        assert_eq!(code(validate(&a[..])), "archive_manifest_mismatch");
        // Another size.
        let mut a = sample();
        a[at + 134] = b'7';
        reseal(&mut a, at);
        assert_eq!(code(validate(&a[..])), "archive_manifest_mismatch");
        // The writer refuses a file that is not what its manifest entry says.
        let m = manifest_of(&[("a.txt", b"uno")], "A");
        let mut out = Vec::new();
        let changed = write_archive(&m, [("a.txt".to_string(), &b"due"[..])], &mut out);
        assert_eq!(changed.expect_err("changed").code(), "archive_manifest_mismatch");
        let longer = write_archive(&m, [("a.txt".to_string(), &b"uno!"[..])], Vec::new());
        assert_eq!(longer.expect_err("longer").code(), "archive_manifest_mismatch");
        let wrong_order = write_archive(&m, [("b.txt".to_string(), &b"uno"[..])], Vec::new());
        assert_eq!(wrong_order.expect_err("name").code(), "archive_manifest_mismatch");
        let missing = write_archive(&m, Vec::<(String, &[u8])>::new(), Vec::new());
        assert_eq!(missing.expect_err("missing").code(), "archive_missing_file");
        // A manifest that says the same in other JSON (a space, keys in another order).
        let m = manifest_of(&[("a.txt", b"uno")], "A");
        let canonical = String::from_utf8(m.to_bytes()).expect("utf-8");
        let spaced = canonical.replacen(",\"lotto\":", ", \"lotto\":", 1);
        assert_eq!(
            code(validate(&raw(spaced.as_bytes(), &[("a.txt", b"uno")])[..])),
            "archive_invalid"
        );
        let reordered = canonical
            .replacen("{\"format\":\"centrale-busta/1\",\"bando\"", "{\"bando\"", 1)
            .replacen(",\"lotto\":null", ",\"format\":\"centrale-busta/1\",\"lotto\":null", 1);
        assert_eq!(
            code(validate(&raw(reordered.as_bytes(), &[("a.txt", b"uno")])[..])),
            "archive_invalid"
        );
        validate(&raw(canonical.as_bytes(), &[("a.txt", b"uno")])[..]).expect("the canonical one is valid");
    }

    #[test]
    fn missing_and_extra_entries_are_refused() {
        let a = sample();
        // Cut after the first file: its end-of-archive blocks stand where the second header should be.
        let at = first_file_header(&a);
        let mut short = a[..at + 2 * BLOCK].to_vec();
        short.extend_from_slice(&[0u8; 1024]);
        assert_eq!(code(validate(&short[..])), "archive_missing_file");
        assert_eq!(code(validate(&a[..at + 2 * BLOCK])), "archive_missing_file");
        // One more regular file after the last one.
        let mut extra = a[..a.len() - 1024].to_vec();
        extra.extend_from_slice(&header("altro.pdf", 1));
        extra.push(b'x');
        extra.resize(extra.len() + padding(1) + 1024, 0);
        assert_eq!(code(validate(&extra[..])), "archive_extra_entry");
        // Truncated end.
        assert_eq!(code(validate(&a[..a.len() - 512])), "archive_invalid");
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let mut a = sample();
        a.push(b'x');
        assert_eq!(code(validate(&a[..])), "archive_trailing_data");
        let mut a = sample();
        a.extend_from_slice(&[0u8; 512]);
        assert_eq!(code(validate(&a[..])), "archive_trailing_data");
        let mut a = sample();
        let n = a.len();
        a[n - 700] = 1;
        assert_eq!(code(validate(&a[..])), "archive_trailing_data");
    }

    #[test]
    fn non_regular_entries_are_refused() {
        for flag in [b'1', b'2', b'5', b'x', b'L', b'\0'] {
            let mut a = sample();
            let at = first_file_header(&a);
            a[at + 156] = flag;
            reseal(&mut a, at);
            assert_eq!(code(validate(&a[..])), "archive_entry_type", "typeflag {flag}");
        }
    }

    #[test]
    fn at_most_fifty_files() {
        let files: Vec<ArchiveFile> = (0..=MAX_FILES)
            .map(|i| ArchiveFile::digest(&format!("f{i:02}"), &b""[..]).expect("digest"))
            .collect();
        let m = Manifest::new(Uuid::nil(), None, "B", files.clone());
        assert_eq!(m.expect_err("51").code(), "archive_too_many_files");
        Manifest::new(Uuid::nil(), None, "B", files[..MAX_FILES].to_vec()).expect("50");
        assert_eq!(
            Manifest::new(Uuid::nil(), None, "B", vec![]).expect_err("empty").code(),
            "archive_invalid"
        );
    }
}
