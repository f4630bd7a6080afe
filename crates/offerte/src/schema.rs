// The Diesel view of migrations/2026-11-22-000030_offerte. Written by hand. The other areas'
// tables the seal reads are their owners' schema, re-exported (one schema per table):
// `bandi` and `bando_versioni` (bando), `operatori` and `notifications_outbox` (registry),
// `users` (db). Queries never join them with the seal's tables (the orphan rule forbids
// `allow_tables_to_appear_in_same_query!` across crates): they go by id lists (`eq_any`).
// The one exception is `agg_commission` below: aggiudicazione depends on this crate, so it
// cannot be imported from there.

pub use bando::schema::{bandi, bando_versioni};
pub use db::schema::users;
pub use notify::schema::notifications_outbox;
pub use registry::schema::operatori;

// Read-only mirror of the commission appointed by the evaluation area
// (migrations/2026-11-22-000040_aggiudicazione): only its declared members reach envelope B.
// A mirror on purpose: aggiudicazione depends on offerte, so its schema cannot be used here.
diesel::table! {
    agg_commission (scope_id, user_id) {
        bando_id -> Uuid,
        scope_id -> Uuid,
        user_id -> Uuid,
        declared_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    seal_tender_keys (bando_id) {
        bando_id -> Uuid,
        recipient -> Text,
        k -> Int4,
        n -> Int4,
        uploaded_by -> Uuid,
        uploaded_at -> Timestamptz,
        leaf_id -> Int8,
    }
}

diesel::table! {
    seal_key_shares (bando_id, position) {
        bando_id -> Uuid,
        position -> Int4,
        custodian_user_id -> Uuid,
        custodian_key -> Text,
        ciphertext -> Bytea,
    }
}

diesel::table! {
    log_leaves (id) {
        id -> Int8,
        leaf_index -> Nullable<Int8>,
        kind -> Text,
        bando_id -> Nullable<Uuid>,
        data -> Bytea,
        leaf_hash -> Bytea,
        created_at -> Timestamptz,
        integrated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    log_subtree_hashes (start_index, size) {
        start_index -> Int8,
        size -> Int8,
        hash -> Bytea,
    }
}

diesel::table! {
    log_checkpoints (tree_size) {
        tree_size -> Int8,
        root_hash -> Bytea,
        note -> Text,
        reason -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    bids (id) {
        id -> Uuid,
        bando_id -> Uuid,
        bidder_id -> Uuid,
        created_at -> Timestamptz,
        withdrawn_at -> Nullable<Timestamptz>,
        withdrawal_leaf_id -> Nullable<Int8>,
        /// The lot bid for (migration 000061); NULL for a tender without lots.
        lotto_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    envelopes (id) {
        id -> Uuid,
        bid_id -> Uuid,
        bando_id -> Uuid,
        bidder_id -> Uuid,
        kind -> Text,
        sealed_by -> Text,
        sha256 -> Text,
        size_bytes -> Int8,
        blob_path -> Text,
        received_at -> Timestamptz,
        leaf_id -> Int8,
        superseded_at -> Nullable<Timestamptz>,
        superseded_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    receipts (envelope_id) {
        envelope_id -> Uuid,
        canonical -> Text,
        signature -> Text,
        tsa_token -> Bytea,
        issued_at -> Timestamptz,
    }
}

diesel::table! {
    seal_closures (bando_id) {
        bando_id -> Uuid,
        deadline -> Timestamptz,
        closed_at -> Timestamptz,
        leaf_id -> Int8,
        tree_size -> Int8,
    }
}

diesel::table! {
    openings (bando_id, kind) {
        bando_id -> Uuid,
        kind -> Text,
        opened_at -> Timestamptz,
        opened_by -> Uuid,
        shares_used -> Int4,
        envelopes -> Int4,
        leaf_id -> Int8,
    }
}

diesel::table! {
    opened_envelopes (envelope_id) {
        envelope_id -> Uuid,
        bando_id -> Uuid,
        kind -> Text,
        opened_at -> Timestamptz,
        plaintext_path -> Nullable<Text>,
        plaintext_sha256 -> Nullable<Text>,
        plaintext_size -> Nullable<Int8>,
        error -> Nullable<Text>,
        economic_offer -> Nullable<Jsonb>,
        archive -> Nullable<Jsonb>,
    }
}

diesel::table! {
    seal_platform_keys (name) {
        name -> Text,
        public_key -> Text,
        created_at -> Timestamptz,
    }
}

// migrations/2026-11-22-000050_offerte_confirmations.
diesel::table! {
    bid_confirmations (id) {
        id -> Uuid,
        bid_id -> Uuid,
        bando_id -> Uuid,
        bidder_id -> Uuid,
        version -> Int4,
        confirmed_at -> Timestamptz,
    }
}

diesel::table! {
    bid_amendment_notices (bando_id, version, bidder_id) {
        bando_id -> Uuid,
        version -> Int4,
        bidder_id -> Uuid,
        bid_id -> Uuid,
        notification_id -> Uuid,
        created_at -> Timestamptz,
    }
}

// migrations/2026-12-02-000100_custody: the dealerless ceremony and the opening shares.
diesel::table! {
    seal_ceremonies (id) {
        id -> Uuid,
        bando_id -> Uuid,
        k -> Int4,
        custodians -> Array<Uuid>,
        started_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        reset_at -> Nullable<Timestamptz>,
        reset_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    seal_transport_keys (ceremony_id, custodian_user_id) {
        ceremony_id -> Uuid,
        custodian_user_id -> Uuid,
        position -> Int4,
        age_key -> Text,
        registered_at -> Timestamptz,
    }
}

diesel::table! {
    seal_contributions (ceremony_id, dealer_user_id, kind) {
        ceremony_id -> Uuid,
        dealer_user_id -> Uuid,
        kind -> Text,
        commitments -> Array<Bytea>,
        shares -> Jsonb,
        submitted_at -> Timestamptz,
    }
}

diesel::table! {
    seal_acks (ceremony_id, custodian_user_id, kind) {
        ceremony_id -> Uuid,
        custodian_user_id -> Uuid,
        kind -> Text,
        verification_share -> Bytea,
        proof -> Bytea,
        acked_at -> Timestamptz,
    }
}

diesel::table! {
    seal_kind_keys (bando_id, kind) {
        bando_id -> Uuid,
        kind -> Text,
        ceremony_id -> Uuid,
        public_key -> Bytea,
        recipient -> Text,
    }
}

diesel::table! {
    seal_opening_shares (bando_id, kind, custodian_user_id) {
        bando_id -> Uuid,
        kind -> Text,
        custodian_user_id -> Uuid,
        position -> Int4,
        share -> Bytea,
        submitted_at -> Timestamptz,
    }
}

diesel::joinable!(envelopes -> bids (bid_id));
diesel::joinable!(receipts -> envelopes (envelope_id));
diesel::joinable!(opened_envelopes -> envelopes (envelope_id));

diesel::allow_tables_to_appear_in_same_query!(
    seal_tender_keys,
    seal_key_shares,
    seal_ceremonies,
    seal_transport_keys,
    seal_contributions,
    seal_acks,
    seal_kind_keys,
    seal_opening_shares,
    log_leaves,
    log_subtree_hashes,
    log_checkpoints,
    bids,
    envelopes,
    receipts,
    seal_closures,
    openings,
    opened_envelopes,
    seal_platform_keys,
    bid_confirmations,
    bid_amendment_notices,
);
