//! The blob store: envelopes as age ciphertext, content-addressed by SHA-256, written through
//! a temporary file that is fsynced before it is moved into place (and the directory synced);
//! with a shared store it is uploaded there before the commit ([`StagedBlob::publish`]).

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use seal::envelope::{self, HashingWriter, SealedInfo};
use tokio::sync::mpsc::Receiver;
use uuid::Uuid;

use crate::store::Store;
use crate::OfferteError;

/// How an envelope reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SealMode {
    /// Already age ciphertext, sealed on the bidder's machine (`centrale seal`).
    Client,
    /// Plaintext over HTTPS, encrypted on the fly; never written in clear.
    Server,
}

impl SealMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SealMode::Client => "client",
            SealMode::Server => "server",
        }
    }
}

pub(crate) const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";

/// The staging file's write buffer.
const WRITE_BUFFER: usize = 1 << 20;

/// Bytes written between two write-backs of a big upload (see [`StagingFile`]).
const WRITE_BEHIND: u64 = 16 << 20;

/// The staging file, written back to disk while a big upload is still arriving: every
/// [`WRITE_BEHIND`] bytes a helper thread runs `fdatasync` on a handle of the same file, so the
/// fsync before the receipt finds little left to flush. Without it a 1 GiB envelope sat in the
/// page cache until that last fsync, and the disk only started once the upload had ended.
/// Small envelopes never reach the first write-back: no thread, nothing changes for them.
struct StagingFile {
    file: File,
    unsynced: u64,
    behind: Option<WriteBehind>,
}

struct WriteBehind {
    kick: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<io::Result<()>>,
}

impl StagingFile {
    fn new(file: File) -> Self {
        StagingFile {
            file,
            unsynced: 0,
            behind: None,
        }
    }

    fn write_back(&mut self) -> io::Result<()> {
        if self.behind.is_none() {
            let handle = self.file.try_clone()?;
            let (kick, kicks) = std::sync::mpsc::sync_channel::<()>(1);
            let thread = std::thread::Builder::new()
                .name("staging-write-back".into())
                .spawn(move || {
                    for () in kicks {
                        handle.sync_data()?;
                    }
                    Ok(())
                })?;
            self.behind = Some(WriteBehind { kick, thread });
        }
        if let Some(b) = &self.behind {
            // Still flushing the previous stretch: this one joins the next.
            let _ = b.kick.try_send(());
        }
        Ok(())
    }

    /// Everything on disk: the helper's last write-back, then the fsync of data and metadata.
    fn sync(mut self) -> io::Result<()> {
        if let Some(b) = self.behind.take() {
            drop(b.kick);
            b.thread
                .join()
                .map_err(|_| io::Error::other("write-back thread panicked"))??;
        }
        self.file.sync_all()
    }
}

