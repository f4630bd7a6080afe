//! The seal's offline tools: the key ceremony, a custodian's share decryption, sealing an
//! envelope on the bidder's machine, and verifying a receipt with no database and no trust
//! in the server. See docs/seal.md.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use clap::Subcommand;
use offerte::bundle::{self, Pins, VerificationBundle};
use offerte::custody::{ShareUpload, TenderKeyUpload};
use seal::checkpoint::NoteVerifier;
use seal::custody::{self, EncryptedShare};
use seal::envelope::{self, AgeIdentity};

#[derive(Subcommand)]
pub enum KeysAction {
    /// A new age key pair for a custodian: the identity goes to --out (keep it secret), the
    /// public key (age1...) is printed.
    CustodianKeygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// The tender key ceremony, offline: a fresh tender key split k-of-n, each share encrypted
    /// to one custodian. Prints the JSON to PUT on /api/v1/bandi/{id}/sigillo. The tender's
    /// private key exists only in memory, for the time of the split.
    Ceremony {
        /// Shares needed to open (k).
        #[arg(short, long)]
        k: usize,
        /// A custodian as USER_ID=AGE_PUBLIC_KEY; repeat once per custodian (n times).
        #[arg(long = "custodian", required = true)]
        custodians: Vec<String>,
    },
    /// A custodian decrypts their share with their age identity. --share is the ceremony JSON,
    /// or the answer of GET /api/v1/bandi/{id}/sigillo/quote. Prints the share in base64.
    DecryptShare {
        #[arg(long)]
        identity: PathBuf,
        #[arg(long)]
        share: PathBuf,
    },
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn identity_from_file(path: &Path) -> Result<AgeIdentity, String> {
    let text = read(path)?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or_else(|| format!("{}: nessuna chiave AGE-SECRET-KEY-", path.display()))?;
    envelope::parse_identity(line).map_err(|e| e.to_string())
}

pub fn keys(action: KeysAction) -> Result<(), String> {
    match action {
        KeysAction::CustodianKeygen { out } => {
            let id = AgeIdentity::generate();
            let public = id.to_public().to_string();
            let secret = {
                use age::secrecy::ExposeSecret;
                id.to_string().expose_secret().to_string()
            };
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            writeln!(f, "# public key: {public}\n{secret}").map_err(|e| e.to_string())?;
            println!("{public}");
            Ok(())
        }
        KeysAction::Ceremony { k, custodians } => {
            let mut ids = Vec::new();
            let mut publics = Vec::new();
            for c in &custodians {
                let (id, key) = c
                    .split_once('=')
                    .ok_or_else(|| format!("custode «{c}»: usare USER_ID=age1..."))?;
                ids.push(
                    id.trim()
                        .parse::<uuid::Uuid>()
                        .map_err(|e| format!("custode «{id}»: {e}"))?,
                );
                publics.push(envelope::parse_recipient(key).map_err(|e| e.to_string())?);
            }
            let out = custody::ceremony(&publics, k).map_err(|e| e.to_string())?;
            let upload = TenderKeyUpload {
                recipient: out.recipient,
                k: out.k,
                n: out.n,
                shares: out
                    .shares
                    .into_iter()
                    .zip(ids)
                    .map(|(s, id)| ShareUpload {
                        custodian_user_id: id,
                        custodian_key: s.custodian,
                        ciphertext: B64.encode(s.ciphertext),
                    })
                    .collect(),
            };
            println!("{}", serde_json::to_string_pretty(&upload).map_err(|e| e.to_string())?);
            Ok(())
        }
        KeysAction::DecryptShare { identity, share } => {
            let id = identity_from_file(&identity)?;
            let me = id.to_public().to_string();
            let json: serde_json::Value =
                serde_json::from_str(&read(&share)?).map_err(|e| format!("{}: {e}", share.display()))?;
            let list = json.get("shares").unwrap_or(&json);
            let entry = list
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["custodian_key"].as_str() == Some(me.as_str()))
                .ok_or_else(|| format!("nessuna quota cifrata per la chiave {me}"))?;
            let ciphertext = B64
                .decode(entry["ciphertext"].as_str().unwrap_or_default())
                .map_err(|e| format!("quota non in base64: {e}"))?;
            let plain = custody::decrypt_share(
                &id,
                &EncryptedShare {
                    custodian: me,
                    ciphertext,
                },
            )
            .map_err(|e| e.to_string())?;
            println!("{}", B64.encode(plain.as_bytes()));
            Ok(())
        }
    }
}

/// Encrypts a file to a tender's recipient (age, streaming), and prints its SHA-256 and size.
pub fn seal_file(recipient: &str, input: &Path, output: &Path) -> Result<(), String> {
    let recipient = envelope::parse_recipient(recipient).map_err(|e| e.to_string())?;
    let reader = BufReader::new(File::open(input).map_err(|e| format!("{}: {e}", input.display()))?);
    let file = File::create(output).map_err(|e| format!("{}: {e}", output.display()))?;
    let mut writer = BufWriter::new(file);
    let info = envelope::seal_stream(&recipient, reader, &mut writer).map_err(|e| e.to_string())?;
    let file = writer.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    println!("sha256 {}\nsize {}", hex_of(&info.sha256), info.size);
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Offline verification; the error names the failing check.
pub fn verify(
    bundle_path: &Path,
    envelope_path: &Path,
    older: Option<&Path>,
    platform_key: Option<&str>,
    log_key: Option<&str>,
) -> Result<(), String> {
    let bundle: VerificationBundle =
        serde_json::from_str(&read(bundle_path)?).map_err(|e| format!("{}: {e}", bundle_path.display()))?;
    let envelope = BufReader::new(File::open(envelope_path).map_err(|e| format!("{}: {e}", envelope_path.display()))?);
    let older = older.map(read).transpose()?;
    let pins = Pins {
        platform_key: platform_key
            .map(bundle::parse_platform_key)
            .transpose()
            .map_err(|e| format!("--platform-key: {e}"))?,
        log_key: log_key
            .map(NoteVerifier::from_vkey)
            .transpose()
            .map_err(|e| format!("--log-key: {e}"))?,
    };
    if pins.platform_key.is_none() || pins.log_key.is_none() {
        eprintln!("attenzione: chiavi prese dal pacchetto stesso; per una verifica indipendente usare --platform-key e --log-key");
    }
    let report = bundle::verify_bundle(&bundle, envelope, older.as_deref(), pins).map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    Ok(())
}
