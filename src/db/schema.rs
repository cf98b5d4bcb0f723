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
        webhook_kind -> Nullable<Text>,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
        notice_mode -> Text,
        aliases -> Text,
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
        must_change_password -> Bool,
        phone -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_in_attempts (id) {
        id -> BigInt,
        username -> Text,
        client_ip -> Text,
        attempted_at -> Timestamp,
        succeeded -> Bool,
    }
}

diesel::joinable!(users -> units (unit_id));
diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    plans (id) {
        id -> BigInt,
        title -> Text,
        year -> Integer,
        description -> Nullable<Text>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tasks (id) {
        id -> BigInt,
        plan_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        code -> Text,
        title -> Text,
        description -> Nullable<Text>,
        lead_unit_id -> BigInt,
        responsible_leader_id -> Nullable<BigInt>,
        start_date -> Nullable<Date>,
        due_date -> Nullable<Date>,
        original_due_date -> Nullable<Date>,
        due_working_days -> Nullable<Integer>,
        priority -> Text,
        category -> Text,
        status -> Text,
        evidence_required -> Bool,
        report_day -> Nullable<Integer>,
        progress -> Integer,
        returned -> Bool,
        completion_note -> Nullable<Text>,
        assigned_at -> Nullable<Timestamp>,
        accepted_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        submitted_on -> Nullable<Date>,
        completed_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        indicator_id -> Nullable<BigInt>,
        due_text -> Nullable<Text>,
        report_cadence -> Text,
    }
}

diesel::table! {
    task_cooperators (task_id, unit_id) {
        task_id -> BigInt,
        unit_id -> BigInt,
    }
}

diesel::table! {
    task_co_leaders (task_id, user_id) {
        task_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    task_events (id) {
        id -> BigInt,
        task_id -> BigInt,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        unit_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        data -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    progress_reports (id) {
        id -> BigInt,
        task_id -> BigInt,
        unit_id -> BigInt,
        author_id -> BigInt,
        percent -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attachment_blobs (sha256) {
        sha256 -> Text,
        data -> Binary,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        task_id -> BigInt,
        unit_id -> Nullable<BigInt>,
        uploaded_by -> BigInt,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    extensions (id) {
        id -> BigInt,
        task_id -> BigInt,
        requested_by -> BigInt,
        old_due_date -> Date,
        new_due_date -> Date,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        decision_note -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    holidays (day) {
        day -> Date,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<BigInt>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        created_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    notice_days (day) {
        day -> Date,
        created -> BigInt,
        cancelled -> BigInt,
    }
}

diesel::table! {
    notices (id) {
        id -> BigInt,
        task_id -> Nullable<BigInt>,
        unit_id -> Nullable<BigInt>,
        step -> Text,
        due_date -> Nullable<Date>,
        dedupe_key -> Text,
        message_id -> Text,
        recipients -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        channel -> Text,
        bulletin_id -> Nullable<BigInt>,
        indicator_id -> Nullable<BigInt>,
        period -> Nullable<Text>,
        claim_token -> Nullable<Text>,
        revivals -> Integer,
        instruction_id -> Nullable<BigInt>,
        supervision_order_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    job_runs (id) {
        id -> BigInt,
        job -> Text,
        period -> Text,
        holder -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        counts -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        attempts -> Integer,
    }
}

diesel::table! {
    scheduler_lease (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    accountability_records (id) {
        id -> BigInt,
        unit_id -> BigInt,
        user_id -> Nullable<BigInt>,
        level -> Text,
        reason -> Text,
        task_ids -> Text,
        source -> Text,
        status -> Text,
        dedupe_key -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        decided_by -> Nullable<BigInt>,
        decision_note -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        bulletin_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    bulletins (id) {
        id -> BigInt,
        period -> Text,
        period_start -> Date,
        period_end -> Date,
        status -> Text,
        year -> Nullable<Integer>,
        number -> Nullable<Integer>,
        snapshot -> Text,
        version -> BigInt,
        created_by -> Nullable<BigInt>,
        published_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    indicators (id) {
        id -> BigInt,
        domain -> Text,
        group_name -> Nullable<Text>,
        number -> Text,
        name -> Text,
        measure_unit -> Nullable<Text>,
        target_text -> Nullable<Text>,
        comparison -> Text,
        target_value -> Nullable<Double>,
        kind -> Text,
        applies_to -> Text,
        lead_unit_id -> Nullable<BigInt>,
        frequency -> Text,
        report_day -> Integer,
        reporting_from -> Date,
        checked -> Nullable<Text>,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    indicator_cooperators (indicator_id, unit_id) {
        indicator_id -> BigInt,
        unit_id -> BigInt,
    }
}

diesel::table! {
    indicator_values (id) {
        id -> BigInt,
        indicator_id -> BigInt,
        period -> Text,
        period_start -> Date,
        period_end -> Date,
        due_date -> Date,
        value -> Nullable<Double>,
        qualitative -> Nullable<Text>,
        note -> Nullable<Text>,
        status -> Text,
        submitted_by -> BigInt,
        submitted_on -> Date,
        submitted_at -> Timestamp,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        version -> BigInt,
    }
}

diesel::table! {
    indicator_attachments (id) {
        id -> BigInt,
        value_id -> BigInt,
        uploaded_by -> BigInt,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    instructions (id) {
        id -> BigInt,
        task_id -> BigInt,
        author_id -> BigInt,
        body -> Text,
        reply_by -> Nullable<Date>,
        created_at -> Timestamp,
        reply_report_id -> Nullable<BigInt>,
        replied_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    follows (id) {
        id -> BigInt,
        user_id -> BigInt,
        task_id -> Nullable<BigInt>,
        unit_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    supervision_orders (id) {
        id -> BigInt,
        task_id -> BigInt,
        year -> Integer,
        number -> BigInt,
        requirement -> Text,
        reply_by -> Date,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        reply_report_id -> Nullable<BigInt>,
        replied_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    supervision_order_counters (year) {
        year -> BigInt,
        last_number -> BigInt,
    }
}

diesel::joinable!(notices -> tasks (task_id));
diesel::joinable!(tasks -> plans (plan_id));
diesel::joinable!(tasks -> units (lead_unit_id));
diesel::joinable!(task_cooperators -> tasks (task_id));
diesel::joinable!(task_co_leaders -> tasks (task_id));
diesel::joinable!(task_co_leaders -> users (user_id));
diesel::joinable!(task_events -> tasks (task_id));
diesel::joinable!(progress_reports -> tasks (task_id));
diesel::joinable!(attachments -> tasks (task_id));
diesel::joinable!(extensions -> tasks (task_id));
diesel::joinable!(instructions -> tasks (task_id));
diesel::joinable!(supervision_orders -> tasks (task_id));
diesel::joinable!(indicator_cooperators -> indicators (indicator_id));
diesel::joinable!(indicator_values -> indicators (indicator_id));
diesel::joinable!(indicator_attachments -> indicator_values (value_id));

diesel::allow_tables_to_appear_in_same_query!(
    notice_days,
    units,
    users,
    sessions,
    sign_in_attempts,
    plans,
    tasks,
    task_cooperators,
    task_co_leaders,
    task_events,
    progress_reports,
    attachment_blobs,
    attachments,
    extensions,
    holidays,
    audit_log,
    notices,
    job_runs,
    scheduler_lease,
    accountability_records,
    bulletins,
    indicators,
    indicator_cooperators,
    indicator_values,
    indicator_attachments,
    calendar_feeds,
    instructions,
    follows,
    supervision_orders,
    supervision_order_counters,
);