impl Write for StagingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= WRITE_BEHIND {
            self.unsynced = 0;
            self.write_back()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A `Read` over chunks arriving on a channel from the HTTP side (blocking receive: use it
/// on a blocking thread). An `Err` chunk becomes an I/O error: the upload was broken or too big.
pub struct ChannelReader {
    rx: Receiver<Result<Bytes, String>>,
    current: Bytes,
}

impl ChannelReader {
    pub fn new(rx: Receiver<Result<Bytes, String>>) -> Self {
        ChannelReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(b)) => self.current = b,
                Some(Err(m)) => return Err(io::Error::other(m)),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// A ciphertext written and fsynced under `tmp/`, not yet part of any bid. Dropping it
/// removes the file; [`StagedBlob::persist`] moves it into the store.
#[derive(Debug)]
pub struct StagedBlob {
    tmp: Option<PathBuf>,
    placed: Option<PathBuf>,
    /// In the shared store already ([`Self::publish`]).
    published: bool,
    pub info: SealedInfo,
    pub mode: SealMode,
}

impl StagedBlob {
    /// Path of the blob in the store, relative to the seal directory.
    pub fn relative_path(&self) -> String {
        let h = hex::encode(self.info.sha256);
        format!("blobs/{}/{h}", &h[..2])
    }

    /// Uploads the ciphertext to the shared store ([`crate::store`]; nothing for `fs`), once.
    /// Call it before taking a database connection to commit: an upload may be long.
    /// A commit refused after it leaves an object nobody refers to, which is harmless: it is
    /// named by its content, and a later upload of the same bytes is the same object.
    pub fn publish(&mut self, store: &Store) -> Result<(), OfferteError> {
        if self.published || !store.is_shared() {
            return Ok(());
        }
        let tmp = self
            .tmp
            .as_ref()
            .ok_or_else(|| OfferteError::Internal("blob non più in attesa".into()))?;
        store.publish_from(&self.relative_path(), tmp)?;
        self.published = true;
        Ok(())
    }

    /// Moves the file into the content-addressed store and syncs the directory. A blob
    /// already there (same ciphertext uploaded again) is kept as it is.
    pub fn persist(&mut self, dir: &Path) -> Result<(), OfferteError> {
        let target = dir.join(self.relative_path());
        let parent = target
            .parent()
            .ok_or_else(|| OfferteError::Internal("percorso del blob".into()))?;
        fs::create_dir_all(parent)?;
        let Some(tmp) = self.tmp.take() else {
            return Ok(());
        };
        if target.exists() {
            fs::remove_file(&tmp)?;
            return Ok(());
        }
        fs::rename(&tmp, &target)?;
        File::open(parent)?.sync_all()?;
        self.placed = Some(target);
        Ok(())
    }

    /// After a failed commit: removes what this upload placed (never a pre-existing blob).
    pub fn undo(mut self) {
        if let Some(p) = self.placed.take() {
            let _ = fs::remove_file(p);
        }
    }

    /// After a successful commit: the blob belongs to the store now.
    pub fn keep(mut self) {
        self.placed = None;
    }
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        if let Some(p) = self.tmp.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Reads the upload from `reader` (plaintext for server-sealed, age ciphertext for
/// client-sealed) into a fsynced temporary file of ciphertext; memory stays flat.
pub fn stage<R: Read>(dir: &Path, recipient: &str, mode: SealMode, mut reader: R) -> Result<StagedBlob, OfferteError> {
    let tmp = dir.join("tmp").join(Uuid::new_v4().to_string());
    let file = StagingFile::new(File::create(&tmp)?);
    // From here on the temporary file is removed on any failure.
    let mut staged = StagedBlob {
        tmp: Some(tmp),
        placed: None,
        published: false,
        info: SealedInfo {
            sha256: [0; 32],
            size: 0,
        },
        mode,
    };
    // Large writes: the file sees 1 MiB at a time, not one syscall per HTTP chunk (8 KiB
    // through `io::copy`) or per age chunk (64 KiB): a big envelope is bounded by the disk.
    let (file, info) = match mode {
        SealMode::Server => {
            let recipient = envelope::parse_recipient(recipient)?;
            let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
            let info = envelope::seal_stream(&recipient, &mut reader, &mut out).map_err(upload_error)?;
            (out.into_inner().map_err(|e| OfferteError::Io(e.into_error()))?, info)
        }
        SealMode::Client => {
            let mut header = [0u8; AGE_HEADER.len()];
            reader.read_exact(&mut header).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => not_age(),
                _ => OfferteError::Io(e),
            })?;
            if header != AGE_HEADER {
                return Err(not_age());
            }
            // Hashing behind the buffer: SHA-256 runs over 1 MiB blocks too.
            let mut w = BufWriter::with_capacity(WRITE_BUFFER, HashingWriter::new(file));
            w.write_all(&header)?;
            io::copy(&mut reader, &mut w)?;
            let hashing = w.into_inner().map_err(|e| OfferteError::Io(e.into_error()))?;
            hashing.finish()
        }
    };
    file.sync()?;
    staged.info = info;
    Ok(staged)
}

fn not_age() -> OfferteError {
    OfferteError::invalid(
        "envelope_not_age",
        "body",
        "Una busta sigillata dal concorrente deve essere un file age (age-encryption.org/v1)",
    )
}

fn upload_error(e: seal::SealError) -> OfferteError {
    match e {
        seal::SealError::Io(io) => OfferteError::Io(io),
        other => other.into(),
    }
}

/// The sending half of an upload channel (the HTTP side sends chunks, `Err` to abort).
pub type ChunkSender = tokio::sync::mpsc::Sender<Result<Bytes, String>>;

/// A bounded channel from the HTTP payload to a [`ChannelReader`] on a blocking thread:
/// at most `capacity` chunks are in flight, so memory stays flat whatever the upload size.
pub fn channel(capacity: usize) -> (ChunkSender, ChannelReader) {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
    (tx, ChannelReader::new(rx))
}
