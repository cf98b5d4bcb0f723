//! Indicator values (数据报送): the lead unit reports a value (or, for a
//! target in words, whether it is met) for each reporting period, with
//! evidence; the office verifies or returns it. A period's report is due on
//! the indicator's report day of the following month; one not submitted by
//! then is overdue, climbs the notice ladder and counts against the lead unit
//! in rankings like a task (see `docs/indicators.md`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{load_visible, IndicatorRow, Sight};
use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::{indicator_attachments, indicator_values, indicators};
use crate::db::DbConnection;
use crate::domain::indicator::{attainment, owed_periods, Attainment, Comparison};
use crate::domain::kinds::{Qualitative, StorageKind, ValueStatus};
use crate::domain::period::Period;
use crate::domain::values::BoundedText;
use crate::domain::{IndicatorId, Message, Role, UnitId, UserId, ValueAttachmentId, ValueId};
use crate::error::{Conflict, Error, Result, Validator};
use crate::storage::Storage;
use crate::tasks::attachments::Upload;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = indicator_values)]
pub struct ValueRow {
    pub id: ValueId,
    pub indicator_id: IndicatorId,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub due_date: NaiveDate,
    pub value: Option<f64>,
    pub qualitative: Option<Qualitative>,
    pub note: Option<String>,
    pub status: ValueStatus,
    pub submitted_by: UserId,
    pub submitted_on: NaiveDate,
    pub submitted_at: NaiveDateTime,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_note: Option<String>,
    pub version: i64,
}

