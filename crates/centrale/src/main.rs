//! `centrale`: serves the platform and carries the offline tools.

mod calculators;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "centrale", version, about = "E-procurement for centrali di committenza (D.Lgs. 36/2023)")]
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
        Command::Scores => calculators::scores(),
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
