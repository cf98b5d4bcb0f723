//! What went wrong, in the domain's words. Services, jobs and the command line
//! speak `Error`: a record not found or out of sight, a role that may not, the
//! fields at fault, a stale version, a transition the life cycle refuses, a
//! named conflict (`Conflict`), a database that cannot be reached, or an
//! unexpected failure with its cause chain. Callers match on the variants,
//! never on code strings. The HTTP edge (`http::problem`) turns each variant
//! into a status, a stable code and a problem document, in one place; the
//! command line prints `sentence()`.
//!
//! Policy: expected conditions are variants; anything unexpected is
//! `Internal` with its cause (`source()`), logged once where it is answered.

use crate::domain::kinds::{
    BulletinStatus, ExtensionStatus, NoticeStatus, RecordStatus, ValueStatus,
};
use crate::domain::message::{Lang, Message};
use crate::domain::task_state::{TaskAction, TaskStatus};
use crate::domain::{BulletinId, TaskId};

/// A field that failed validation, and why.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub message: Message,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such record, or one the person may not see (both answer alike).
    #[error("not found")]
    NotFound,
    /// The person's role may not do this.
    #[error("forbidden for this role")]
    Forbidden,
    /// Only the task's lead unit may do this (sign for it, submit it).
    #[error("only the lead unit may do this")]
    OnlyLeadUnit,
    /// Fields at fault, each with its message.
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    /// The record is at `current`; the change was made against `sent`.
    #[error("version {sent:?} is not the current version {current}")]
    StaleVersion { sent: Option<i64>, current: i64 },
    /// The life cycle has no such step from the task's status.
    #[error("a {current} task cannot be {}", action.event_kind())]
    InvalidTransition {
        action: TaskAction,
        current: TaskStatus,
    },
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// A table (an imported file) with cells at fault, each named like `C5`,
    /// out of `rows` rows read: the whole file is refused, nothing written.
    #[error("{} cells at fault in a table of {rows} rows", cells.len())]
    InvalidTable { rows: usize, cells: Vec<FieldError> },
    /// What went wrong with one row of a table (its row number in the sheet).
    #[error("row {row}: {error}")]
    AtRow {
        row: usize,
        #[source]
        error: Box<Error>,
    },
    /// What stopped one task of a bulk change (its place in the request,
    /// from 0, and its id and code): the whole change is rolled back.
    #[error("task {task_id} (item {index}): {error}")]
    AtTask {
        index: usize,
        task_id: TaskId,
        code: String,
        #[source]
        error: Box<Error>,
    },
    /// The sign-in was refused.
    #[error("sign-in refused")]
    Unauthorized(AuthFailure),
    /// Too many failed sign-ins; try again after this many seconds.
    #[error("too many failed sign-ins")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The database cannot be reached: retryable.
    #[error("the database cannot be reached")]
    Unavailable(#[source] anyhow::Error),
    /// Unexpected: a bug or an environment fault, with its cause chain.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Why a sign-in or a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    InvalidCredentials,
    /// The token's account was deactivated, or its password, token version,
    /// role or unit changed since the token was issued.
    TokenRevoked,
}

/// What a task could not take because it is not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskUse {
    Report,
    Evidence,
    Extension,
    Instruction,
    Order,
}

