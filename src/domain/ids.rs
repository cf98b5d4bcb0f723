//! Newtype identifiers, so a unit id can never be passed where a user id belongs.
//! They are stored as BIGINT (`db::sql_types`) and sent as plain integers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            ToSchema, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A unit (township, park committee, department, the office…).
    UnitId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// An implementation plan (实施方案).
    PlanId
);
id_type!(
    /// A task.
    TaskId
);
id_type!(
    /// A task's extension request (延期申请).
    ExtensionId
);
id_type!(
    /// A progress report (进展反馈).
    ReportId
);
id_type!(
    /// An evidence file of a task (佐证材料).
    AttachmentId
);
id_type!(
    /// An entry of a task's timeline.
    EventId
);
id_type!(
    /// A notice in the outbox.
    NoticeId
);
id_type!(
    /// An accountability record (问责).
    RecordId
);
id_type!(
    /// A supervision bulletin (督查通报).
    BulletinId
);
id_type!(
    /// An assessment indicator (考核指标).
    IndicatorId
);
id_type!(
    /// A reported value of an indicator for a period.
    ValueId
);
id_type!(
    /// An evidence file of an indicator value.
    ValueAttachmentId
);
id_type!(
    /// A leader's instruction on a task (批示).
    InstructionId
);
id_type!(
    /// A supervision order (督办单).
    OrderId
);
id_type!(
    /// A personal calendar feed.
    FeedId
);
