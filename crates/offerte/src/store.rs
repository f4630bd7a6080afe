//! Where the bytes of the seal live beyond this process: the seal directory alone (`fs`, the
//! embedded default), or the seal directory as a local cache of an S3-compatible bucket that
//! several instances share (`s3`, scale-out: docs/architecture.md "The envelope store").
//!
//! Every object is written once and never changed: ciphertext blobs are named by their
//! SHA-256 (`blobs/xx/<sha256>`), opened envelopes by their opening attempt. So a reader may
//! keep what it fetched, and a writer needs no lock. With `s3`, a file is uploaded before the
//! transaction that refers to it commits (a receipt means the bytes are in the bucket), and
//! a reader that lacks a file fetches it into the seal directory, checking its SHA-256,
//! then reads it as it always did.
//!
//! The client is blocking (`ureq`, requests signed with `rusty-s3`): every caller already runs
//! on a blocking thread, next to its database work.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::OfferteError;

/// Objects up to this size go in one `PUT`; larger ones in parts of this size, so memory
/// stays flat whatever the envelope (S3 wants parts of at least 5 MiB but the last).
pub const PART_BYTES: u64 = 16 << 20;

/// How long a signed request stays valid: it is sent at once, so a short window.
const SIGNED_FOR: Duration = Duration::from_secs(15 * 60);

/// The `[storage]` settings as the service needs them.
#[derive(Debug, Clone, Default)]
pub enum StoreConfig {
    /// The seal directory is the store (one instance).
    #[default]
    Fs,
    /// An S3-compatible bucket shared by every instance; the seal directory caches it.
    S3(S3Config),
}

/// An S3-compatible bucket (AWS, or a server of one's own on the loopback).
#[derive(Clone)]
pub struct S3Config {
    /// `http://127.0.0.1:9000` or `https://s3.eu-south-1.amazonaws.com`.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Prepended to every key (`centrale/` puts everything under that "folder").
    pub prefix: String,
    /// `bucket` as the first path segment (servers of one's own) rather than in the host name.
    pub path_style: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("prefix", &self.prefix)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// The store of one seal directory (cheap to clone).
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    remote: Option<Arc<Remote>>,
}

struct Remote {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("bucket", &self.bucket.name())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn storage(what: impl std::fmt::Display) -> OfferteError {
    OfferteError::Io(io::Error::other(format!("archivio condiviso delle buste: {what}")))
}

impl Store {
    pub fn open(dir: PathBuf, config: &StoreConfig) -> Result<Self, OfferteError> {
        let remote = match config {
            StoreConfig::Fs => None,
            StoreConfig::S3(c) => {
                let endpoint = c.endpoint.parse().map_err(|e| storage(format!("endpoint: {e}")))?;
                let style = if c.path_style {
                    UrlStyle::Path
                } else {
                    UrlStyle::VirtualHost
                };
                let bucket = Bucket::new(endpoint, style, c.bucket.clone(), c.region.clone())
                    .map_err(|e| storage(format!("bucket: {e:?}")))?;
                let agent = ureq::AgentBuilder::new()
                    .timeout_connect(Duration::from_secs(10))
                    // Between two reads or writes, not for the whole object.
                    .timeout_read(Duration::from_secs(60))
                    .timeout_write(Duration::from_secs(60))
                    .build();
                Some(Arc::new(Remote {
                    bucket,
                    credentials: Credentials::new(c.access_key_id.clone(), c.secret_access_key.clone()),
                    prefix: c.prefix.clone(),
                    agent,
                }))
            }
        };
        Ok(Store { dir, remote })
    }

    /// The seal directory: the store itself (`fs`) or its cache (`s3`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the files live in a bucket other instances read too.
    pub fn is_shared(&self) -> bool {
        self.remote.is_some()
    }

    /// Makes the file at `rel` (relative to the seal directory, already written and synced
    /// there) durable in the shared store; nothing to do for `fs`.
    pub fn publish(&self, rel: &str) -> Result<(), OfferteError> {
        self.publish_from(rel, &self.dir.join(rel))
    }

