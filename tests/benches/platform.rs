//! `make bench`: the platform's scenarios (issue 15) at full size, in release mode, against a
//! real PostgreSQL and server (`journeys::bench`). Prints one table and writes the same
//! figures to `target/bench/results.json`. `BENCH_SIZE=smoke` runs the seconds-long version;
//! `BENCH_ONLY=reads,award` (names of `journeys::bench::SCENARIOS`) runs only those.

use std::path::PathBuf;

use journeys::bench::{run_only, Sizes, SCENARIOS};
use journeys::serde_json::{self, Value};

fn main() {
    let sizes = match std::env::var("BENCH_SIZE").as_deref() {
        Ok("smoke") => Sizes::smoke(),
        _ => Sizes::full(),
    };
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let only: Vec<&str> = if only.is_empty() {
        SCENARIOS.to_vec()
    } else {
        only.split(',').map(str::trim).collect()
    };
    let results = run_only(&sizes, &only);
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
