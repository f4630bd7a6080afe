//! `centrale`: serves the platform and carries the offline tools.

mod calculators;
mod seal_tools;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "centrale",
    version,
    about = "E-procurement for centrali di committenza (D.Lgs. 36/2023)"
)]
struct Cli {
    /// Overlay settings file (TOML), on top of config/default.toml. Also CENTRALE_CONFIG.
    #[arg(long, global = true, env = "CENTRALE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the REST API (the default for `make run`).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document (what docs/openapi.json must contain).
    Openapi,
    /// Anomaly threshold (art. 54, Allegato II.2), offline: JSON request on stdin, report on stdout.
    Anomaly,
    /// Economic scores by formula, offline: JSON request on stdin, report on stdout.
    Scores,
    /// The public draw (ties, invitation rotation), offline: the JSON of
    /// POST /api/v1/tools/draw on stdin (purpose, subject, beacon, candidates), result on stdout.
    Draw,
    /// Tender keys, custodian side: transport key pairs, the dealerless ceremony, opening shares (offline).
    Keys {
        #[command(subcommand)]
        action: seal_tools::KeysAction,
    },
    /// Seal an envelope on the bidder's machine (offline) to a tender's age recipient: several
    /// files packed as a `centrale-busta/1` archive (--bando, --busta, --file...; for C also
    /// --offerta), or one file as it is (--in, the single-body form).
    Seal {
        /// The recipient of the envelope's kind (age1...), from GET /api/v1/bandi/{id}/sigillo.
        #[arg(long)]
        recipient: String,
        /// The tender the envelope is for (its manifest names it).
        #[arg(long, requires = "busta")]
        bando: Option<uuid::Uuid>,
        /// The lot, for a tender with lots.
        #[arg(long, requires = "bando")]
        lotto: Option<uuid::Uuid>,
        /// A, B or C.
        #[arg(long, requires = "bando")]
        busta: Option<String>,
        /// A file of the envelope, under its own name (repeat for each; at most 50).
        #[arg(long = "file", requires = "bando")]
        files: Vec<PathBuf>,
        /// Envelope C: the economic offer, {"discount"|"price", "labour_costs", "safety_costs"},
        /// packed as offerta-economica.json.
        #[arg(long, requires = "bando")]
        offerta: Option<PathBuf>,
        /// Single-body form: this one file is the envelope's plaintext.
        #[arg(long = "in", conflicts_with_all = ["bando", "files", "offerta"], required_unless_present = "bando")]
        input: Option<PathBuf>,
        /// Where to write the age ciphertext.
        #[arg(long = "output", visible_alias = "out")]
        output: PathBuf,
    },
    /// Verify a receipt offline: signature, envelope digest, leaf hash, checkpoint signature,
    /// inclusion and (with --older-checkpoint) consistency. Exits non-zero naming the failed check.
    Verify {
        /// The bundle from GET /api/v1/buste/{id}/ricevuta.
        #[arg(long)]
        bundle: PathBuf,
        /// The envelope ciphertext file (without it the envelope digest is not checked: the
        /// auditor's bundle ships no ciphertext).
        #[arg(long)]
        envelope: Option<PathBuf>,
        /// A checkpoint note saved earlier: the bundle's checkpoint must extend it.
        #[arg(long)]
        older_checkpoint: Option<PathBuf>,
        /// Pinned platform key (base64), from GET /api/v1/log/keys.
        #[arg(long)]
        platform_key: Option<String>,
        /// Pinned log key (vkey), from GET /api/v1/log/keys.
        #[arg(long)]
        log_key: Option<String>,
    },
    /// Verify a document of the auditor's bundle offline against its log leaf: its SHA-256 is
    /// the one its issue recorded, the leaf is that record, and it is in the signed checkpoint.
    /// Exits non-zero naming the failed check.
    VerifyDocument {
        /// The document (e.g. documents/verbale-....pdf).
        #[arg(long)]
        document: PathBuf,
        /// Its leaf and inclusion proof (documents/<name>.leaf.json).
        #[arg(long)]
        leaf: PathBuf,
        /// The signed checkpoint the proof is for (checkpoints/latest.txt).
        #[arg(long)]
        checkpoint: PathBuf,
        /// The log key (vkey), from GET /api/v1/log/keys.
        #[arg(long)]
        log_key: String,
    },
    /// The private PostgreSQL cluster under target/ (when no DATABASE_URL is set).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
}

#[derive(Subcommand)]
enum DbAction {
    /// Start it (initialising it on first use) and print the maintenance URL.
    Up,
    /// Stop it.
    Down,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Openapi => {
            print!("{}", api::openapi::pretty_json());
            Ok(())
        }
        Command::Anomaly => calculators::anomaly(),
        Command::Keys { action } => seal_tools::keys(action),
        Command::Seal {
            recipient,
            bando,
            lotto,
            busta,
            files,
            offerta,
            input,
            output,
        } => match (input, bando, busta) {
            (Some(input), _, _) => seal_tools::seal_file(&recipient, &input, &output),
            (None, Some(bando), Some(busta)) => seal_tools::seal_envelope(
                &recipient,
                seal_tools::EnvelopeSpec {
                    bando,
                    lotto,
                    busta: &busta,
                    files: &files,
                    offerta: offerta.as_deref(),
                },
                &output,
            ),
            _ => Err("servono --in, oppure --bando, --busta e almeno un --file".into()),
        },
        Command::Verify {
            bundle,
            envelope,
            older_checkpoint,
            platform_key,
            log_key,
        } => seal_tools::verify(
            &bundle,
            envelope.as_deref(),
            older_checkpoint.as_deref(),
            platform_key.as_deref(),
            log_key.as_deref(),
        ),
        Command::VerifyDocument {
            document,
            leaf,
            checkpoint,
            log_key,
        } => seal_tools::verify_document(&document, &leaf, &checkpoint, &log_key),
        Command::Scores => calculators::scores(),
        Command::Draw => calculators::draw(),
        Command::Serve => serve::load(cli.config.as_deref()).and_then(serve::serve),
        Command::Migrate => serve::load(cli.config.as_deref()).and_then(|s| serve::prepare_database(&s).map(|_| ())),
        Command::Db { action } => serve::load(cli.config.as_deref()).and_then(|s| serve::cluster(&s, action)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("centrale: {message}");
            ExitCode::FAILURE
        }
    }
}