/// A change refused because of what is already there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("the unit code is already taken")]
    UnitCodeTaken,
    #[error("the username is already taken")]
    UsernameTaken,
    #[error("the plan already has a task with this code")]
    TaskCodeTaken,
    #[error("an indicator with this number exists")]
    IndicatorNumberTaken,
    #[error("the unit is referred to and cannot be deleted")]
    UnitInUse,
    #[error("the last active admin cannot be deactivated or given another role")]
    LastAdmin,
    #[error("a {status} task takes no {attempted:?}")]
    TaskNotOpen {
        status: TaskStatus,
        attempted: TaskUse,
    },
    #[error("the task has no due date to extend")]
    NoDueDate,
    #[error("an extension must be requested by the due date {due}")]
    ExtensionTooLate { due: chrono::NaiveDate },
    #[error("the task already has a pending extension request")]
    ExtensionPending,
    #[error("the extension request is already {status}")]
    ExtensionDecided { status: ExtensionStatus },
    #[error("the proposal is already {status}")]
    RecordDecided { status: RecordStatus },
    #[error("the value is {status}, not submitted")]
    ValueNotSubmitted { status: ValueStatus },
    #[error("the value is verified and cannot change")]
    ValueVerified,
    #[error("there is already a bulletin ({id}) for this period")]
    BulletinExists {
        id: BulletinId,
        status: BulletinStatus,
    },
    #[error("the bulletin is published and cannot change")]
    BulletinPublished,
    #[error("the notice is {status}, not dead")]
    NoticeNotDead { status: NoticeStatus },
    /// Evidence sent for a cancelled task (said without its status, as the
    /// API always has: `TaskNotOpen` would add `current_status`).
    #[error("a cancelled task takes no evidence")]
    EvidenceOnCancelled,
    #[error("a {status} task's evidence stays as it is")]
    EvidenceFixed { status: TaskStatus },
    /// The instruction already has its reply (another report answered it).
    #[error("the instruction is already replied to")]
    InstructionReplied,
    /// The supervision order already has its receipt (another report).
    #[error("the supervision order is already replied to")]
    OrderReplied,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// One field is wrong.
    pub fn invalid_field(field: impl Into<String>, message: Message) -> Error {
        Error::Invalid(vec![FieldError {
            field: field.into(),
            message,
        }])
    }

    /// A `version` that is not the record's current one.
    pub fn stale(sent: i64, current: i64) -> Error {
        Error::StaleVersion {
            sent: Some(sent),
            current,
        }
    }

    /// `Conflict` when `err` is a unique-constraint violation (the record is
    /// already there), the database error otherwise.
    pub fn unique_or(err: diesel::result::Error, conflict: Conflict) -> Error {
        if crate::db::is_unique_violation(&err) {
            Error::Conflict(conflict)
        } else {
            err.into()
        }
    }

    /// What went wrong, for a person, in both languages.
    pub fn message(&self) -> Message {
        match self {
            Error::NotFound => Message::new("未找到该资源", "no such resource"),
            Error::Forbidden => Message::new("您的角色无权执行此操作", "your role may not do this"),
            Error::OnlyLeadUnit => Message::new(
                "只有牵头单位可以执行此操作",
                "only the lead unit may do this",
            ),
            Error::Invalid(_) | Error::InvalidTable { .. } => {
                Message::new("提交的数据未通过校验", "the request has invalid fields")
            }
            Error::AtRow { error, .. } => error.message(),
            Error::AtTask {
                index, code, error, ..
            } => {
                let inner = error.message();
                Message::owned(
                    format!(
                        "第 {} 项（任务 {code}）：{}；全部未作更改",
                        index + 1,
                        inner.get(Lang::Zh)
                    ),
                    format!(
                        "item {} (task {code}): {}; nothing was changed",
                        index + 1,
                        inner.get(Lang::En)
                    ),
                )
            }
            Error::StaleVersion {
                sent: Some(sent),
                current,
            } if sent > current => Message::owned(
                format!("版本号 {sent} 不是当前版本（当前为 {current}），请刷新后重试"),
                format!(
                    "version {sent} is not the current version (it is {current}); reload the record and try again"
                ),
            ),
            Error::StaleVersion { .. } => Message::new(
                "该记录已被他人修改，请刷新后重试",
                "the record was changed by someone else; reload it and try again",
            ),
            Error::InvalidTransition { action, current } => Message::owned(
                format!(
                    "任务当前状态为“{}”，不能执行该操作（{}）",
                    current.zh(),
                    action.as_str()
                ),
                format!(
                    "a task in status {} cannot be {}",
                    current.as_str(),
                    action.event_kind()
                ),
            ),
            Error::Conflict(c) => c.message(),
            Error::Unauthorized(AuthFailure::InvalidCredentials) => {
                Message::new("用户名或密码错误", "wrong username or password")
            }
            Error::Unauthorized(AuthFailure::TokenRevoked) => Message::new(
                "登录已失效（密码、角色或单位已修改，或账号已停用），请重新登录",
                "the access token was revoked (password, role or unit changed, or account deactivated); sign in again",
            ),
            Error::TooManyAttempts { retry_after_secs } => Message::owned(
                format!("登录失败次数过多，请在 {retry_after_secs} 秒后重试"),
                format!("too many failed sign-ins; try again in {retry_after_secs} seconds"),
            ),
            Error::Unavailable(_) => Message::new(
                "服务暂时不可用，请稍后重试",
                "the service is unavailable; try again later",
            ),
            Error::Internal(_) => Message::new(
                "服务器内部错误，已记录",
                "internal error; it has been logged",
            ),
        }
    }

    /// The fields at fault, if any.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            Error::Invalid(fields) | Error::InvalidTable { cells: fields, .. } => fields,
            Error::AtRow { error, .. } | Error::AtTask { error, .. } => error.fields(),
            _ => &[],
        }
    }

    /// The error as one line for a person at a terminal: the message, each
    /// field at fault, and for an unexpected failure its cause chain.
    pub fn sentence(&self, lang: Lang) -> String {
        let mut line = match self {
            Error::InvalidTable { rows, cells } => Message::owned(
                format!(
                    "表格有 {} 处错误（共 {rows} 行），未导入任何内容",
                    cells.len()
                ),
                format!(
                    "the table has {} bad cells ({rows} rows read); nothing was imported",
                    cells.len()
                ),
            )
            .get(lang)
            .to_string(),
            Error::AtRow { row, error } => {
                let at = Message::owned(format!("第 {row} 行："), format!("row {row}: "));
                return format!("{}{}", at.get(lang), error.sentence(lang));
            }
            _ => self.message().get(lang).to_string(),
        };
        for f in self.fields() {
            line.push_str(&format!("; {}: {}", f.field, f.message.get(lang)));
        }
        if let Error::Internal(cause) | Error::Unavailable(cause) = self {
            line.push_str(&format!(" ({cause:#})"));
        }
        line
    }
}