    /// As [`Self::publish`], from a file elsewhere (a staged upload not yet in place).
    pub fn publish_from(&self, rel: &str, file: &Path) -> Result<(), OfferteError> {
        let Some(r) = &self.remote else {
            return Ok(());
        };
        let size = fs::metadata(file)?.len();
        let key = r.key(rel);
        if size <= PART_BYTES {
            retrying(|| r.put(&key, File::open(file)?, size))
        } else {
            r.put_in_parts(&key, file, size)
        }
    }

    /// The local path of the file at `rel`, fetched from the shared store first when this
    /// instance does not hold it yet. A blob is checked against the SHA-256 that names it,
    /// any file against `sha256` when given (hex).
    pub fn local(&self, rel: &str, sha256: Option<&str>) -> Result<PathBuf, OfferteError> {
        let path = self.dir.join(rel);
        let Some(r) = &self.remote else {
            return Ok(path);
        };
        if path.exists() {
            return Ok(path);
        }
        let expected = sha256.map(str::to_owned).or_else(|| blob_name(rel));
        let parent = path.parent().ok_or_else(|| storage("percorso"))?;
        fs::create_dir_all(parent)?;
        let tmp = self.dir.join("tmp").join(format!("fetch-{}", Uuid::new_v4()));
        let fetched = retrying(|| r.get_into(&r.key(rel), &tmp));
        let digest = match fetched {
            Ok(d) => d,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if let Some(expected) = expected {
            if !digest.eq_ignore_ascii_case(&expected) {
                let _ = fs::remove_file(&tmp);
                return Err(storage(format!("{rel}: SHA-256 {digest} invece di {expected}")));
            }
        }
        // Another request may have fetched the same immutable file meanwhile: either copy is it.
        fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Whether the shared store holds `rel` (`fs`: whether the file exists), for checks.
    pub fn contains(&self, rel: &str) -> Result<bool, OfferteError> {
        match &self.remote {
            None => Ok(self.dir.join(rel).exists()),
            Some(r) => r.head(&r.key(rel)),
        }
    }
}

/// The SHA-256 in a blob's name (`blobs/xx/<sha256>`).
fn blob_name(rel: &str) -> Option<String> {
    let name = rel.strip_prefix("blobs/")?.rsplit('/').next()?;
    (name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())).then(|| name.to_string())
}

/// Three tries of one request, for a server that restarts or drops a connection under load
/// (a refusal is tried again too: it costs 600 ms once, and the error says which it was).
fn retrying<T>(mut f: impl FnMut() -> Result<T, OfferteError>) -> Result<T, OfferteError> {
    let mut last = None;
    for attempt in 0..3u64 {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) => {
                tracing::warn!(error = %e, attempt, "shared envelope store: retrying");
                last = Some(e);
                std::thread::sleep(Duration::from_millis(200 * (attempt + 1)));
            }
        }
    }
    Err(last.unwrap_or_else(|| storage("nessun tentativo")))
}

fn http(e: ureq::Error) -> OfferteError {
    match e {
        ureq::Error::Status(code, resp) => {
            let body = resp.into_string().unwrap_or_default();
            storage(format!("HTTP {code}: {}", body.chars().take(300).collect::<String>()))
        }
        ureq::Error::Transport(t) => storage(t),
    }
}

