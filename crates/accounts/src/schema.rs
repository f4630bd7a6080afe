// The Diesel view of the tables of migration 2026-12-04-030000 (login throttling, password
// resets), and of the outbox this crate writes notices into (declared by `registry` first).

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_start -> Timestamptz,
        locks -> Integer,
        locked_until -> Nullable<Timestamptz>,
        refused -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    password_resets (token_sha256) {
        token_sha256 -> Bytea,
        user_id -> Uuid,
        issued_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

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
    }
}