impl Conflict {
    pub fn message(&self) -> Message {
        match self {
            Conflict::UnitCodeTaken => Message::new("单位代码已被使用", "the unit code is already taken"),
            Conflict::UsernameTaken => Message::new("用户名已被使用", "the username is already taken"),
            Conflict::TaskCodeTaken => Message::new(
                "该方案中已有相同编号的任务",
                "the plan already has a task with this code",
            ),
            Conflict::IndicatorNumberTaken => {
                Message::new("指标序号已存在", "an indicator with this number exists")
            }
            Conflict::UnitInUse => Message::new(
                "该单位已被引用，不能删除；请改为停用（active=false）",
                "the unit is referred to and cannot be deleted; deactivate it instead (active=false)",
            ),
            Conflict::LastAdmin => Message::new(
                "不能停用或降级最后一个管理员账号",
                "the last active admin cannot be deactivated or given another role",
            ),
            Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Report,
            } => Message::owned(
                format!("任务当前状态为“{}”，不能反馈进展", status.zh()),
                format!("a task in status {status} takes no progress reports"),
            ),
            Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Evidence,
            } => Message::owned(
                format!("任务当前状态为“{}”，不能上传材料", status.zh()),
                format!("a task in status {status} takes no evidence"),
            ),
            Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Extension,
            } => Message::owned(
                format!("任务当前状态为“{}”，不能申请延期", status.zh()),
                format!("a task in status {status} cannot be extended"),
            ),
            Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Instruction,
            } => Message::owned(
                format!("任务当前状态为“{}”，不能作出批示", status.zh()),
                format!("a task in status {status} takes no instructions"),
            ),
            Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Order,
            } => Message::owned(
                format!("任务当前状态为“{}”，不能下发督办单", status.zh()),
                format!("a task in status {status} takes no supervision orders"),
            ),
            Conflict::NoDueDate => Message::new(
                "该任务没有完成时限，无需延期",
                "the task has no due date to extend",
            ),
            Conflict::ExtensionTooLate { due } => Message::owned(
                format!("延期申请须在完成时限（{due}）前提出；已逾期的任务请联系创建办调整"),
                format!("an extension must be requested by the due date ({due}); ask the office to change an overdue task's date"),
            ),
            Conflict::ExtensionPending => Message::new(
                "该任务已有待审批的延期申请",
                "the task already has a pending extension request",
            ),
            Conflict::ExtensionDecided { .. } => {
                Message::new("该延期申请已处理", "the request has already been decided")
            }
            Conflict::RecordDecided { .. } => {
                Message::new("该问责建议已处理", "the proposal has already been decided")
            }
            Conflict::ValueNotSubmitted { .. } => Message::new(
                "只有已报送待核验的数据才能核验或退回",
                "only a submitted value can be verified or returned",
            ),
            Conflict::ValueVerified => Message::new(
                "该期数据已核验，不能再修改",
                "the value is verified and cannot change",
            ),
            Conflict::BulletinExists { .. } => Message::new(
                "该期间已有督查通报",
                "there is already a bulletin for this period",
            ),
            Conflict::BulletinPublished => Message::new(
                "通报已印发，不能再修改",
                "the bulletin is published and cannot change",
            ),
            Conflict::NoticeNotDead { .. } => {
                Message::new("只能重发已失败的通知", "only a dead notice can be retried")
            }
            Conflict::EvidenceOnCancelled => Message::new(
                "已撤销的任务不能上传材料",
                "a cancelled task takes no evidence",
            ),
            Conflict::EvidenceFixed { .. } => Message::new(
                "任务已提交或已结束，佐证材料不能再删除",
                "the task is submitted or closed; its evidence can no longer be removed",
            ),
            Conflict::InstructionReplied => Message::new(
                "该批示已反馈落实情况，不能重复反馈",
                "the instruction has already been replied to",
            ),
            Conflict::OrderReplied => Message::new(
                "该督办单已回执，不能重复回执",
                "the supervision order has already been replied to",
            ),
        }
    }
}

