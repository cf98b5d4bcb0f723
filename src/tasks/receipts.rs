//! What a task's progress report answers: the reply's view (and `Replies`,
//! which reads a list's replies at once), and the
//! supervision orders (督办单) it answers as their receipts (回执): recorded in the report's transaction, decided by
//! the database (only an order without a receipt takes one). Here, beside
//! the reports, rather than in `orders`, which reads tasks.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{progress_reports, supervision_orders};
use crate::db::DbConnection;
use crate::domain::{Message, OrderId, ReportId, TaskId, UnitId};
use crate::error::{Conflict, Error, Result};

/// The lead unit's progress report that answers an instruction (批示落实情况)
/// or a supervision order (回执).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplyView {
    pub report_id: ReportId,
    pub unit_id: UnitId,
    pub percent: i32,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// The reports that answered instructions or orders, by report, read in one
/// query for a list; `view` pairs each with when its reply was recorded.
pub(crate) struct Replies(HashMap<ReportId, (UnitId, i32, String)>);

impl Replies {
    /// Reads the reports `reports` (the rows' reply report ids).
    pub(crate) fn load(
        conn: &mut DbConnection,
        reports: impl IntoIterator<Item = ReportId>,
    ) -> QueryResult<Self> {
        let ids: Vec<ReportId> = reports.into_iter().collect();
        // Most tasks have no replied instruction or order: no statement then.
        if ids.is_empty() {
            return Ok(Self(HashMap::new()));
        }
        Ok(Self(
            progress_reports::table
                .filter(progress_reports::id.eq_any(&ids))
                .select((
                    progress_reports::id,
                    progress_reports::unit_id,
                    progress_reports::percent,
                    progress_reports::body,
                ))
                .load::<(ReportId, UnitId, i32, String)>(conn)?
                .into_iter()
                .map(|(id, unit, percent, body)| (id, (unit, percent, body)))
                .collect(),
        ))
    }

    /// The reply of a row answered by `report` at `at`: none until both are
    /// set and the report was read.
    pub(crate) fn view(
        &self,
        report: Option<ReportId>,
        at: Option<NaiveDateTime>,
    ) -> Option<ReplyView> {
        let report_id = report?;
        let (unit_id, percent, body) = self.0.get(&report_id)?;
        Some(ReplyView {
            report_id,
            unit_id: *unit_id,
            percent: *percent,
            body: body.clone(),
            at: at?.and_utc(),
        })
    }
}

/// Records `report` as the receipt (回执) of `order` on `task`, in the
/// report's transaction. Only a row with no reply yet is changed, so of two
/// replies the second finds none and is refused (its report rolled back
/// with it).
pub(crate) fn answer_order(
    conn: &mut DbConnection,
    task: TaskId,
    order: OrderId,
    report: ReportId,
    now: NaiveDateTime,
) -> Result<()> {
    let changed = diesel::update(
        supervision_orders::table
            .find(order)
            .filter(supervision_orders::task_id.eq(task))
            .filter(supervision_orders::reply_report_id.is_null()),
    )
    .set((
        supervision_orders::reply_report_id.eq(report),
        supervision_orders::replied_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 1 {
        return Ok(());
    }
    let exists: Option<OrderId> = supervision_orders::table
        .find(order)
        .filter(supervision_orders::task_id.eq(task))
        .select(supervision_orders::id)
        .first(conn)
        .optional()?;
    match exists {
        Some(_) => Err(Conflict::OrderReplied.into()),
        None => Err(Error::invalid_field(
            "order_id",
            Message::new(
                "该任务没有这份督办单",
                "the task has no such supervision order",
            ),
        )),
    }
}

/// The reports that answered orders of `task`, by report.
pub(crate) fn order_receipts(
    conn: &mut DbConnection,
    task: TaskId,
) -> QueryResult<HashMap<ReportId, OrderId>> {
    Ok(supervision_orders::table
        .filter(supervision_orders::task_id.eq(task))
        .filter(supervision_orders::reply_report_id.is_not_null())
        .select((supervision_orders::reply_report_id, supervision_orders::id))
        .load::<(Option<ReportId>, OrderId)>(conn)?
        .into_iter()
        .filter_map(|(r, o)| Some((r?, o)))
        .collect())
}