impl ValueRow {
    /// Submitted or verified: the unit has reported (a returned value has not).
    pub fn reported(&self) -> bool {
        self.status != ValueStatus::Returned
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValueView {
    pub id: ValueId,
    pub indicator_id: IndicatorId,
    pub period: String,
    pub due_date: NaiveDate,
    pub value: Option<f64>,
    /// For targets in words: met or not_met as stated by the unit.
    pub qualitative: Option<Qualitative>,
    pub note: Option<String>,
    /// submitted, verified or returned
    pub status: ValueStatus,
    /// met, not_met or no_target against the indicator's target.
    pub attainment: Attainment,
    pub submitted_by: UserId,
    pub submitted_on: NaiveDate,
    pub submitted_at: DateTime<Utc>,
    /// Days after the due date it was submitted (0 when on time).
    pub days_late: i64,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub version: i64,
}

impl ValueView {
    pub fn of(row: ValueRow, indicator: &IndicatorRow) -> ValueView {
        ValueView {
            attainment: attainment(
                &indicator.target(),
                row.value,
                row.qualitative.map(|q| q == Qualitative::Met),
            ),
            days_late: (row.submitted_on - row.due_date).num_days().max(0),
            id: row.id,
            indicator_id: row.indicator_id,
            period: row.period,
            due_date: row.due_date,
            value: row.value,
            qualitative: row.qualitative,
            note: row.note,
            status: row.status,
            submitted_by: row.submitted_by,
            submitted_on: row.submitted_on,
            submitted_at: row.submitted_at.and_utc(),
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(|t| t.and_utc()),
            decision_note: row.decision_note,
            version: row.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitValue {
    /// The reporting period: 2026-11 (monthly), 2026-Q4 (quarterly) or 2026 (yearly).
    pub period: String,
    /// Required for numeric targets.
    pub value: Option<f64>,
    /// met or not_met: required for targets in words.
    pub qualitative: Option<String>,
    pub note: Option<String>,
}

/// Only the lead unit's clerks report values.
fn check_reporter(auth: &AuthUser, indicator: &IndicatorRow) -> Result<()> {
    auth.permit(Permission::ActForUnit)?;
    if auth.role != Role::Unit || auth.unit_id != indicator.lead_unit_id {
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// Submits (or, until verified, corrects or resubmits) a period's value.
pub fn submit(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: IndicatorId,
    req: SubmitValue,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<ValueView> {
    conn.write(|conn| {
        // The indicator's row serialises its reporters: one value per period.
        crate::db::lock_row(conn, crate::db::Locked::Indicators, id.0)?;
        let (indicator, _) = load_visible(conn, Sight::of(auth), id)?;
        check_reporter(auth, &indicator)?;
        let mut v = Validator::default();
        let frequency = indicator.frequency;
        let period = match Period::parse(&req.period) {
            Ok(p) if !frequency.fits(&p) => {
                v.add(
                    "period",
                    Message::owned(
                        format!(
                            "该指标{}报送，期间应形如 {}",
                            frequency.name_zh(),
                            frequency.period_of(today).label()
                        ),
                        format!(
                            "the indicator is reported {}; give a period like {}",
                            frequency.as_str(),
                            frequency.period_of(today).label()
                        ),
                    ),
                );
                None
            }
            Ok(p) if p.start > today => {
                v.add(
                    "period",
                    Message::new("不能报送尚未开始的期间", "the period has not begun"),
                );
                None
            }
            Ok(p) => Some(p),
            Err(m) => {
                v.add("period", m);
                None
            }
        };
        let target = indicator.target();
        match target.comparison {
            Comparison::Ge | Comparison::Le | Comparison::Eq if req.value.is_none() => v.add(
                "value",
                Message::new("该指标须填报数值", "the indicator needs a number"),
            ),
            Comparison::Qualitative if req.qualitative.is_none() => v.add(
                "qualitative",
                Message::new(
                    "该指标须说明是否达到目标（met 或 not_met）",
                    "say whether the target is met (met or not_met)",
                ),
            ),
            _ => {}
        }
        if req.value.is_some_and(|x| !x.is_finite()) {
            v.add("value", Message::new("数值无效", "not a number"));
        }
        let qualitative = match req.qualitative.as_deref().map(Qualitative::parse) {
            Some(Ok(q)) => Some(q),
            Some(Err(_)) => {
                v.add(
                    "qualitative",
                    Message::new(
                        "必须是 met（达到）或 not_met（未达到）",
                        "must be met or not_met",
                    ),
                );
                None
            }
            None => None,
        };
        let note = req
            .note
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .and_then(|n| v.check("note", BoundedText::parse(n, 2000)))
            .map(BoundedText::into_inner);
        let Some(period) = period else {
            return Err(v.into_error());
        };
        v.finish()?;
        let due = crate::domain::indicator::due_date(&period, indicator.report_day());
        let existing: Option<ValueRow> = indicator_values::table
            .filter(indicator_values::indicator_id.eq(id))
            .filter(indicator_values::period_start.eq(period.start))
            .select(ValueRow::as_select())
            .first(conn)
            .optional()?;
        let row: ValueRow = match &existing {
            Some(old) if old.status == ValueStatus::Verified => {
                return Err(Conflict::ValueVerified.into())
            }
            Some(old) => diesel::update(indicator_values::table.find(old.id))
                .set((
                    indicator_values::value.eq(req.value),
                    indicator_values::qualitative.eq(qualitative),
                    indicator_values::note.eq(&note),
                    indicator_values::status.eq(ValueStatus::Submitted),
                    indicator_values::submitted_by.eq(auth.id),
                    indicator_values::submitted_on.eq(today),
                    indicator_values::submitted_at.eq(now),
                    indicator_values::version.eq(old.version + 1),
                ))
                .returning(indicator_values::all_columns)
                .get_result(conn)?,
            None => diesel::insert_into(indicator_values::table)
                .values((
                    indicator_values::indicator_id.eq(id),
                    indicator_values::period.eq(period.label()),
                    indicator_values::period_start.eq(period.start),
                    indicator_values::period_end.eq(period.end),
                    indicator_values::due_date.eq(due),
                    indicator_values::value.eq(req.value),
                    indicator_values::qualitative.eq(qualitative),
                    indicator_values::note.eq(&note),
                    indicator_values::status.eq(ValueStatus::Submitted),
                    indicator_values::submitted_by.eq(auth.id),
                    indicator_values::submitted_on.eq(today),
                    indicator_values::submitted_at.eq(now),
                ))
                .returning(indicator_values::all_columns)
                .get_result(conn)?,
        };
        audit::record_change(
            conn,
            Some(auth.id),
            "submit",
            ("indicator_value", row.id.0),
            existing.as_ref(),
            Some(&row),
            now,
        )?;
        Ok(ValueView::of(row, &indicator))
    })
}

/// Verifies or returns a submitted value (office); returning needs a note.
pub fn decide(
    conn: &mut DbConnection,
    actor: UserId,
    (id, value_id): (IndicatorId, ValueId),
    verify: bool,
    note: Option<String>,
    now: NaiveDateTime,
) -> Result<ValueView> {
    let note = match note.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => Some(
            BoundedText::parse(n, 2000)
                .map_err(|m| Error::invalid_field("note", m))?
                .into_inner(),
        ),
        None if !verify => {
            return Err(Error::invalid_field(
                "note",
                Message::new("退回须说明理由", "returning needs a reason"),
            ))
        }
        None => None,
    };
    conn.write(|conn| {
        let (indicator, current) = lock_value(conn, Sight::All, id, value_id)?;
        if current.status != ValueStatus::Submitted {
            return Err(Conflict::ValueNotSubmitted {
                status: current.status,
            }
            .into());
        }
        let row: ValueRow = diesel::update(indicator_values::table.find(value_id))
            .set((
                indicator_values::status.eq(if verify {
                    ValueStatus::Verified
                } else {
                    ValueStatus::Returned
                }),
                indicator_values::decided_by.eq(actor),
                indicator_values::decided_at.eq(now),
                indicator_values::decision_note.eq(&note),
                indicator_values::version.eq(current.version + 1),
            ))
            .returning(indicator_values::all_columns)
            .get_result(conn)?;
        audit::record_change(
            conn,
            Some(actor),
            if verify { "verify" } else { "return" },
            ("indicator_value", row.id.0),
            Some(&current),
            Some(&row),
            now,
        )?;
        Ok(ValueView::of(row, &indicator))
    })
}

/// The values of an indicator, newest period first.
pub fn list(conn: &mut DbConnection, sight: Sight, id: IndicatorId) -> Result<Vec<ValueView>> {
    let (indicator, _) = load_visible(conn, sight, id)?;
    let rows: Vec<ValueRow> = indicator_values::table
        .filter(indicator_values::indicator_id.eq(id))
        .select(ValueRow::as_select())
        .order(indicator_values::period_start.desc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ValueView::of(r, &indicator))
        .collect())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = indicator_attachments)]
pub struct ValueAttachment {
    pub id: ValueAttachmentId,
    pub value_id: ValueId,
    pub uploaded_by: UserId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage: StorageKind,
    #[serde(serialize_with = "crate::http::instant::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
}

/// The value if it belongs to the indicator and the caller sees both.
fn load_value(
    conn: &mut DbConnection,
    sight: Sight,
    id: IndicatorId,
    value_id: ValueId,
) -> Result<(IndicatorRow, ValueRow)> {
    let (indicator, _) = load_visible(conn, sight, id)?;
    let value: ValueRow = indicator_values::table
        .find(value_id)
        .filter(indicator_values::indicator_id.eq(id))
        .select(ValueRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    Ok((indicator, value))
}

/// `load_value` for a write: locks the indicator's row, then the value's,
/// in the order every writer of an indicator's values takes them.
fn lock_value(
    conn: &mut DbConnection,
    sight: Sight,
    id: IndicatorId,
    value_id: ValueId,
) -> Result<(IndicatorRow, ValueRow)> {
    crate::db::lock_row(conn, crate::db::Locked::Indicators, id.0)?;
    crate::db::lock_row(conn, crate::db::Locked::IndicatorValues, value_id.0)?;
    load_value(conn, sight, id, value_id)
}

/// Attaches evidence to a value (the lead unit, until it is verified).
pub fn attach(
    conn: &mut DbConnection,
    auth: &AuthUser,
    (id, value_id): (IndicatorId, ValueId),
    upload: Upload,
    storage: &Storage,
    now: NaiveDateTime,
) -> Result<ValueAttachment> {
    conn.write(|conn| {
        let (indicator, value) = lock_value(conn, Sight::of(auth), id, value_id)?;
        check_reporter(auth, &indicator)?;
        if value.status == ValueStatus::Verified {
            return Err(Conflict::ValueVerified.into());
        }
        storage.put(conn, &upload.sha256, &upload.bytes)?;
        let row: ValueAttachment = diesel::insert_into(indicator_attachments::table)
            .values((
                indicator_attachments::value_id.eq(value.id),
                indicator_attachments::uploaded_by.eq(auth.id),
                indicator_attachments::filename.eq(&upload.filename),
                indicator_attachments::content_type.eq(&upload.content_type),
                indicator_attachments::size
                    .eq(i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX)),
                indicator_attachments::sha256.eq(&upload.sha256),
                indicator_attachments::storage.eq(storage.kind()),
                indicator_attachments::created_at.eq(now),
            ))
            .returning(indicator_attachments::all_columns)
            .get_result(conn)?;
        audit::record_change(
            conn,
            Some(auth.id),
            "create",
            ("indicator_attachment", row.id.0),
            None,
            Some(&row),
            now,
        )?;
        Ok(row)
    })
}

pub fn attachments(
    conn: &mut DbConnection,
    sight: Sight,
    id: IndicatorId,
    value_id: ValueId,
) -> Result<Vec<ValueAttachment>> {
    let (_, value) = load_value(conn, sight, id, value_id)?;
    Ok(indicator_attachments::table
        .filter(indicator_attachments::value_id.eq(value.id))
        .select(ValueAttachment::as_select())
        .order(indicator_attachments::id)
        .load(conn)?)
}

pub fn fetch(
    conn: &mut DbConnection,
    sight: Sight,
    (id, value_id, attachment): (IndicatorId, ValueId, ValueAttachmentId),
    storage: &Storage,
    data_dir: &std::path::Path,
) -> Result<(ValueAttachment, Vec<u8>)> {
    let (_, value) = load_value(conn, sight, id, value_id)?;
    let row: ValueAttachment = indicator_attachments::table
        .find(attachment)
        .filter(indicator_attachments::value_id.eq(value.id))
        .select(ValueAttachment::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let bytes = storage.get(conn, row.storage, &row.sha256, data_dir)?;
    Ok((row, bytes))
}

/// One report owed by a lead unit: an indicator's period, when it is due,
/// and what was reported (if anything).
#[derive(Debug, Clone)]
pub struct OwedReport {
    pub indicator_id: IndicatorId,
    pub number: String,
    pub name: String,
    pub lead_unit_id: UnitId,
    pub cooperating: Vec<UnitId>,
    pub period: Period,
    pub due: NaiveDate,
    /// The day it was reported, if it is submitted or verified.
    pub reported_on: Option<NaiveDate>,
}

impl OwedReport {
    /// The task-like code and title used in notices and bulletins.
    pub fn code(&self) -> String {
        format!("指标{}", self.number)
    }

    pub fn title(&self) -> String {
        format!("{}（{}数据报送）", self.name, self.period.label_zh())
    }
}

/// Every report owed by active indicators with a lead unit, for periods
/// whose due date is on or before `until`.
pub fn owed_reports(conn: &mut DbConnection, until: NaiveDate) -> QueryResult<Vec<OwedReport>> {
    let rows: Vec<IndicatorRow> = indicators::table
        .filter(indicators::active.eq(true))
        .filter(indicators::lead_unit_id.is_not_null())
        .select(IndicatorRow::as_select())
        .load(conn)?;
    let values: Vec<(IndicatorId, NaiveDate, ValueStatus, NaiveDate)> = indicator_values::table
        .select((
            indicator_values::indicator_id,
            indicator_values::period_start,
            indicator_values::status,
            indicator_values::submitted_on,
        ))
        .load(conn)?;
    let reported: std::collections::HashMap<(IndicatorId, NaiveDate), NaiveDate> = values
        .into_iter()
        .filter(|(_, _, status, _)| *status != ValueStatus::Returned)
        .map(|(i, start, _, on)| ((i, start), on))
        .collect();
    let mut coops = super::cooperators_of(conn)?;
    let mut out = Vec::new();
    for row in rows {
        let Some(lead) = row.lead_unit_id else {
            continue;
        };
        let cooperating = coops.remove(&row.id).unwrap_or_default();
        for (period, due) in
            owed_periods(row.frequency, row.report_day(), row.reporting_from, until)
        {
            out.push(OwedReport {
                indicator_id: row.id,
                number: row.number.clone(),
                name: row.name.clone(),
                lead_unit_id: lead,
                cooperating: cooperating.clone(),
                reported_on: reported.get(&(row.id, period.start)).copied(),
                period,
                due,
            });
        }
    }
    Ok(out)
}
