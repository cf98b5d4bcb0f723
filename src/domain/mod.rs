//! Pure rules with no I/O: identifiers, roles, validated input values,
//! deadlines and unit names as written in task tables, and user-facing
//! messages. Time, when a rule needs it, comes in as an argument.

pub mod calendar;
pub mod clock;
pub mod closed;
pub mod deadline;
pub mod figures;
pub mod file_type;
pub mod ids;
pub mod indicator;
pub mod kinds;
pub mod ladder;
pub mod message;
pub mod named;
pub mod notice_step;
pub mod period;
pub mod report_cycle;
pub mod role;
pub mod scoring;
pub mod task_state;
pub mod text;
pub mod traffic;
pub mod unit_kind;
pub mod unit_names;
pub mod values;

pub use deadline::Deadline;
pub use ids::{
    AttachmentId, BulletinId, EventId, ExtensionId, FeedId, IndicatorId, InstructionId, NoticeId,
    OrderId, PlanId, RecordId, ReportId, TaskId, UnitId, UserId, ValueAttachmentId, ValueId,
};
pub use message::Message;
pub use role::Role;
pub use unit_kind::UnitKind;
