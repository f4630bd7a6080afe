// The Diesel view of migrations/2026-11-22-000010_registry. Written by hand to match the SQL.

// Foundation tables used alone (no joins with them are needed yet).
pub use db::schema::{enti, users};

diesel::table! {
    operatori (id) {
        id -> Uuid,
        owner_user_id -> Uuid,
        ragione_sociale -> Text,
        forma_giuridica -> Text,
        partita_iva -> Text,
        codice_fiscale -> Text,
        sede_istat -> Text,
        sede_comune -> Text,
        sede_provincia -> Text,
        sede_regione -> Text,
        sede_indirizzo -> Nullable<Text>,
        pec -> Text,
        legale_rappresentante_nome -> Text,
        legale_rappresentante_cf -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        status_changed_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    operatore_status_history (id) {
        id -> Int8,
        operatore_id -> Uuid,
        from_status -> Nullable<Text>,
        to_status -> Text,
        reason -> Nullable<Text>,
        actor_user_id -> Nullable<Uuid>,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    operatore_cpv (id) {
        id -> Int8,
        operatore_id -> Uuid,
        cpv -> Text,
        stem -> Text,
        declared_at -> Timestamptz,
        withdrawn_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    operatore_soa (id) {
        id -> Int8,
        operatore_id -> Uuid,
        categoria -> Text,
        classifica -> Text,
        classifica_rank -> Int4,
        declared_at -> Timestamptz,
        withdrawn_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    registry_blobs (sha256) {
        sha256 -> Text,
        size_bytes -> Int8,
        content -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    operatore_documenti (id) {
        id -> Uuid,
        operatore_id -> Uuid,
        tipo -> Text,
        nome_file -> Text,
        media_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        scadenza -> Nullable<Date>,
        uploaded_at -> Timestamptz,
        uploaded_by -> Uuid,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    registry_awards (id) {
        id -> Uuid,
        ente_id -> Uuid,
        operatore_id -> Uuid,
        category -> Text,
        contract_type -> Text,
        value_eur -> Numeric,
        band -> Text,
        awarded_at -> Date,
        recorded_by -> Uuid,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    invitation_proposals (id) {
        id -> Uuid,
        ente_id -> Uuid,
        requested_by -> Uuid,
        category -> Text,
        category_kind -> Text,
        contract_type -> Text,
        value_eur -> Numeric,
        band -> Text,
        minimum -> Int4,
        requested_count -> Int4,
        seed -> Text,
        invitees -> Array<Uuid>,
        result -> Jsonb,
        status -> Text,
        created_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
        confirmed_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    rotation_counters (operatore_id, category, band) {
        operatore_id -> Uuid,
        category -> Text,
        band -> Text,
        times_invited -> Int4,
        last_invited_at -> Timestamptz,
    }
}

diesel::joinable!(operatore_cpv -> operatori (operatore_id));
diesel::joinable!(operatore_soa -> operatori (operatore_id));
diesel::joinable!(operatore_documenti -> operatori (operatore_id));
diesel::joinable!(operatore_status_history -> operatori (operatore_id));
diesel::joinable!(rotation_counters -> operatori (operatore_id));
diesel::joinable!(registry_awards -> operatori (operatore_id));

diesel::allow_tables_to_appear_in_same_query!(
    operatori,
    operatore_status_history,
    operatore_cpv,
    operatore_soa,
    registry_blobs,
    operatore_documenti,
    registry_awards,
    invitation_proposals,
    rotation_counters,
);
