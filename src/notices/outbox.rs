//! The outbox as the office sees it: the notices (a unit clerk only the own
//! unit's), a dead notice sent again, and the queue by status.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Deserialize;

use super::{NoticeRow, NoticeView};
use crate::db::schema::notices;
use crate::db::DbConnection;
use crate::domain::kinds::NoticeStatus;
use crate::domain::{NoticeId, TaskId, UnitId};
use crate::error::{Conflict, Error, Result};
use crate::http::{Page, Paging};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeFilter {
    pub task_id: Option<TaskId>,
    pub unit_id: Option<UnitId>,
    // Text, as before: an unknown status or step matches nothing (an empty
    // page) rather than being refused.
    pub status: Option<String>,
    pub step: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Notices, newest first; `own_unit` limits them to one unit's.
pub fn list(
    conn: &mut DbConnection,
    own_unit: Option<UnitId>,
    filter: &NoticeFilter,
    paging: Paging,
) -> QueryResult<Page<NoticeView>> {
    let query = || {
        let mut q = notices::table.into_boxed();
        if let Some(u) = own_unit {
            q = q.filter(notices::unit_id.eq(u));
        }
        if let Some(t) = filter.task_id {
            q = q.filter(notices::task_id.eq(t));
        }
        if let Some(u) = filter.unit_id {
            q = q.filter(notices::unit_id.eq(u));
        }
        if let Some(s) = &filter.status {
            q = q.filter(notices::status.eq(s.clone()));
        }
        if let Some(s) = &filter.step {
            q = q.filter(notices::step.eq(s.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<NoticeRow> = query()
        .select(NoticeRow::as_select())
        .order(notices::id.desc())
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok(Page::new(
        rows.into_iter().map(NoticeView::from_row).collect(),
        total,
        paging,
    ))
}

/// Sends a dead notice again: pending from `now`, its attempts kept (they
/// are its history) and its revivals counted. Only a dead notice: any other
/// is a conflict that says where it stands.
pub fn retry(
    conn: &mut DbConnection,
    id: NoticeId,
    now: chrono::NaiveDateTime,
) -> Result<NoticeRow> {
    conn.write(|conn| {
        // The state is part of the condition: of two offices retrying at
        // once, one does it and the other is told it is not dead.
        let revived = diesel::update(
            notices::table
                .find(id)
                .filter(notices::status.eq(NoticeStatus::Dead)),
        )
        .set((
            notices::status.eq(NoticeStatus::Pending),
            notices::next_attempt_at.eq(now),
            notices::revivals.eq(notices::revivals + 1),
        ))
        .execute(conn)?;
        if revived == 1 {
            return Ok(notices::table
                .find(id)
                .select(NoticeRow::as_select())
                .first(conn)?);
        }
        let status: NoticeStatus = notices::table
            .find(id)
            .select(notices::status)
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        Err(Conflict::NoticeNotDead { status }.into())
    })
}

/// How many notices stand in each status.
pub fn queue(conn: &mut DbConnection) -> QueryResult<BTreeMap<String, i64>> {
    let counts: Vec<(String, i64)> = notices::table
        .group_by(notices::status)
        .select((notices::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(counts.into_iter().collect())
}
