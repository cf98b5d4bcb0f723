//! Evidence (佐证材料): files attached to a task by its units or the office,
//! checked against a size limit and a content-type allow-list, recorded with
//! their sha256.

use actix_multipart::Multipart;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::events::{self, NewEvent};
use super::visibility::{self, InSight, Scope};
use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::attachments;
use crate::db::DbConnection;
use crate::domain::kinds::StorageKind;
use crate::domain::{AttachmentId, Message, Role, TaskId, UnitId, UserId};
use crate::error::{Conflict, Error, Result};
use crate::http::multipart::read_file;
use crate::http::problem::ApiResult;
use crate::storage::Storage;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub task_id: TaskId,
    pub unit_id: Option<UnitId>,
    pub uploaded_by: UserId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage: StorageKind,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: AttachmentId,
    pub task_id: TaskId,
    pub unit_id: Option<UnitId>,
    pub uploaded_by: UserId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for AttachmentView {
    fn from(r: AttachmentRow) -> Self {
        AttachmentView {
            id: r.id,
            task_id: r.task_id,
            unit_id: r.unit_id,
            uploaded_by: r.uploaded_by,
            filename: r.filename,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// A checked evidence file.
pub struct Upload {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Reads the uploaded file and checks its type against the allow-list.
pub async fn read_upload(
    multipart: Multipart,
    limit: usize,
    allowed: &[String],
) -> ApiResult<Upload> {
    Ok(check_upload(read_file(multipart, limit).await?, allowed)?)
}

/// Judges a received file's type from its content and name (never from the
/// type the browser declared) and checks it against the allow-list.
pub fn check_upload(file: crate::http::multipart::FilePart, allowed: &[String]) -> Result<Upload> {
    let content_type = crate::domain::file_type::judge(&file.filename, &file.bytes)
        .map_err(|m| Error::invalid_field("file", m))?;
    if !allowed.iter().any(|a| a == content_type) {
        return Err(Error::invalid_field(
            "file",
            Message::owned(
                format!(
                    "不接受该文件类型（{content_type}），允许：{}",
                    allowed.join("、")
                ),
                format!(
                    "content type {content_type} is not accepted; allowed: {}",
                    allowed.join(", ")
                ),
            ),
        ));
    }
    let sha256 = hex::encode(Sha256::digest(&file.bytes));
    Ok(Upload {
        filename: file.filename,
        content_type: content_type.to_string(),
        bytes: file.bytes,
        sha256,
    })
}

/// Units taking part in the task, and the office, may attach evidence.
fn check_uploader(auth: &AuthUser) -> Result<()> {
    if auth.role == Role::Unit {
        auth.permit(Permission::ActForUnit)
    } else {
        auth.permit(Permission::ManageTasks)
    }
}

pub fn store(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    upload: Upload,
    storage: &Storage,
    now: NaiveDateTime,
) -> Result<AttachmentRow> {
    check_uploader(auth)?;
    conn.write(|conn| {
        let task = visibility::lock_visible(conn, scope, id)?;
        if task.status == crate::domain::task_state::TaskStatus::Cancelled {
            return Err(Conflict::EvidenceOnCancelled.into());
        }
        storage.put(conn, &upload.sha256, &upload.bytes)?;
        let size = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
        let row: AttachmentRow = diesel::insert_into(attachments::table)
            .values((
                attachments::task_id.eq(task.id),
                attachments::unit_id.eq(auth.unit_id),
                attachments::uploaded_by.eq(auth.id),
                attachments::filename.eq(&upload.filename),
                attachments::content_type.eq(&upload.content_type),
                attachments::size.eq(size),
                attachments::sha256.eq(&upload.sha256),
                attachments::storage.eq(storage.kind()),
                attachments::created_at.eq(now),
            ))
            .returning(attachments::all_columns)
            .get_result(conn)?;
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: "attachment_added",
                actor: Some(auth.id),
                unit_id: auth.unit_id,
                note: Some(upload.filename.clone()),
                data: Some(serde_json::json!({ "attachment_id": row.id, "sha256": row.sha256, "size": size })),
            },
            now,
        )?;
        audit::record_change(conn, Some(auth.id), "create", ("attachment", row.id.0), None, Some(&row), now)?;
        Ok(row)
    })
}

/// Removes an upload its uploader regrets, while the task is not yet
/// submitted (afterwards the evidence is what the office judged). The
/// timeline and the audit trail keep the removal; the stored bytes stay, as
/// other uploads may share them (storage is by content hash).
pub fn remove(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    attachment: AttachmentId,
    now: NaiveDateTime,
) -> Result<()> {
    conn.write(|conn| {
        let task = visibility::lock_visible(conn, scope, id)?;
        let row: AttachmentRow = attachments::table
            .find(attachment)
            .filter(attachments::task_id.eq(task.id))
            .select(AttachmentRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        if row.uploaded_by != auth.id {
            return Err(Error::Forbidden);
        }
        let status = task.status;
        use crate::domain::task_state::TaskStatus;
        if !matches!(status, TaskStatus::Assigned | TaskStatus::InProgress) {
            return Err(Conflict::EvidenceFixed { status }.into());
        }
        diesel::delete(attachments::table.find(row.id)).execute(conn)?;
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: "attachment_removed",
                actor: Some(auth.id),
                unit_id: auth.unit_id,
                note: Some(row.filename.clone()),
                data: Some(serde_json::json!({ "attachment_id": row.id, "sha256": row.sha256 })),
            },
            now,
        )?;
        audit::record_change(
            conn,
            Some(auth.id),
            "delete",
            ("attachment", row.id.0),
            Some(&row),
            None,
            now,
        )?;
        Ok(())
    })
}

pub fn list(conn: &mut DbConnection, scope: Scope, id: TaskId) -> Result<Vec<AttachmentView>> {
    let task = visibility::in_sight(conn, scope, id)?;
    list_in_sight(conn, task)
}

/// `list` for a task already shown to be in sight.
pub fn list_in_sight(conn: &mut DbConnection, task: InSight) -> Result<Vec<AttachmentView>> {
    let rows: Vec<AttachmentRow> = attachments::table
        .filter(attachments::task_id.eq(task.id()))
        .select(AttachmentRow::as_select())
        .order(attachments::id.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(AttachmentView::from).collect())
}

/// The attachment row and its bytes, if the caller may see the task.
pub fn fetch(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
    attachment: AttachmentId,
    storage: &Storage,
    data_dir: &std::path::Path,
) -> Result<(AttachmentRow, Vec<u8>)> {
    let task = visibility::find_visible(conn, scope, id)?;
    let row: AttachmentRow = attachments::table
        .find(attachment)
        .filter(attachments::task_id.eq(task.id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let bytes = storage.get(conn, row.storage, &row.sha256, data_dir)?;
    Ok((row, bytes))
}
