// The Diesel view of `migrations/`. Written by hand to match the SQL (diesel_cli is not
// part of the toolchain here); `db::migrate` tests check both agree by querying every table.

diesel::table! {
    enti (id) {
        id -> Uuid,
        nome -> Text,
        codice_fiscale -> Text,
        tipo -> Text,
        istat_code -> Nullable<Text>,
        pec -> Text,
        created_at -> Timestamptz,
        authority_kind -> Text,
        qualified_by_law -> Bool,
        qualified_by_law_basis -> Nullable<Text>,
        is_centrale -> Bool,
    }
}

diesel::table! {
    /// Art. 63, Allegato II.4: every qualification record; the latest per sector is in force.
    ente_qualifications (seq) {
        seq -> Int8,
        id -> Uuid,
        ente_id -> Uuid,
        sector -> Text,
        level -> Nullable<Text>,
        valid_until -> Nullable<Date>,
        anac_reference -> Nullable<Text>,
        recorded_at -> Timestamptz,
        recorded_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        full_name -> Text,
        password_hash -> Text,
        kind -> Text,
        active -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    role_grants (id) {
        id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        ente_id -> Nullable<Uuid>,
        granted_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (token_sha256) {
        token_sha256 -> Bytea,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor_user_id -> Nullable<Uuid>,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        ente_id -> Nullable<Uuid>,
        request_id -> Text,
        details -> Jsonb,
        visible_from -> Nullable<Timestamptz>,
        actor_hidden -> Bool,
        sealed_until_deadline_of -> Nullable<Uuid>,
        client_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Issued documents (migrations/2026-12-05-010000_issued_documents), owned by `documents`.
    issued_documents (id) {
        id -> Uuid,
        bando_id -> Uuid,
        kind -> Text,
        scope -> Text,
        version -> Int4,
        file_name -> Text,
        sha256 -> Text,
        size_bytes -> Int8,
        content -> Bytea,
        owner_user_id -> Nullable<Uuid>,
        issued_by -> Uuid,
        issued_at -> Timestamptz,
        leaf_id -> Int8,
        leaf_hash -> Bytea,
    }
}

diesel::joinable!(role_grants -> users (user_id));
diesel::joinable!(role_grants -> enti (ente_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(ente_qualifications -> enti (ente_id));

diesel::allow_tables_to_appear_in_same_query!(enti, users, role_grants, sessions, audit_events, ente_qualifications);
