//! `make bench`'s scenarios at smoke size (issue 15: "CI runs only a smoke version"): the
//! harness runs end to end and what must hold at any speed holds. No figure is asserted:
//! speed claims live in `make bench` (`docs/performance.md`), never in timed tests.

use journeys::bench::{run, Sizes};
use journeys::serde_json::Value;

fn positive(section: &Value, key: &str) {
    assert!(section[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {section}");
}

#[test]
fn the_benchmark_scenarios_run_and_every_receipt_of_the_rush_verifies() {
    let s = Sizes::smoke();
    let r = run(&s);
    eprintln!("{r:#}");
    let rush = &r["rush"];
    // The same checks of both rushes: sealed by the server, and by the clients beforehand.
    for p in ["", "client_sealed_", "paced_"] {
        let key = |k: &str| format!("{p}{k}");
        let total = rush[key("receipts_total")].as_u64().expect("receipts_total");
        assert_eq!(total, 3 * s.bids as u64, "every envelope accepted ({p}): {rush}");
        assert_eq!(rush[key("receipts_verified")].as_u64(), Some(total), "{rush}");
        assert_eq!(
            rush[key("in_log")].as_u64(),
            Some(total),
            "every accepted envelope in the log ({p})"
        );
        assert_eq!(rush[key("log_duplicates")].as_u64(), Some(0));
        assert_eq!(
            rush[key("late_accepted")].as_u64(),
            Some(0),
            "nothing after the deadline ({p})"
        );
        for k in ["envelopes_per_s", "p50_ms", "p99_ms", "max_ms", "client_cpu_share"] {
            assert!(rush[key(k)].as_f64().is_some_and(|x| x >= 0.0), "{p}{k}: {rush}");
        }
    }
    positive(rush, "anchor_tps");

    // The big envelope: both uploads stored, both anchors ran, the peak RSS was read.
    let big = &r["big_envelope"];
    assert_eq!(big["client_status"], 201, "{big}");
    assert_eq!(big["server_status"], 201, "{big}");
    assert_eq!(big["envelopes_stored"], 2, "{big}");
    for k in [
        "anchor_mb_s",
        "hash_anchor_mb_s",
        "client_sealed_mb_s",
        "server_sealed_mb_s",
        "client_ratio",
        "server_ratio",
    ] {
        positive(big, k);
    }
    for k in ["rss_growth_mib_client", "rss_growth_mib_server"] {
        assert!(big[k].as_f64().is_some_and(|x| x >= 0.0), "{k}: {big}");
    }

    // The awards: computed and ranked, and the OEPV through the API ranked its offers.
    let award = &r["award"];
    positive(award, "anomaly_10000_ms");
    positive(award, "oepv_1000_ms");
    positive(award, "api_call_ms");
    positive(award, "api_close_technical_ms");
    let ranked = award["api_ranked"].as_u64().expect("api_ranked");
    assert!(ranked >= 1 && ranked <= s.oepv_offers as u64, "{award}");
    assert!(award["oepv_ranked"].as_u64().is_some_and(|n| n >= 1), "{award}");

    // The documents: the award report rendered, the auditor's bundle exported.
    let report = &r["report"];
    assert!(report["pdf_bytes"].as_u64().is_some_and(|b| b > 0), "{report}");
    assert_eq!(report["bundle_status"], 200, "{report}");
    assert!(report["bundle_bytes"].as_u64().is_some_and(|b| b > 0), "{report}");
    positive(report, "bundle_2000_ms");

    // The reads: every page answered, every time.
    let reads = &r["reads"];
    assert_eq!(reads["errors"].as_u64(), Some(0), "{reads}");
    for k in [
        "rps",
        "anchor_rps",
        "api_list_rps",
        "api_tender_rps",
        "portal_list_rps",
        "portal_tender_rps",
    ] {
        positive(reads, k);
    }
}
