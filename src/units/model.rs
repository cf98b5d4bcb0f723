//! Unit rows as stored, and the API's request and response shapes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::units;
use crate::domain::kinds::{NoticeMode, WebhookKind};
use crate::domain::{UnitId, UnitKind};
use crate::http::json::double_option;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    /// JSON array of addresses.
    pub contact_emails: String,
    pub head_name: Option<String>,
    pub head_email: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub webhook_kind: Option<WebhookKind>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub notice_mode: NoticeMode,
    /// JSON array of other names (别名).
    pub aliases: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = units)]
pub struct NewUnitRow {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    pub contact_emails: String,
    pub head_name: Option<String>,
    pub head_email: Option<String>,
    pub webhook_kind: Option<WebhookKind>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub notice_mode: NoticeMode,
    pub aliases: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A unit as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<UnitId>,
    /// Other names the unit goes by (别名, e.g. 经开区管委会); the task import
    /// matches them like the name.
    pub aliases: Vec<String>,
    /// Where the unit's notices go.
    pub contact_emails: Vec<String>,
    /// The unit head (主要负责人), copied on supervision orders.
    pub head_name: Option<String>,
    pub head_email: Option<String>,
    /// Group robot for notices: wecom, dingtalk or generic (null: none).
    pub webhook_kind: Option<WebhookKind>,
    pub webhook_url: Option<String>,
    /// Whether a signing secret is set (the secret itself is never shown).
    pub webhook_secret_set: bool,
    /// per_task (one email per notice) or digest (one daily email listing all
    /// the unit's due and overdue tasks).
    pub notice_mode: NoticeMode,
    pub active: bool,
    /// Send back with a PATCH; a stale one gets 409.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UnitView {
    pub fn from_row(row: UnitRow) -> anyhow::Result<UnitView> {
        Ok(UnitView {
            id: row.id,
            kind: row.kind,
            contact_emails: serde_json::from_str(&row.contact_emails)?,
            aliases: serde_json::from_str(&row.aliases)?,
            code: row.code,
            name: row.name,
            parent_id: row.parent_id,
            head_name: row.head_name,
            head_email: row.head_email,
            webhook_kind: row.webhook_kind,
            webhook_url: row.webhook_url,
            webhook_secret_set: row.webhook_secret.is_some(),
            notice_mode: row.notice_mode,
            active: row.active,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    /// Unique; 1–32 of letters, digits, `.`, `_`, `-`.
    pub code: String,
    pub name: String,
    /// office, township, park, department or other.
    pub kind: String,
    pub parent_id: Option<UnitId>,
    /// Other names (别名), each unlike every other unit's name and aliases.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub contact_emails: Vec<String>,
    pub head_name: Option<String>,
    pub head_email: Option<String>,
    /// wecom, dingtalk or generic: post notices to this group robot too.
    pub webhook_kind: Option<String>,
    /// http(s) URL of the robot.
    pub webhook_url: Option<String>,
    /// DingTalk signing secret, or the HMAC key of a generic webhook.
    pub webhook_secret: Option<String>,
    /// per_task (default) or digest.
    pub notice_mode: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnit {
    /// The `version` last read.
    pub version: i64,
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<UnitId>>,
    /// Replaces the aliases (别名).
    pub aliases: Option<Vec<String>>,
    pub contact_emails: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub head_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub head_email: Option<Option<String>>,
    /// Set all three together; null removes the robot.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_kind: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_secret: Option<Option<String>>,
    /// per_task or digest.
    pub notice_mode: Option<String>,
    /// false deactivates the unit (it stays in history and reports).
    pub active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    pub kind: Option<String>,
    pub active: Option<bool>,
    pub parent_id: Option<i64>,
    /// Matches code or name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}
