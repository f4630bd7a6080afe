// The Diesel view of migrations/2026-11-22-000040_aggiudicazione. Written by hand.
// The other areas' tables the workflow reads are their owners' schema, re-exported here (one
// schema per table): the seal's `bids`, `envelopes`, `openings` and `opened_envelopes`
// (offerte), the registry's `notifications_outbox` (written for art. 90 communications) and
// `users` (db). The only joins across them are offerte's own (`opened_envelopes` → `envelopes`
// → `bids`), declared by offerte; agg_* rows are matched to bids by id lists (`eq_any`), since
// `allow_tables_to_appear_in_same_query!` cannot pair tables of two other crates. The agg_* tables are keyed by `scope_id` (the lot, or the tender without
// lots; migration 2026-11-22-000061_bid_lots); their `bando_id` is filled by a trigger.

pub use db::schema::users;
pub use notify::schema::notifications_outbox;
pub use offerte::schema::{bids, envelopes, opened_envelopes, openings};

// migrations/2026-12-03-010000_anomaly_terms: the award's discount and amount.
diesel::table! {
    agg_award_terms (scope_id) {
        scope_id -> Uuid,
        winner_id -> Uuid,
        method -> Nullable<Text>,
        offered_discount -> Numeric,
        awarded_discount -> Numeric,
        rule -> Text,
        amount_subject_to_discount -> Numeric,
        contract_amount -> Numeric,
        why -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    agg_participants (scope_id, bidder_id) {
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        bidder_id -> Uuid,
        bid_id -> Uuid,
        status -> Text,
        excluded_phase -> Nullable<Text>,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agg_soccorso (id) {
        id -> Uuid,
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        bidder_id -> Uuid,
        envelope -> Text,
        request -> Text,
        days -> Int4,
        deadline -> Timestamptz,
        requested_by -> Uuid,
        requested_at -> Timestamptz,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
        outcome_reason -> Nullable<Text>,
        outcome_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agg_commission (scope_id, user_id) {
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        user_id -> Uuid,
        president -> Bool,
        appointed_by -> Uuid,
        appointed_at -> Timestamptz,
        declaration -> Nullable<Text>,
        declared_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agg_coefficients (id) {
        id -> Int8,
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        bidder_id -> Uuid,
        criterion -> Text,
        commissioner_id -> Uuid,
        coefficient -> Numeric,
        entered_at -> Timestamptz,
    }
}

diesel::table! {
    agg_evaluations (scope_id) {
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        technical_report -> Nullable<Jsonb>,
        technical_closed_at -> Nullable<Timestamptz>,
        criterion -> Nullable<Text>,
        anomaly_applies -> Nullable<Bool>,
        anomaly_why -> Nullable<Text>,
        anomaly_report -> Nullable<Jsonb>,
        economic_report -> Nullable<Jsonb>,
        ranking -> Nullable<Jsonb>,
        draw_seed -> Nullable<Int8>,
        computed_by -> Nullable<Uuid>,
        computed_at -> Nullable<Timestamptz>,
        /// The public draw's inputs and seed (migration 2026-12-02-000400).
        draw -> Nullable<Jsonb>,
    }
}

diesel::table! {
    agg_art110 (id) {
        id -> Uuid,
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        bidder_id -> Uuid,
        request -> Text,
        deadline -> Timestamptz,
        requested_by -> Uuid,
        requested_at -> Timestamptz,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
        outcome_reason -> Nullable<Text>,
        outcome_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agg_awards (scope_id) {
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        outcome -> Text,
        winner_id -> Nullable<Uuid>,
        proposed_by -> Nullable<Uuid>,
        proposed_at -> Nullable<Timestamptz>,
        awarded_by -> Nullable<Uuid>,
        awarded_at -> Nullable<Timestamptz>,
        standstill_applies -> Nullable<Bool>,
        standstill_why -> Nullable<Text>,
        standstill_end -> Nullable<Timestamptz>,
        effective_by -> Nullable<Uuid>,
        effective_at -> Nullable<Timestamptz>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    agg_requirements (id) {
        id -> Uuid,
        /// The lot (tender with lots) or the tender: what is evaluated (migration 000061).
        scope_id -> Uuid,
        requirement -> Text,
        evidence -> Text,
        satisfied -> Bool,
        checked_by -> Uuid,
        checked_at -> Timestamptz,
    }
}

diesel::table! {
    /// Exclusions the platform proposes and the RUP decides (art. 30 c.3 lett. b; migration
    /// 2026-12-03-020000_award_order).
    agg_exclusion_proposals (id) {
        id -> Uuid,
        scope_id -> Uuid,
        bidder_id -> Uuid,
        phase -> Text,
        reason -> Text,
        proposed_at -> Timestamptz,
        decision -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Requests to redact parts of an offer (art. 36 c.3–5; migration
    /// 2026-12-04-060000_redaction_requests).
    agg_redaction_requests (id) {
        id -> Uuid,
        scope_id -> Uuid,
        envelope_id -> Uuid,
        bidder_id -> Uuid,
        position -> Int4,
        file -> Text,
        redacted_copy -> Nullable<Text>,
        reasons -> Text,
        evidence -> Jsonb,
        defect -> Nullable<Text>,
        read_at -> Timestamptz,
        decision -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        challenge_note -> Nullable<Text>,
        challenge_by -> Nullable<Uuid>,
        challenge_at -> Nullable<Timestamptz>,
        challenge_outcome -> Nullable<Text>,
        challenge_outcome_reason -> Nullable<Text>,
        challenge_outcome_by -> Nullable<Uuid>,
        challenge_outcome_at -> Nullable<Timestamptz>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    agg_redaction_requests,
    agg_exclusion_proposals,
    agg_participants,
    agg_soccorso,
    agg_commission,
    agg_coefficients,
    agg_evaluations,
    agg_award_terms,
    agg_art110,
    agg_awards,
    agg_requirements,
);