/// A lost connection anywhere in a cause chain is a passing outage, not a bug.
pub fn connection_lost(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<diesel::result::Error>()
            .is_some_and(crate::db::is_connection_lost)
            || cause.is::<diesel::r2d2::PoolError>()
    })
}

impl From<anyhow::Error> for Error {
    fn from(err: anyhow::Error) -> Self {
        if connection_lost(&err) {
            Error::Unavailable(err)
        } else {
            Error::Internal(err)
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        anyhow::Error::new(err)
            .context("database query failed")
            .into()
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable(anyhow::Error::new(err).context("no database connection"))
    }
}

/// Collects field errors so that a client learns of every bad field at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Keeps the value when `result` is Ok, records the field error otherwise.
    pub fn check<T>(&mut self, field: &str, result: std::result::Result<T, Message>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: Message) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ok when no field failed.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    pub fn into_error(self) -> Error {
        Error::Invalid(self.errors)
    }

    /// The field errors, for a caller that names fields its own way (an
    /// import naming cells).
    pub fn into_fields(self) -> Vec<FieldError> {
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_ahead_is_told_apart_from_a_stale_one() {
        let ahead = Error::stale(9, 3).message();
        assert_eq!(ahead.zh, "版本号 9 不是当前版本（当前为 3），请刷新后重试");
        let behind = Error::stale(2, 3).message();
        assert_eq!(
            behind.en,
            "the record was changed by someone else; reload it and try again"
        );
    }

    #[test]
    fn a_lost_connection_is_unavailable_wherever_it_sits_in_the_chain() {
        use diesel::result::{DatabaseErrorKind, Error as DieselError};
        let lost = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("connection lost".to_string()),
        );
        assert!(matches!(Error::from(lost), Error::Unavailable(_)));
        let wrapped =
            anyhow::Error::new(DieselError::BrokenTransactionManager).context("assessing");
        assert!(matches!(Error::from(wrapped), Error::Unavailable(_)));
        assert!(matches!(
            Error::from(DieselError::NotFound),
            Error::Internal(_)
        ));
    }

    #[test]
    fn a_sentence_names_the_fields_and_the_cause() {
        let mut v = Validator::default();
        v.add("due_date", Message::new("日期无效", "not a date"));
        assert_eq!(
            v.into_error().sentence(Lang::En),
            "the request has invalid fields; due_date: not a date"
        );
        let internal = Error::from(anyhow::anyhow!("disk full").context("writing the outbox"));
        assert_eq!(
            internal.sentence(Lang::En),
            "internal error; it has been logged (writing the outbox: disk full)"
        );
    }
}
