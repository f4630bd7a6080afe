// The Diesel view of the tables of migration 2026-12-04-030000 (login throttling, password
// resets). The outbox this crate writes notices into is `notify::schema`, its owner's.

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
