//! Evidence (佐证材料): files attached to a task by its units or the office,
//! checked against a size limit and a content-type allow-list, recorded with
//! their sha256.

use actix_multipart::Multipart;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::events::{self, NewEvent};
use super::visibility::{self, Scope};
use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::attachments;
use crate::db::DbConnection;
use crate::domain::{Message, Role, TaskId};
use crate::error::{ApiError, ApiResult};
use crate::storage::Storage;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub task_id: i64,
    pub unit_id: Option<i64>,
    pub uploaded_by: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub task_id: i64,
    pub unit_id: Option<i64>,
    pub uploaded_by: i64,
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

/// A file read from a multipart upload.
pub struct Upload {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

fn too_large(limit: usize) -> ApiError {
    ApiError::payload_too_large(limit)
}

/// Keeps the last path segment, without control characters, at most 200 characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned.trim().to_string()
    }
}

/// Reads the `file` part of a multipart body, enforcing the limit while reading.
pub async fn read_upload(
    mut multipart: Multipart,
    limit: usize,
    allowed: &[String],
) -> ApiResult<Upload> {
    let unreadable = || {
        ApiError::bad_request(
            "malformed_multipart",
            Message::new("无法读取上传的文件", "the multipart body could not be read"),
        )
    };
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        if field.name() != Some("file") {
            continue;
        }
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(clean_filename)
            .unwrap_or_else(|| "file".into());
        let content_type = field
            .content_type()
            .map(|m| m.essence_str().to_ascii_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        if !allowed.contains(&content_type) {
            return Err(ApiError::invalid_field(
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
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            if bytes.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(ApiError::invalid_field(
                "file",
                Message::new("文件为空", "the file is empty"),
            ));
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        return Ok(Upload {
            filename,
            content_type,
            bytes,
            sha256,
        });
    }
    Err(ApiError::invalid_field(
        "file",
        Message::new(
            "缺少文件（表单字段 file）",
            "no file in the form field `file`",
        ),
    ))
}

/// Units taking part in the task, and the office, may attach evidence.
fn check_uploader(auth: &AuthUser) -> ApiResult<()> {
    if auth.role == Role::Unit {
        auth.require(Permission::ActForUnit)
    } else {
        auth.require(Permission::ManageTasks)
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
) -> ApiResult<AttachmentRow> {
    check_uploader(auth)?;
    conn.write(|conn| {
        let (task, _) = visibility::load_visible(conn, scope, id)?;
        if task.status()? == crate::domain::task_state::TaskStatus::Cancelled {
            return Err(ApiError::conflict(
                "task_not_open",
                Message::new("已撤销的任务不能上传材料", "a cancelled task takes no evidence"),
            ));
        }
        storage.put(conn, &upload.sha256, &upload.bytes)?;
        let size = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
        let row: AttachmentRow = diesel::insert_into(attachments::table)
            .values((
                attachments::task_id.eq(task.id),
                attachments::unit_id.eq(auth.unit_id.map(|u| u.0)),
                attachments::uploaded_by.eq(auth.id.0),
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
                unit_id: auth.unit_id.map(|u| u.0),
                note: Some(upload.filename.clone()),
                data: Some(serde_json::json!({ "attachment_id": row.id, "sha256": row.sha256, "size": size })),
            },
            now,
        )?;
        audit::record_change(conn, Some(auth.id), "create", ("attachment", row.id), None, Some(&row), now)?;
        Ok(row)
    })
}

pub fn list(conn: &mut DbConnection, scope: Scope, id: TaskId) -> ApiResult<Vec<AttachmentView>> {
    let (task, _) = visibility::load_visible(conn, scope, id)?;
    let rows: Vec<AttachmentRow> = attachments::table
        .filter(attachments::task_id.eq(task.id))
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
    attachment: i64,
    storage: &Storage,
    data_dir: &std::path::Path,
) -> ApiResult<(AttachmentRow, Vec<u8>)> {
    let (task, _) = visibility::load_visible(conn, scope, id)?;
    let row: AttachmentRow = attachments::table
        .find(attachment)
        .filter(attachments::task_id.eq(task.id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(ApiError::not_found)?;
    let bytes = storage.get(conn, &row.storage, &row.sha256, data_dir)?;
    Ok((row, bytes))
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\证明\\验收报告.pdf"), "验收报告.pdf");
        assert_eq!(clean_filename("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_filename("   "), "file");
    }
}
