//! The sequencer at a deadline rush (issue 15): most envelopes arrive in the last minutes, and
//! every receipt promises its leaf in a signed checkpoint within 30 s. A batch is one
//! statement, so a tick integrates thousands of pending leaves at once: gap-free, in arrival
//! (id) order, never more than the batch size, and the signed root is the root of exactly
//! those leaves.

use journeys::TestApp;
use seal::merkle::{tree_root, Hash};
use std::time::{Duration, Instant};

const RUSH: i64 = 2_500;

/// Pending leaves as submissions write them (SHA-256 of 0x00 ‖ data, RFC 6962), in one
/// transaction, so one tick sees them all.
fn rush(app: &TestApp) -> i64 {
    let before: i64 = app
        .psql("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM log_leaves")
        .parse()
        .expect("size");
    app.psql(&format!(
        "INSERT INTO log_leaves (kind, data, leaf_hash, created_at) \
         SELECT 'envelope_received', convert_to('rush ' || g, 'UTF8'), \
                sha256('\\x00'::bytea || convert_to('rush ' || g, 'UTF8')), now() \
         FROM generate_series(1, {RUSH}) AS g"
    ));
    before
}

fn wait_integrated(app: &TestApp) {
    let start = Instant::now();
    while app.psql("SELECT count(*) FROM log_leaves WHERE leaf_index IS NULL") != "0" {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "leaves still pending after 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sizes of the checkpoints signed after `before`, ascending.
fn checkpoints_after(app: &TestApp, before: i64) -> Vec<i64> {
    app.psql(&format!(
        "SELECT tree_size FROM log_checkpoints WHERE tree_size > {before} ORDER BY tree_size"
    ))
    .lines()
    .map(|l| l.parse().expect("size"))
    .collect()
}

fn assert_gap_free_in_id_order(app: &TestApp) {
    assert_eq!(
        app.psql(
            "SELECT count(*) FROM (SELECT leaf_index, row_number() OVER (ORDER BY id) - 1 AS rn \
             FROM log_leaves) AS s WHERE leaf_index IS DISTINCT FROM rn"
        ),
        "0",
        "indices 0..n in id order"
    );
}

/// The latest signed root is the RFC 6962 root of every leaf hash in index order.
fn assert_root_matches(app: &TestApp) {
    let leaves: Vec<Hash> = app
        .psql("SELECT encode(leaf_hash, 'hex') FROM log_leaves ORDER BY leaf_index")
        .lines()
        .map(journeys::tender_world::unhex)
        .collect();
    let (size, root): (u64, String) = {
        let row = app.psql(
            "SELECT tree_size || ' ' || encode(root_hash, 'hex') FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1",
        );
        let (s, r) = row.split_once(' ').expect("row");
        (s.parse().expect("size"), r.to_string())
    };
    assert_eq!(size, leaves.len() as u64);
    let computed = tree_root(leaves.as_slice(), size).expect("root");
    assert_eq!(journeys::tender_world::hex(&computed), root);
}

#[test]
fn a_rush_of_pending_leaves_is_integrated_in_one_batch_gap_free_and_signed() {
    let app = TestApp::start();
    let before = rush(&app);
    wait_integrated(&app);
    assert_gap_free_in_id_order(&app);
    // One checkpoint for the whole rush: no tick stopped part way.
    assert_eq!(checkpoints_after(&app, before), vec![before + RUSH]);
    assert_root_matches(&app);
}

#[test]
fn a_batch_never_integrates_more_than_its_size() {
    let app = TestApp::start_tuned(|seal| seal.batch_size = 1_000, |_| {});
    let before = rush(&app);
    wait_integrated(&app);
    assert_gap_free_in_id_order(&app);
    assert_eq!(
        checkpoints_after(&app, before),
        vec![before + 1_000, before + 2_000, before + RUSH],
        "three batches of at most 1,000"
    );
    assert_root_matches(&app);
}