impl Remote {
    fn key(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    fn put(&self, key: &str, body: impl Read, size: u64) -> Result<(), OfferteError> {
        let url = self.bucket.put_object(Some(&self.credentials), key).sign(SIGNED_FOR);
        self.agent
            .put(url.as_str())
            .set("Content-Length", &size.to_string())
            .send(body)
            .map_err(http)?;
        Ok(())
    }

    /// A multipart upload of `file`, one part of [`PART_BYTES`] at a time from the file
    /// (never more than a socket buffer in memory); aborted on failure.
    fn put_in_parts(&self, key: &str, file: &Path, size: u64) -> Result<(), OfferteError> {
        let url = self
            .bucket
            .create_multipart_upload(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let resp = retrying(|| self.agent.post(url.as_str()).call().map_err(http))?;
        let text = resp.into_string()?;
        let created = rusty_s3::actions::CreateMultipartUpload::parse_response(&text)
            .map_err(|e| storage(format!("CreateMultipartUpload: {e}")))?;
        let upload_id = created.upload_id().to_string();
        let parts = (|| -> Result<Vec<String>, OfferteError> {
            let mut etags = Vec::new();
            let count = size.div_ceil(PART_BYTES);
            for i in 0..count {
                let number = u16::try_from(i + 1).map_err(|_| storage("troppe parti"))?;
                let len = PART_BYTES.min(size - i * PART_BYTES);
                let url = self
                    .bucket
                    .upload_part(Some(&self.credentials), key, number, &upload_id)
                    .sign(SIGNED_FOR);
                let etag = retrying(|| {
                    let mut f = File::open(file)?;
                    io::Seek::seek(&mut f, io::SeekFrom::Start(i * PART_BYTES))?;
                    let resp = self
                        .agent
                        .put(url.as_str())
                        .set("Content-Length", &len.to_string())
                        .send(f.take(len))
                        .map_err(http)?;
                    resp.header("ETag")
                        .map(str::to_owned)
                        .ok_or_else(|| storage("UploadPart senza ETag"))
                })?;
                etags.push(etag);
            }
            Ok(etags)
        })();
        let done = parts.and_then(|etags| {
            let action = self.bucket.complete_multipart_upload(
                Some(&self.credentials),
                key,
                &upload_id,
                etags.iter().map(String::as_str),
            );
            let url = action.sign(SIGNED_FOR);
            let body = action.body();
            let resp = self.agent.post(url.as_str()).send_string(&body).map_err(http)?;
            let text = resp.into_string()?;
            // A 200 may still carry an error: only a result counts.
            rusty_s3::actions::CompleteMultipartUploadResponse::parse(&text)
                .map(|_| ())
                .map_err(|e| storage(format!("CompleteMultipartUpload: {e}: {text}")))
        });
        if done.is_err() {
            let url = self
                .bucket
                .abort_multipart_upload(Some(&self.credentials), key, &upload_id)
                .sign(SIGNED_FOR);
            let _ = self.agent.delete(url.as_str()).call();
        }
        done
    }

    /// Streams the object into `tmp` (synced), returning the hex SHA-256 of what came.
    fn get_into(&self, key: &str, tmp: &Path) -> Result<String, OfferteError> {
        let url = self.bucket.get_object(Some(&self.credentials), key).sign(SIGNED_FOR);
        let resp = self.agent.get(url.as_str()).call().map_err(http)?;
        let mut reader = resp.into_reader();
        let mut out = File::create(tmp)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            io::Write::write_all(&mut out, &buf[..n])?;
        }
        out.sync_all()?;
        Ok(hex::encode(hasher.finalize()))
    }

    fn head(&self, key: &str) -> Result<bool, OfferteError> {
        let url = self.bucket.head_object(Some(&self.credentials), key).sign(SIGNED_FOR);
        match self.agent.head(url.as_str()).call() {
            Ok(_) => Ok(true),
            Err(ureq::Error::Status(404, _)) => Ok(false),
            Err(e) => Err(http(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_checked_against_the_digest_in_its_name() {
        let h = "ab".repeat(32);
        assert_eq!(blob_name(&format!("blobs/ab/{h}")), Some(h));
        assert_eq!(blob_name("opened/x/A-1/y"), None);
        assert_eq!(blob_name("blobs/ab/short"), None);
    }

    #[test]
    fn the_secret_never_reaches_a_debug_line() {
        let c = S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "b".into(),
            region: "us-east-1".into(),
            access_key_id: "id".into(),
            secret_access_key: "very-secret".into(),
            prefix: String::new(),
            path_style: true,
        };
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
