//! Issue 15, scenario 6 at seconds size (`journeys::scale_out`): two `centrale serve` of this
//! build behind HAProxy on one database, sharing envelopes through a real S3-compatible
//! server, one of them SIGKILLed mid-rush. Only what holds at any speed is asserted.

use journeys::bench::Sizes;

#[test]
fn two_instances_behind_a_balancer_lose_nothing_when_one_is_killed_mid_rush() {
    let sizes = Sizes {
        clients: 4,
        bids: 8,
        envelope_bytes: 2048,
        ..Sizes::smoke()
    };
    let r = journeys::scale_out::scale_out(&sizes, std::path::Path::new(env!("CARGO_BIN_EXE_centrale")));
    eprintln!("scale-out: {r}");
    let acknowledged = r["acknowledged"].as_u64().expect("acknowledged");
    // Both phases, every envelope of every bid acknowledged in the end (bidders retry), and
    // the envelope uploaded in parts through the balancer.
    assert_eq!(acknowledged, 2 * 3 * sizes.bids as u64 + 1, "{r}");
    assert_eq!(r["abandoned"], 0, "{r}");
    assert_eq!(r["receipts_verified"].as_u64(), Some(acknowledged), "{r}");
    assert_eq!(r["log_gaps"], 0, "{r}");
    assert_eq!(r["log_pending"], 0, "{r}");
    assert_eq!(r["duplicates"], 0, "{r}");
    assert_eq!(r["lost_after_kill"], 0, "{r}");
    assert_eq!(r["late_accepted"], 0, "{r}");
    assert!(
        r["killed_after_acks"].as_u64().is_some(),
        "the second instance was killed: {r}"
    );
    // The rush reached both instances before the kill.
    assert!(r["served_by"]["b"].as_u64().unwrap_or(0) > 0, "{r}");
    // Every qualification was notified (some while both outboxes ran, one killed). Delivery
    // is at least once: a kill between the relay's acceptance and the commit may send a row
    // again (`notifications_sent_twice`, reported), but always with its own Message-ID.
    assert!(r["notifications"].as_u64().unwrap_or(0) > sizes.bids as u64, "{r}");
    assert_eq!(r["notifications_undelivered"], 0, "{r}");
    assert_eq!(r["notifications_repeated_with_new_message_id"], 0, "{r}");
}
