//! `make bench`: the platform's scenarios (issue 15) at full size, in release mode, against a
//! real PostgreSQL and server (`journeys::bench`). Prints one table and writes the same
//! figures to `target/bench/results.json`. `BENCH_SIZE=smoke` runs the seconds-long version;
//! `BENCH_ONLY=reads,award` (names of `journeys::bench::SCENARIOS`, and `scale_out`) runs only
//! those; `BENCH_BIDS=n` changes the rush's number of bids. Scale-out (`journeys::scale_out`) runs the release `centrale` binary, which
//! `make bench` builds first (`CENTRALE_BIN` overrides its path).

use std::path::PathBuf;

use journeys::bench::{run_only, Sizes, SCENARIOS};
use journeys::serde_json::{self, Value};

fn main() {
    let mut sizes = match std::env::var("BENCH_SIZE").as_deref() {
        Ok("smoke") => Sizes::smoke(),
        _ => Sizes::full(),
    };
    // A shorter rush for profiling it (`BENCH_BIDS=1500`): the setup of 5,000 suppliers is
    // most of the full run's time.
    if let Some(bids) = std::env::var("BENCH_BIDS").ok().and_then(|b| b.parse().ok()) {
        sizes.bids = bids;
    }
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let only: Vec<&str> = if only.is_empty() {
        SCENARIOS.iter().copied().chain(["scale_out"]).collect()
    } else {
        only.split(',').map(str::trim).collect()
    };
    let mut results = run_only(&sizes, &only);
    if only.contains(&"scale_out") {
        let bin = std::env::var_os("CENTRALE_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/centrale"),
            PathBuf::from,
        );
        assert!(
            bin.exists(),
            "{} is missing: `cargo build --release --bin centrale` (make bench does)",
            bin.display()
        );
        results["scale_out"] = journeys::scale_out::scale_out(&sizes, &bin);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results).expect("json")).expect("write results");
    println!("{:<14} {:<36} {:>14}", "scenario", "figure", "value");
    for section in ["rush", "big_envelope", "award", "report", "reads", "scale_out"] {
        match &results[section] {
            Value::Object(o) => {
                for (k, v) in o {
                    println!("{section:<14} {k:<36} {:>14}", v.to_string());
                }
            }
            _ => println!("{section:<14} {:<36} {:>14}", "(not measured)", ""),
        }
    }
    println!("written to {}", path.display());
}
