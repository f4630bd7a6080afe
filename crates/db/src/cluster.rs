//! A private PostgreSQL cluster under `target/`, for `make run` and the tests when no
//! `DATABASE_URL` is given.
//!
//! Written by hand because no maintained crate drives the *system's* `initdb`/`pg_ctl`
//! (the embedding crates download their own PostgreSQL builds, which this network forbids).
//! The cluster listens on loopback TCP only, trusts local connections (it is a developer's
//! private instance), and keeps running after the process exits so the next `make run` or
//! test run reuses it. Start-up is guarded by a file lock, so parallel test processes
//! initialise it once.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// Directory holding `data/` and `server.log`; owned by `postgres` when we run as root.
    pub root: PathBuf,
    pub port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("PostgreSQL server binaries (initdb, pg_ctl) not found and could not be installed: {0}")]
    NoBinaries(String),
    #[error("{step} failed: {detail}")]
    Step { step: &'static str, detail: String },
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl ClusterSpec {
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// URL of the maintenance database, for creating and dropping databases.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Initialises the cluster if needed and starts it unless it already runs.
    pub fn ensure_running(&self) -> Result<(), ClusterError> {
        let bin = find_bin_dir()?;
        fs::create_dir_all(&self.root).map_err(|source| self.io(&self.root, source))?;
        let lock_path = self.root.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| self.io(&lock_path, source))?;
        lock.lock().map_err(|source| self.io(&lock_path, source))?;
        let result = self.init_and_start(&bin);
        drop(lock_guard(lock));
        result
    }

    fn init_and_start(&self, bin: &Path) -> Result<(), ClusterError> {
        let as_root = running_as_root();
        if as_root {
            // initdb refuses to run as root: the cluster belongs to `postgres`.
            run("chown postgres", Command::new("chown").arg("postgres").arg(&self.root))?;
        }
        let data = self.data_dir();
        if !data.join("PG_VERSION").exists() {
            tracing::info!(dir = %data.display(), "initialising a private PostgreSQL cluster");
            let mut initdb = as_postgres(as_root, &bin.join("initdb"));
            initdb
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]);
            run("initdb", &mut initdb)?;
        }
        let mut status = as_postgres(as_root, &bin.join("pg_ctl"));
        status.arg("status").arg("-D").arg(&data);
        let running = status.output().map(|o| o.status.success()).unwrap_or(false);
        if running {
            return Ok(());
        }
        tracing::info!(port = self.port, "starting the private PostgreSQL cluster");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300",
            self.port
        );
        let mut start = as_postgres(as_root, &bin.join("pg_ctl"));
        start
            .arg("start")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(self.root.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options]);
        run("pg_ctl start", &mut start)
    }

    pub fn stop(&self) -> Result<(), ClusterError> {
        let bin = find_bin_dir()?;
        let mut stop = as_postgres(running_as_root(), &bin.join("pg_ctl"));
        stop.arg("stop")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w"]);
        run("pg_ctl stop", &mut stop)
    }

    fn io(&self, path: &Path, source: std::io::Error) -> ClusterError {
        ClusterError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn lock_guard(file: File) -> File {
    let _ = file.unlock();
    file
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn as_postgres(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(step: &'static str, cmd: &mut Command) -> Result<(), ClusterError> {
    let out: Output = cmd.output().map_err(|e| ClusterError::Step {
        step,
        detail: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ClusterError::Step {
            step,
            detail: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        })
    }
}

/// Finds the directory holding `initdb` and `pg_ctl`: PATH first, then Debian's layout,
/// newest version first. Installs Debian's package only when no server exists at all.
fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    if let Some(dir) = locate() {
        return Ok(dir);
    }
    if running_as_root() {
        tracing::warn!("no PostgreSQL server found: installing Debian's postgresql package");
        let _ = Command::new("apt-get").arg("update").output();
        run(
            "apt-get install postgresql",
            Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "postgresql"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
        .map_err(|e| ClusterError::NoBinaries(e.to_string()))?;
    }
    locate().ok_or_else(|| ClusterError::NoBinaries("install PostgreSQL or set DATABASE_URL".to_string()))
}

fn locate() -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
