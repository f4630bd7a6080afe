//! Issue 10 point 8: the legal table is public. Anyone, without logging in, reads every rule
//! in force on a day with its value, unit, article and comma, source and effective dates.

use domain::clock::Clock;
use journeys::serde_json::Value;
use journeys::TestApp;

fn rule<'a>(table: &'a Value, key: &str) -> &'a Value {
    table["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("{key} in {table}"))
}

#[test]
fn the_legal_table_in_force_on_a_day_is_public_on_both_sides_of_each_change() {
    let app = TestApp::start();
    let anon = app.client();
    let on = |day: &str| anon.get(&format!("/api/v1/tools/legal-table?date={day}")).expect(200);

    // The correttivo: 35 days of standstill until 30 December 2024, 32 from the 31st.
    let before = on("2024-12-30");
    let after = on("2024-12-31");
    let s = rule(&before, "after_deadline.standstill_days");
    assert_eq!((s["value"].as_i64(), s["unit"].as_str()), (Some(35), Some("days")));
    assert_eq!(
        (s["article"].as_str(), s["comma"].as_str()),
        (Some("art. 18"), Some("c.3"))
    );
    assert_eq!(s["source"], "D.Lgs. 36/2023");
    assert_eq!(s["effective_until"], "2024-12-31");
    let s = rule(&after, "after_deadline.standstill_days");
    assert_eq!(s["value"], 32);
    assert_eq!(s["source"], "D.Lgs. 36/2023 come modificato dal D.Lgs. 209/2024");
    assert_eq!(
        (s["effective_from"].as_str(), s["effective_until"].as_str()),
        (Some("2024-12-31"), None)
    );
    assert_eq!(after["version_from"], "2024-12-31");

    // The EU thresholds move on 1 January 2026, each with its regulation.
    let w25 = rule(&on("2025-12-31"), "eu.works").clone();
    let w26 = rule(&on("2026-01-01"), "eu.works").clone();
    assert_eq!(
        (w25["value"].as_i64(), w25["unit"].as_str()),
        (Some(5_538_000), Some("euro"))
    );
    assert_eq!(w25["source"], "Reg. delegato (UE) 2023/2495");
    assert_eq!(w26["value"], 5_404_000);
    assert_eq!(w26["source"], "Reg. delegato (UE) 2025/2152");
    let special = rule(&on("2026-06-01"), "eu.special_sectors_supplies_services").clone();
    assert_eq!(
        (special["value"].as_i64(), special["source"].as_str()),
        (Some(432_000), Some("Reg. delegato (UE) 2025/2150"))
    );
    assert_eq!(
        rule(&on("2026-06-01"), "eu.concessions")["source"],
        "Reg. delegato (UE) 2025/2151"
    );

    // Time limits with their corrected citations.
    let today = on("2026-06-01");
    let neg = rule(&today, "days.negotiation_requests");
    assert_eq!(
        (neg["value"].as_i64(), neg["citation"].as_str()),
        (Some(10), Some("art. 73 c.4"))
    );
    assert_eq!(rule(&today, "days.negotiation_requests_eu")["value"], 30);
    assert_eq!(rule(&today, "days.negotiation_offers")["citation"], "art. 73 c.5");
    assert_eq!(
        rule(&today, "days.restricted_requests_urgent")["citation"],
        "art. 72 c.6 lett. a"
    );
    assert_eq!(rule(&today, "days.information_before_deadline_urgent")["value"], 4);

    // Every rule is complete.
    for r in today["rules"].as_array().expect("rules") {
        for field in ["key", "unit", "citation", "article", "source", "effective_from"] {
            assert!(r[field].as_str().is_some_and(|v| !v.is_empty()), "{field} of {r}");
        }
        assert!(!r["value"].is_null(), "{r}");
    }
}

#[test]
fn the_legal_table_defaults_to_today_in_rome_and_refuses_a_bad_date() {
    let app = TestApp::start();
    let anon = app.client();
    let today = anon.get("/api/v1/tools/legal-table").expect(200);
    let expected = domain::deadlines::rome_date(app.clock.now()).to_string();
    assert_eq!(today["date"], expected.as_str());
    for bad in ["2024-02-30", "31/12/2024", "ieri"] {
        let e = anon
            .get(&format!("/api/v1/tools/legal-table?date={bad}"))
            .expect_problem(422, "date_invalid");
        assert_eq!(e["field"], "date");
    }
    let r = anon.get("/api/v1/tools/legal-table?giorno=2024-12-31");
    assert_eq!(r.status, 400, "{}", r.text);
}
