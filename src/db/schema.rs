//! Table definitions shared by both backends (portable column types only).

diesel::table! {
    units (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        contact_emails -> Text,
        head_name -> Nullable<Text>,
        head_email -> Nullable<Text>,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        unit_id -> Nullable<BigInt>,
        password_hash -> Text,
        token_version -> BigInt,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        client_ip -> Text,
        failed_at -> Timestamp,
    }
}

diesel::joinable!(users -> units (unit_id));
diesel::allow_tables_to_appear_in_same_query!(units, users, login_failures);
