// The Diesel view of migrations/2026-11-22-000040_aggiudicazione, plus read-only mirrors of
// the seal's `bids`, `envelopes`, `openings` and `opened_envelopes` (owned by `offerte`) and of
// the registry's `notifications_outbox` (written here for art. 90 communications).
// Written by hand. The agg_* tables are keyed by `scope_id` (the lot, or the tender without
// lots; migration 2026-11-22-000061_bid_lots); their `bando_id` is filled by a trigger.

pub use db::schema::users;

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

// Read-only mirrors (offerte's migration 2026-11-22-000030).
diesel::table! {
    bids (id) {
        id -> Uuid,
        bando_id -> Uuid,
        lotto_id -> Nullable<Uuid>,
        bidder_id -> Uuid,
        created_at -> Timestamptz,
        withdrawn_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    envelopes (id) {
        id -> Uuid,
        bid_id -> Uuid,
        bando_id -> Uuid,
        bidder_id -> Uuid,
        kind -> Text,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    openings (bando_id, kind) {
        bando_id -> Uuid,
        kind -> Text,
        opened_at -> Timestamptz,
    }
}

diesel::table! {
    opened_envelopes (envelope_id) {
        envelope_id -> Uuid,
        bando_id -> Uuid,
        kind -> Text,
        plaintext_path -> Nullable<Text>,
        economic_offer -> Nullable<Jsonb>,
    }
}

// The registry's outbox (migration 2026-11-22-000010), reused for art. 90 communications.
diesel::table! {
    notifications_outbox (id) {
        id -> Uuid,
        recipient_user_id -> Nullable<Uuid>,
        recipient_address -> Text,
        subject -> Text,
        body -> Text,
        object_type -> Text,
        object_id -> Text,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(envelopes -> bids (bid_id));
diesel::joinable!(opened_envelopes -> envelopes (envelope_id));

diesel::allow_tables_to_appear_in_same_query!(
    agg_participants,
    agg_soccorso,
    agg_commission,
    agg_coefficients,
    agg_evaluations,
    agg_art110,
    agg_awards,
    agg_requirements,
    bids,
    envelopes,
    openings,
    opened_envelopes,
    notifications_outbox,
);
