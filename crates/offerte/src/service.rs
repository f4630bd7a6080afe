//! The platform side of the seal: its Ed25519 key (receipts, promises, checkpoints), its
//! RFC 3161 TSA, the blob store and the log's name. Keys live in files under the seal
//! directory (created on first start); only their public halves reach the database. Several
//! instances sharing one bucket ([`crate::store`]) must share these files too.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use db::PgPool;
use domain::clock::SharedClock;
use ed25519_dalek::{SigningKey, VerifyingKey};
use seal::checkpoint::{NoteSigner, NoteVerifier};
use seal::tsa::{cert_pem, EcKey, Tsa, TsaCredentials, DEFAULT_POLICY_OID};

use crate::store::{Store, StoreConfig};
use crate::OfferteError;

/// What the service is built from (the `[seal]` settings).
#[derive(Debug, Clone)]
pub struct SealConfig {
    /// Keys, blobs and opened envelopes live under here.
    pub dir: PathBuf,
    /// Log origin and checkpoint key name, e.g. `centrale.example.it/log`.
    pub origin: String,
    /// Organisation named in the TSA certificates generated on first start.
    pub organization: String,
    /// Largest accepted envelope (ciphertext for client-sealed, plaintext for server-sealed).
    pub max_envelope_bytes: u64,
    /// A receipt's promise: the leaf is in a signed checkpoint within this many seconds.
    pub promise_seconds: i64,
    /// Most leaves integrated per sequencer batch.
    pub batch_size: i64,
    /// Per bidder per tender: bytes over all its envelopes, superseded and withdrawn ones
    /// included ([`crate::quota`]).
    pub quota_bytes_per_tender: u64,
    /// Per bidder, tender (or lot) and envelope kind: how many times the first envelope may be
    /// replaced, withdrawn bids included ([`crate::quota`]).
    pub max_replacements_per_kind: u32,
    /// Resumable uploads ([`crate::resumable`]): the size of every part but the last.
    pub chunk_bytes: u64,
    /// How long a resumable upload stays open from its start; unfinished, it then expires.
    pub upload_session_seconds: i64,
    /// Resumable uploads a bidder may have open at once on one tender (all lots).
    pub max_open_uploads: u32,
    /// Where blobs and opened envelopes live beyond `dir` (`[storage]`, [`crate::store`]).
    pub store: StoreConfig,
}

impl SealConfig {
    pub fn new(dir: impl Into<PathBuf>, origin: impl Into<String>) -> Self {
        SealConfig {
            dir: dir.into(),
            origin: origin.into(),
            organization: "Centrale".into(),
            max_envelope_bytes: 1 << 30,
            promise_seconds: 30,
            // One statement integrates a batch (`sequencer::integrate_locked`): 20,000 leaves
            // a tick keep up with a deadline rush at 1,000 envelopes a second and a 5 s tick.
            batch_size: 20_000,
            quota_bytes_per_tender: 10 << 30,
            max_replacements_per_kind: 20,
            chunk_bytes: 8 << 20,
            upload_session_seconds: 24 * 3600,
            max_open_uploads: 3,
            store: StoreConfig::Fs,
        }
    }
}

/// The seal as the running platform holds it.
pub struct SealService {
    config: SealConfig,
    key: SigningKey,
    note_signer: NoteSigner,
    tsa: Tsa,
    ca_cert: Vec<u8>,
    store: Store,
    stop: AtomicBool,
}

impl std::fmt::Debug for SealService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealService")
            .field("dir", &self.config.dir)
            .field("origin", &self.config.origin)
            .finish_non_exhaustive()
    }
}

const PLATFORM_KEY: &str = "keys/platform-ed25519.key";
const TSA_KEY: &str = "keys/tsa-key.p8";
const TSA_CERT: &str = "keys/tsa-cert.der";
const TSA_CA_CERT: &str = "keys/tsa-ca-cert.der";

