//! The seal's offline tools: a custodian's side of the dealerless ceremony and of the
//! opening, sealing an
//! envelope on the bidder's machine, and verifying a receipt with no database and no trust
//! in the server. See docs/seal.md.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use offerte::archive::{self, ArchiveFile, Manifest};
use offerte::bundle::{self, Pins, VerificationBundle};
use offerte::custodian;
use offerte::custody::{Contributions, TenderKey};
use seal::checkpoint::NoteVerifier;
use seal::envelope::{self, AgeIdentity};

#[derive(Subcommand)]
pub enum KeysAction {
    /// A new age key pair for a custodian's transport key: the identity goes to --out (keep
    /// it secret), the public key (age1...) is printed; post it on /bandi/{id}/sigillo/custodi.
    CustodianKeygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// A custodian's contribution to the dealerless ceremony. --ceremony is the answer of
    /// GET /api/v1/bandi/{id}/sigillo once every transport key is registered. Prints the JSON
    /// to POST on /bandi/{id}/sigillo/contributi; the polynomials exist only in memory.
    Contribute {
        #[arg(long)]
        ceremony: PathBuf,
    },
    /// A custodian checks every share sent to him (Feldman) and prints his acknowledgement
    /// (proofs of knowledge) to POST on /bandi/{id}/sigillo/conferme; names any cheating
    /// contributor instead. --contributions is GET /bandi/{id}/sigillo/contributi.
    Ack {
        #[arg(long)]
        identity: PathBuf,
        #[arg(long)]
        contributions: PathBuf,
    },
    /// A custodian's share of one envelope kind, for its opening: prints the JSON to POST on
    /// /bandi/{id}/aperture/{kind}/quote.
    DecryptShare {
        #[arg(long)]
        identity: PathBuf,
        #[arg(long)]
        contributions: PathBuf,
        #[arg(long)]
        kind: String,
    },
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), String> {
    println!("{}", serde_json::to_string_pretty(v).map_err(|e| e.to_string())?);
    Ok(())
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
        KeysAction::Contribute { ceremony } => {
            let view: TenderKey = read_json(&ceremony)?;
            print_json(&custodian::contribution(&view).map_err(|e| e.to_string())?)
        }
        KeysAction::Ack {
            identity,
            contributions,
        } => {
            let id = identity_from_file(&identity)?;
            let all: Contributions = read_json(&contributions)?;
            print_json(&custodian::acknowledgement(&id, &all).map_err(|e| e.to_string())?)
        }
        KeysAction::DecryptShare {
            identity,
            contributions,
            kind,
        } => {
            let id = identity_from_file(&identity)?;
            let all: Contributions = read_json(&contributions)?;
            print_json(&custodian::opening_share(&id, &all, &kind).map_err(|e| e.to_string())?)
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

/// What goes into an envelope of several files.
pub struct EnvelopeSpec<'a> {
    pub bando: uuid::Uuid,
    pub lotto: Option<uuid::Uuid>,
    pub busta: &'a str,
    pub files: &'a [PathBuf],
    /// Envelope C's economic offer, packed as `offerta-economica.json`.
    pub offerta: Option<&'a Path>,
}

/// Packs the files as a `centrale-busta/1` archive and encrypts it to the recipient, both
/// streaming: each file is read once for its digest (the manifest comes first) and once into
/// the archive, never whole in memory. Envelope C must carry a valid economic offer. Prints
/// the ciphertext's SHA-256 and size, then each file of the manifest.
pub fn seal_envelope(recipient: &str, spec: EnvelopeSpec<'_>, output: &Path) -> Result<(), String> {
    let recipient = envelope::parse_recipient(recipient).map_err(|e| e.to_string())?;
    let busta = spec.busta.trim().to_ascii_uppercase();
    if !matches!(busta.as_str(), "A" | "B" | "C") {
        return Err(format!("--busta: «{}» non è A, B o C", spec.busta));
    }
    let mut inputs: Vec<(String, PathBuf)> = Vec::new();
    for path in spec.files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: nome di file non UTF-8", path.display()))?;
        inputs.push((name.to_string(), path.clone()));
    }
    if let Some(offer) = spec.offerta {
        if busta != "C" {
            return Err("--offerta vale solo per la busta C".into());
        }
        inputs.push((archive::OFFER_NAME.to_string(), offer.to_path_buf()));
    }
    if busta == "C" {
        let Some((_, path)) = inputs.iter().find(|(n, _)| n == archive::OFFER_NAME) else {
            return Err(format!(
                "la busta C deve contenere l'offerta economica: --offerta {} (o un --file con quel nome)",
                archive::OFFER_NAME
            ));
        };
        let mut json = Vec::new();
        File::open(path)
            .and_then(|f| f.take(1 << 20).read_to_end(&mut json))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let offer = offerte::opening::economic_offer(&json);
        if let Some(why) = offer.get("error").and_then(|e| e.as_str()) {
            return Err(format!("{}: offerta economica non valida: {why}", path.display()));
        }
    }
    let mut entries = Vec::with_capacity(inputs.len());
    for (name, path) in &inputs {
        let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        entries.push(ArchiveFile::digest(name, BufReader::new(f)).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let manifest = Manifest::new(spec.bando, spec.lotto, &busta, entries).map_err(|e| e.to_string())?;
    let mut readers = Vec::with_capacity(manifest.files.len());
    for f in &manifest.files {
        let (_, path) = inputs
            .iter()
            .find(|(n, _)| *n == f.name)
            .expect("every manifest entry is an input");
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        readers.push((f.name.clone(), BufReader::new(file)));
    }
    let written = (|| -> Result<envelope::SealedInfo, String> {
        let file = File::create(output).map_err(|e| format!("{}: {e}", output.display()))?;
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| e.to_string())?;
        let mut sealed = encryptor
            .wrap_output(envelope::HashingWriter::new(BufWriter::new(file)))
            .map_err(|e| e.to_string())?;
        archive::write_archive(&manifest, readers, &mut sealed).map_err(|e| e.to_string())?;
        let mut hashing = sealed.finish().map_err(|e| e.to_string())?;
        hashing.flush().map_err(|e| e.to_string())?;
        let (buffered, info) = hashing.finish();
        let file = buffered.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        Ok(info)
    })();
    let info = match written {
        Ok(info) => info,
        Err(e) => {
            // A half-written envelope must not be mistaken for a sealed one.
            let _ = fs::remove_file(output);
            return Err(e);
        }
    };
    println!("sha256 {}\nsize {}", hex_of(&info.sha256), info.size);
    for f in &manifest.files {
        println!("file {} {} {}", f.sha256, f.size, f.name);
    }
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Offline verification; the error names the failing check.
pub fn verify(
    bundle_path: &Path,
    envelope_path: Option<&Path>,
    older: Option<&Path>,
    platform_key: Option<&str>,
    log_key: Option<&str>,
) -> Result<(), String> {
    let bundle: VerificationBundle =
        serde_json::from_str(&read(bundle_path)?).map_err(|e| format!("{}: {e}", bundle_path.display()))?;
    let envelope = envelope_path
        .map(|p| {
            File::open(p)
                .map(BufReader::new)
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .transpose()?;
    if envelope.is_none() {
        eprintln!("attenzione: nessuna --envelope, l'impronta del cifrato non è verificata");
    }
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
    let report = bundle::verify_receipt(&bundle, envelope, older.as_deref(), pins).map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    Ok(())
}

/// Offline check of a document of the auditor's bundle against its log leaf.
pub fn verify_document(document: &Path, leaf: &Path, checkpoint: &Path, log_key: &str) -> Result<(), String> {
    let bytes = fs::read(document).map_err(|e| format!("{}: {e}", document.display()))?;
    let leaf: documents::bundle::DocumentLeaf =
        read_json(leaf).map_err(|e| format!("verifica «leaf-file» non superata: {e}"))?;
    let note = read(checkpoint)?;
    let key = NoteVerifier::from_vkey(log_key).map_err(|e| format!("--log-key: {e}"))?;
    let report = documents::bundle::verify_document(&bytes, &leaf, &note, &key).map_err(|e| e.to_string())?;
    print_json(&report)
}
