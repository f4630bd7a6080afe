// The Diesel view of the one table this crate writes besides the audit trail:
// `notifications_outbox` (migrations 000010 and 000070).

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
        attempts -> Integer,
        last_attempt_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamptz>,
        message_id -> Nullable<Text>,
    }
}
