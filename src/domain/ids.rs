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
