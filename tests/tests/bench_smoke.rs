//! `make bench`'s scenarios at smoke size (issue 15: "CI runs only a smoke version"): the
//! harness runs end to end and what must hold at any speed holds. No figure is asserted:
//! speed claims live in `make bench` (`docs/performance.md`), never in timed tests.

use journeys::bench::{run, Sizes};

#[test]
fn the_benchmark_scenarios_run_and_every_receipt_of_the_rush_verifies() {
    let s = Sizes::smoke();
    let r = run(&s);
    eprintln!("{r:#}");
    let rush = &r["rush"];
    let total = rush["receipts_total"].as_u64().expect("receipts_total");
    assert_eq!(total, 3 * s.bids as u64, "every envelope accepted: {rush}");
    assert_eq!(rush["receipts_verified"].as_u64(), Some(total), "{rush}");
    assert_eq!(
        rush["in_log"].as_u64(),
        Some(total),
        "every accepted envelope in the log"
    );
    assert_eq!(rush["log_duplicates"].as_u64(), Some(0));
    assert_eq!(rush["late_accepted"].as_u64(), Some(0), "nothing after the deadline");
    for key in ["envelopes_per_s", "p50_ms", "p99_ms", "max_ms", "client_cpu_share"] {
        assert!(rush[key].as_f64().is_some_and(|x| x >= 0.0), "{key}: {rush}");
    }
    assert!(
        rush["anchor_tps"].as_f64().is_some_and(|x| x > 0.0),
        "pgbench ran: {rush}"
    );
    let reads = &r["reads"];
    assert!(reads["rps"].as_f64().is_some_and(|x| x > 0.0), "{reads}");
    assert_eq!(reads["errors"].as_u64(), Some(0), "{reads}");
    assert!(reads["anchor_rps"].as_f64().is_some_and(|x| x > 0.0));
    assert!(r["award"]["anomaly_10000_ms"].as_f64().is_some());
    assert!(
        r["report"]["pdf_bytes"].as_u64().is_some_and(|b| b > 0),
        "{}",
        r["report"]
    );
}
