//! Two "server instances" (two connections on two threads) run the scheduler at once on one
//! database: each due tender moves exactly once, with one history row and one audit event.

use std::sync::{Arc, Barrier};

use chrono::{DateTime, Duration, Utc};
use db::schema::{audit_events, enti, users};
use diesel::prelude::*;
use uuid::Uuid;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

#[test]
fn two_schedulers_on_one_database_move_each_tender_once() {
    let db = journeys::fresh_database();
    let mut conn = PgConnection::establish(db.url()).expect("connect");
    let at = utc("2026-05-04T08:00:00Z");
    let ente = Uuid::new_v4();
    let user = Uuid::new_v4();
    diesel::insert_into(enti::table)
        .values((
            enti::id.eq(ente),
            enti::nome.eq("Comune di Milano"),
            enti::codice_fiscale.eq("01199250158"),
            enti::tipo.eq("comune"),
            enti::istat_code.eq("015146"),
            enti::pec.eq("a@pec.it"),
            enti::created_at.eq(at),
        ))
        .execute(&mut conn)
        .expect("ente");
    diesel::insert_into(users::table)
        .values((
            users::id.eq(user),
            users::email.eq("rup@x.it"),
            users::full_name.eq("RUP"),
            users::password_hash.eq("x"),
            users::kind.eq("official"),
            users::created_at.eq(at),
        ))
        .execute(&mut conn)
        .expect("user");
    let deadline = utc("2026-06-05T10:00:00Z");
    let n = 30;
    for i in 0..n {
        diesel::sql_query(
            "INSERT INTO bandi (id, ente_id, created_by, oggetto, cpv_main, nuts, contract_type, procedure_type, award_criterion,
                                base_amount, submission_deadline, opening_at, envelopes, state, version, published_at, created_at, updated_at)
             VALUES ($1, $2, $3, 'Servizio', '90910000-9', 'ITC4C', 'services', 'aperta', 'minor_prezzo', 300000,
                     $4, $5, '{A,C}', 'published', 1, $6, $6, $6)",
        )
        .bind::<diesel::sql_types::Uuid, _>(Uuid::new_v4())
        .bind::<diesel::sql_types::Uuid, _>(ente)
        .bind::<diesel::sql_types::Uuid, _>(user)
        .bind::<diesel::sql_types::Timestamptz, _>(deadline + Duration::seconds(i))
        .bind::<diesel::sql_types::Timestamptz, _>(deadline + Duration::hours(3))
        .bind::<diesel::sql_types::Timestamptz, _>(at)
        .execute(&mut conn)
        .expect("bando");
    }
    let now = deadline + Duration::minutes(1);
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let url = db.url().to_string();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).expect("connect");
                barrier.wait();
                let mut moved = 0;
                for _ in 0..3 {
                    moved += bando::scheduler::run_due(&mut conn, now).expect("run").len();
                }
                moved
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    assert_eq!(
        total, n as usize,
        "every tender moved exactly once across both instances"
    );
    let history: i64 =
        diesel::sql_query("SELECT count(*) AS c FROM bando_state_history WHERE to_state = 'submissions_closed'")
            .get_result::<Count>(&mut conn)
            .expect("count")
            .c;
    assert_eq!(history, n);
    let events: i64 = audit_events::table
        .filter(audit_events::action.eq("bando.state_changed"))
        .filter(audit_events::request_id.eq("scheduler"))
        .count()
        .get_result(&mut conn)
        .expect("events");
    assert_eq!(events, n);
    // Idempotent: nothing more to do at the same instant.
    assert!(bando::scheduler::run_due(&mut conn, now).expect("run").is_empty());
    drop(conn);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    c: i64,
}