fn internal(what: impl std::fmt::Display) -> OfferteError {
    OfferteError::Internal(what.to_string())
}

/// Writes a secret file readable by its owner only, synced.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), OfferteError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

impl SealService {
    /// Loads the platform keys from `config.dir`, generating them on first start.
    pub fn open(config: SealConfig) -> Result<Self, OfferteError> {
        for sub in ["keys", "blobs", "tmp", "opened"] {
            fs::create_dir_all(config.dir.join(sub))?;
        }
        let key_path = config.dir.join(PLATFORM_KEY);
        if !key_path.exists() {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            write_private(&key_path, hex::encode(key.to_bytes()).as_bytes())?;
        }
        let seed = hex::decode(fs::read_to_string(&key_path)?.trim()).map_err(internal)?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| internal("chiave della piattaforma non valida"))?;
        let key = SigningKey::from_bytes(&seed);

        if !config.dir.join(TSA_KEY).exists() {
            // The CA key is used once, to issue the TSA certificate, and never stored.
            let creds = TsaCredentials::generate(&config.organization, 10)?;
            write_private(&config.dir.join(TSA_KEY), creds.tsa_key.pkcs8_der())?;
            fs::write(config.dir.join(TSA_CERT), &creds.tsa_cert)?;
            fs::write(config.dir.join(TSA_CA_CERT), &creds.ca_cert)?;
        }
        let tsa_key = EcKey::from_pkcs8(&fs::read(config.dir.join(TSA_KEY))?)?;
        let tsa = Tsa::new(tsa_key, fs::read(config.dir.join(TSA_CERT))?, DEFAULT_POLICY_OID)?;
        let ca_cert = fs::read(config.dir.join(TSA_CA_CERT))?;
        let note_signer = NoteSigner::new(config.origin.clone(), key.clone())?;
        let store = Store::open(config.dir.clone(), &config.store)?;
        Ok(SealService {
            store,
            config,
            key,
            note_signer,
            tsa,
            ca_cert,
            stop: AtomicBool::new(false),
        })
    }

    pub fn config(&self) -> &SealConfig {
        &self.config
    }

    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// Blobs and opened envelopes: the seal directory, or the bucket it caches.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn origin(&self) -> &str {
        &self.config.origin
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Base64 of the 32-byte Ed25519 public key that signs receipts and promises.
    pub fn public_key_b64(&self) -> String {
        B64.encode(self.public_key().as_bytes())
    }

    pub(crate) fn note_signer(&self) -> &NoteSigner {
        &self.note_signer
    }

    pub fn log_verifier(&self) -> NoteVerifier {
        self.note_signer.verifier()
    }

    pub fn tsa_cert_pem(&self) -> String {
        cert_pem(self.tsa.cert())
    }

    pub fn tsa_ca_cert_pem(&self) -> String {
        cert_pem(&self.ca_cert)
    }

    /// A DER TimeStampToken over `digest` at `at` (the platform's clock).
    pub(crate) fn timestamp(&self, digest: &[u8; 32], at: DateTime<Utc>) -> Result<Vec<u8>, OfferteError> {
        let serial = rand::random::<u128>() >> 1;
        Ok(self.tsa.timestamp(digest, serial, at)?)
    }

    /// Runs [`crate::sequencer::tick`] every `interval` on its own thread until [`Self::stop`].
    pub fn spawn_sequencer(self: &Arc<Self>, pool: PgPool, clock: SharedClock, interval: Duration) {
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("seal-sequencer".into())
            .spawn(move || {
                while !me.stop.load(Ordering::Relaxed) {
                    match pool.get() {
                        Ok(mut conn) => {
                            if let Err(e) = crate::sequencer::tick(&mut conn, &me, clock.now()) {
                                tracing::error!(error = %e, "seal sequencer tick failed");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "seal sequencer: no database connection"),
                    }
                    std::thread::sleep(interval);
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the seal sequencer"));
    }

    /// Stops the sequencer thread after its current tick.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
