//! `make bench`: the platform's scenarios (issue 15) at full size, in release mode, against a
//! real PostgreSQL and server (`journeys::bench`). Prints one table and writes the same
//! figures to `target/bench/results.json`. `BENCH_SIZE=smoke` runs the seconds-long version.

use std::path::PathBuf;

use journeys::bench::{run, Sizes};
use journeys::serde_json::{self, Value};

fn main() {
    let sizes = match std::env::var("BENCH_SIZE").as_deref() {
        Ok("smoke") => Sizes::smoke(),
        _ => Sizes::full(),
    };
    let results = run(&sizes);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results).expect("json")).expect("write results");
    println!("{:<14} {:<22} {:>14}", "scenario", "figure", "value");
    for section in ["rush", "reads", "award", "big_envelope", "report", "scale_out"] {
        match &results[section] {
            Value::Object(o) => {
                for (k, v) in o {
                    println!("{section:<14} {k:<22} {:>14}", v.to_string());
                }
            }
            _ => println!("{section:<14} {:<22} {:>14}", "(not measured yet)", ""),
        }
    }
    println!("written to {}", path.display());
}
