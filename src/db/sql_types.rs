//! How domain types are stored: every closed set (`domain::closed`) as its
//! name in a TEXT column, every id newtype (`domain::ids`) as BIGINT, on both
//! backends and on the `MultiBackend` that `DbConnection` derives. Reading a
//! name that is not in the set is an error (the CHECK constraints make it
//! impossible in practice), never a silent default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::closed::ClosedSet;

fn read_name<T: ClosedSet>(name: String) -> deserialize::Result<T> {
    T::from_name(&name).ok_or_else(|| {
        format!(
            "stored name {name:?} is not one of {:?}",
            T::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()
        )
        .into()
    })
}

/// Implements the TEXT mapping for closed sets.
macro_rules! stored_as_text {
    ($($t:ty),+ $(,)?) => {$(
        impl ToSql<Text, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }
        impl ToSql<Text, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }
        impl ToSql<Text, MultiBackend> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
        impl FromSql<Text, Sqlite> for $t {
            fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                read_name(<String as FromSql<Text, Sqlite>>::from_sql(value)?)
            }
        }
        impl FromSql<Text, Pg> for $t {
            fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                read_name(<String as FromSql<Text, Pg>>::from_sql(value)?)
            }
        }
        impl FromSql<Text, MultiBackend> for $t {
            fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                value.from_sql::<Self, Text>()
            }
        }
    )+};
}

/// Implements the BIGINT mapping for id newtypes.
macro_rules! stored_as_bigint {
    ($($t:ident),+ $(,)?) => {$(
        impl ToSql<BigInt, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <i64 as ToSql<BigInt, Sqlite>>::to_sql(&self.0, out)
            }
        }
        impl ToSql<BigInt, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
            }
        }
        impl ToSql<BigInt, MultiBackend> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((BigInt, self));
                Ok(IsNull::No)
            }
        }
        impl FromSql<BigInt, Sqlite> for $t {
            fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Sqlite>>::from_sql(value).map($t)
            }
        }
        impl FromSql<BigInt, Pg> for $t {
            fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Pg>>::from_sql(value).map($t)
            }
        }
        impl FromSql<BigInt, MultiBackend> for $t {
            fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                value.from_sql::<Self, BigInt>()
            }
        }
    )+};
}

use crate::domain::calendar::DayKind;
use crate::domain::ids::*;
use crate::domain::indicator::{Comparison, Frequency};
use crate::domain::kinds::*;
use crate::domain::report_cycle::ReportCadence;
use crate::domain::task_state::TaskStatus;
use crate::domain::{Role, UnitKind};

stored_as_bigint!(
    UnitId,
    UserId,
    PlanId,
    TaskId,
    ExtensionId,
    ReportId,
    AttachmentId,
    EventId,
    NoticeId,
    RecordId,
    BulletinId,
    IndicatorId,
    ValueId,
    ValueAttachmentId,
    FeedId,
    InstructionId,
    OrderId
);
stored_as_text!(
    Role,
    UnitKind,
    TaskStatus,
    StorageKind,
    PlanStatus,
    Priority,
    Category,
    ExtensionStatus,
    NoticeStatus,
    Channel,
    WebhookKind,
    NoticeMode,
    AccountabilityLevel,
    RecordSource,
    RecordStatus,
    BulletinStatus,
    IndicatorDomain,
    IndicatorKind,
    Qualitative,
    ValueStatus,
    Comparison,
    Frequency,
    DayKind,
    ReportCadence
);

// A notice's step is a ladder rung with its day or one of a few names, so it
// is stored by its key rather than as a `ClosedSet`'s name.
use crate::domain::notice_step::NoticeStep;

fn read_step(key: String) -> deserialize::Result<NoticeStep> {
    NoticeStep::parse(&key)
        .ok_or_else(|| format!("stored step {key:?} is not a notice step").into())
}

impl ToSql<Text, Sqlite> for NoticeStep {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.key());
        Ok(IsNull::No)
    }
}
impl ToSql<Text, Pg> for NoticeStep {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        std::io::Write::write_all(out, self.key().as_bytes())?;
        Ok(IsNull::No)
    }
}
impl ToSql<Text, MultiBackend> for NoticeStep {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}
impl FromSql<Text, Sqlite> for NoticeStep {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        read_step(<String as FromSql<Text, Sqlite>>::from_sql(value)?)
    }
}
impl FromSql<Text, Pg> for NoticeStep {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        read_step(<String as FromSql<Text, Pg>>::from_sql(value)?)
    }
}
impl FromSql<Text, MultiBackend> for NoticeStep {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}
