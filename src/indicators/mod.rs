//! Assessment indicators (考核指标): the catalogue with targets, lead and
//! cooperating units and reporting frequency; values reported per period by
//! the lead unit (`values`); the catalogue as a table (`catalogue`); the
//! dashboard (`dashboard`); what a unit owes, as the console lists it
//! (`reports`). Target rules live in `domain::indicator`.

pub mod catalogue;
pub mod dashboard;
pub mod reports;
pub mod routes;
pub mod values;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::AuthUser;
use crate::db::schema::{indicator_cooperators, indicators};
use crate::db::DbConnection;
use crate::domain::indicator::{parse_target, Comparison, Frequency, DOMAINS};
use crate::domain::kinds::{IndicatorDomain, IndicatorKind};
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::{IndicatorId, Message, Role, UnitId, UserId};
use crate::error::{Conflict, Error, Result, Validator};
use crate::http::json::double_option;
use crate::tasks::input::NewTask;
use crate::tasks::service::Origin;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = indicators)]
pub struct IndicatorRow {
    pub id: IndicatorId,
    pub domain: IndicatorDomain,
    pub group_name: Option<String>,
    pub number: String,
    pub name: String,
    pub measure_unit: Option<String>,
    pub target_text: Option<String>,
    pub comparison: Comparison,
    pub target_value: Option<f64>,
    pub kind: IndicatorKind,
    pub applies_to: String,
    pub lead_unit_id: Option<UnitId>,
    pub frequency: Frequency,
    pub report_day: i32,
    pub reporting_from: NaiveDate,
    pub checked: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl IndicatorRow {
    pub fn target(&self) -> crate::domain::indicator::Target {
        crate::domain::indicator::Target {
            comparison: self.comparison,
            value: self.target_value,
        }
    }

    pub fn report_day(&self) -> u32 {
        u32::try_from(self.report_day).unwrap_or(10)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    pub id: IndicatorId,
    /// One of 生态制度, 生态安全, 生态空间, 生态经济, 生态生活, 生态文化.
    pub domain: IndicatorDomain,
    pub group_name: Option<String>,
    pub number: String,
    pub name: String,
    pub measure_unit: Option<String>,
    /// As written: ≥20, 100, 制定实施 …
    pub target_text: Option<String>,
    pub comparison: Comparison,
    pub target_value: Option<f64>,
    /// binding (约束性) or reference (参考性)
    pub kind: IndicatorKind,
    /// city, county or both (city;county)
    pub applies_to: String,
    pub lead_unit_id: Option<UnitId>,
    pub cooperating_unit_ids: Vec<UnitId>,
    pub frequency: Frequency,
    /// Day of the month after a period by which its value is due.
    pub report_day: i32,
    pub reporting_from: NaiveDate,
    /// How far a template entry was checked against the official text.
    pub checked: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IndicatorView {
    pub fn of(row: IndicatorRow, coops: Vec<UnitId>) -> IndicatorView {
        IndicatorView {
            comparison: row.comparison,
            frequency: row.frequency,
            id: row.id,
            domain: row.domain,
            group_name: row.group_name,
            number: row.number,
            name: row.name,
            measure_unit: row.measure_unit,
            target_text: row.target_text,
            target_value: row.target_value,
            kind: row.kind,
            applies_to: row.applies_to,
            lead_unit_id: row.lead_unit_id,
            cooperating_unit_ids: coops,
            report_day: row.report_day,
            reporting_from: row.reporting_from,
            checked: row.checked,
            active: row.active,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// Which indicators a caller reads: unit clerks those their unit leads or
/// cooperates on, everyone else all.
#[derive(Debug, Clone, Copy)]
pub enum Sight {
    All,
    Unit(UnitId),
}

impl Sight {
    pub fn of(auth: &AuthUser) -> Sight {
        match auth.role {
            // A unit clerk without a unit sees nothing: no unit has id -1.
            Role::Unit => Sight::Unit(auth.unit_id.unwrap_or(UnitId(-1))),
            _ => Sight::All,
        }
    }

    pub fn sees(self, row: &IndicatorRow, coops: &[UnitId]) -> bool {
        match self {
            Sight::All => true,
            Sight::Unit(u) => row.lead_unit_id == Some(u) || coops.contains(&u),
        }
    }
}

pub fn cooperators_of(conn: &mut DbConnection) -> QueryResult<HashMap<IndicatorId, Vec<UnitId>>> {
    let pairs: Vec<(IndicatorId, UnitId)> = indicator_cooperators::table
        .select((
            indicator_cooperators::indicator_id,
            indicator_cooperators::unit_id,
        ))
        .order(indicator_cooperators::unit_id)
        .load(conn)?;
    let mut out: HashMap<IndicatorId, Vec<UnitId>> = HashMap::new();
    for (i, u) in pairs {
        out.entry(i).or_default().push(u);
    }
    Ok(out)
}

/// The indicator if the caller may see it, else 404.
pub fn load_visible(
    conn: &mut DbConnection,
    sight: Sight,
    id: IndicatorId,
) -> Result<(IndicatorRow, Vec<UnitId>)> {
    let row: IndicatorRow = indicators::table
        .find(id)
        .select(IndicatorRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    let coops: Vec<UnitId> = indicator_cooperators::table
        .filter(indicator_cooperators::indicator_id.eq(id))
        .select(indicator_cooperators::unit_id)
        .order(indicator_cooperators::unit_id)
        .load(conn)?;
    if !sight.sees(&row, &coops) {
        return Err(Error::NotFound);
    }
    Ok((row, coops))
}

/// Every indicator the caller sees, by domain order and number.
pub fn list(conn: &mut DbConnection, sight: Sight) -> Result<Vec<IndicatorView>> {
    let rows: Vec<IndicatorRow> = indicators::table
        .select(IndicatorRow::as_select())
        .load(conn)?;
    let mut coops = cooperators_of(conn)?;
    let mut out: Vec<IndicatorView> = rows
        .into_iter()
        .filter_map(|row| {
            let c = coops.remove(&row.id).unwrap_or_default();
            sight.sees(&row, &c).then(|| IndicatorView::of(row, c))
        })
        .collect();
    out.sort_by(|a, b| {
        (a.domain, number_order(&a.number)).cmp(&(b.domain, number_order(&b.number)))
    });
    Ok(out)
}

/// Sorts numbers numerically when they are numbers, the others after them
/// as text. (Domains sort in the official order: `IndicatorDomain`'s.)
pub fn number_order(number: &str) -> (u64, &str) {
    (number.parse().unwrap_or(u64::MAX), number)
}

/// A new catalogue entry, or one row of an imported catalogue.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorInput {
    pub domain: String,
    pub group_name: Option<String>,
    /// Unique in the catalogue, e.g. `25`.
    pub number: String,
    pub name: String,
    pub measure_unit: Option<String>,
    /// ≥80, ≤0.5, 100, 制定实施 …; empty for no target.
    pub target: Option<String>,
    /// binding (default) or reference.
    pub kind: Option<String>,
    /// Default city;county.
    pub applies_to: Option<String>,
    pub lead_unit_id: Option<UnitId>,
    #[serde(default)]
    pub cooperating_unit_ids: Vec<UnitId>,
    /// monthly, quarterly or yearly (default).
    pub frequency: Option<String>,
    /// 1–28, default 10.
    pub report_day: Option<i32>,
    /// YYYY-MM-DD: values are owed for periods ending from this day (default today).
    pub reporting_from: Option<String>,
    /// For template entries: how far checked against the official text.
    pub checked: Option<String>,
}

/// The checked values of an input, ready to write.
struct Checked {
    domain: IndicatorDomain,
    group_name: Option<String>,
    number: String,
    name: String,
    measure_unit: Option<String>,
    target_text: Option<String>,
    comparison: Comparison,
    target_value: Option<f64>,
    kind: IndicatorKind,
    applies_to: String,
    frequency: Frequency,
    report_day: i32,
    reporting_from: NaiveDate,
    checked: Option<String>,
}

fn optional(v: &mut Validator, field: &str, text: Option<&str>, max: usize) -> Option<String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    v.check(field, BoundedText::parse(text, max))
        .map(BoundedText::into_inner)
}

fn check_input(
    v: &mut Validator,
    prefix: &str,
    req: &IndicatorInput,
    today: NaiveDate,
) -> Option<Checked> {
    let f = |name: &str| format!("{prefix}{name}");
    let domain = IndicatorDomain::parse(req.domain.trim()).ok();
    if domain.is_none() {
        v.add(
            &f("domain"),
            Message::owned(
                format!("领域必须是 {}", DOMAINS.join("、")),
                format!("domain must be one of {}", DOMAINS.join(", ")),
            ),
        );
    }
    let number = v.check(&f("number"), BoundedText::parse(&req.number, 16));
    let name = v.check(&f("name"), BoundedText::parse(&req.name, 300));
    let target_text = optional(v, &f("target"), req.target.as_deref(), 300);
    let target = parse_target(target_text.as_deref().unwrap_or(""));
    let kind = match req.kind.as_deref().map(str::trim).unwrap_or("binding") {
        "binding" | "约束性" => Some(IndicatorKind::Binding),
        "reference" | "参考性" => Some(IndicatorKind::Reference),
        _ => {
            v.add(
                &f("kind"),
                Message::new(
                    "指标属性必须是 binding（约束性）或 reference（参考性）",
                    "kind must be binding or reference",
                ),
            );
            None
        }
    };
    let frequency = v.check(
        &f("frequency"),
        Frequency::parse(req.frequency.as_deref().map(str::trim).unwrap_or("yearly")),
    );
    let report_day = req.report_day.unwrap_or(10);
    if !(1..=28).contains(&report_day) {
        v.add(
            &f("report_day"),
            Message::new(
                "报送日必须在 1 到 28 之间",
                "report_day must be between 1 and 28",
            ),
        );
    }
    let reporting_from = match req.reporting_from.as_deref() {
        Some(d) => v.check(&f("reporting_from"), parse_date(d)),
        None => Some(today),
    };
    let group_name = optional(v, &f("group_name"), req.group_name.as_deref(), 100);
    let measure_unit = optional(v, &f("measure_unit"), req.measure_unit.as_deref(), 50);
    let applies_to = optional(v, &f("applies_to"), req.applies_to.as_deref(), 50)
        .unwrap_or_else(|| "city;county".into());
    let checked = optional(v, &f("checked"), req.checked.as_deref(), 50);
    Some(Checked {
        domain: domain?,
        group_name,
        number: number?.into_inner(),
        name: name?.into_inner(),
        measure_unit,
        target_text,
        comparison: target.comparison,
        target_value: target.value,
        kind: kind?,
        applies_to,
        frequency: frequency?,
        report_day,
        reporting_from: reporting_from?,
        checked,
    })
}

fn replace_cooperators(
    conn: &mut DbConnection,
    id: IndicatorId,
    coops: &[UnitId],
) -> QueryResult<()> {
    diesel::delete(indicator_cooperators::table.filter(indicator_cooperators::indicator_id.eq(id)))
        .execute(conn)?;
    let mut seen = Vec::new();
    for c in coops {
        if !seen.contains(c) {
            seen.push(*c);
            diesel::insert_into(indicator_cooperators::table)
                .values((
                    indicator_cooperators::indicator_id.eq(id),
                    indicator_cooperators::unit_id.eq(c),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Writes checked inputs (in the caller's transaction); used by create and import.
fn insert_checked(
    conn: &mut DbConnection,
    actor: UserId,
    c: Checked,
    lead: Option<UnitId>,
    coops: &[UnitId],
    now: NaiveDateTime,
) -> Result<IndicatorRow> {
    let row: IndicatorRow = diesel::insert_into(indicators::table)
        .values((
            indicators::domain.eq(c.domain),
            indicators::group_name.eq(c.group_name),
            indicators::number.eq(c.number),
            indicators::name.eq(c.name),
            indicators::measure_unit.eq(c.measure_unit),
            indicators::target_text.eq(c.target_text),
            indicators::comparison.eq(c.comparison),
            indicators::target_value.eq(c.target_value),
            indicators::kind.eq(c.kind),
            indicators::applies_to.eq(c.applies_to),
            indicators::lead_unit_id.eq(lead),
            indicators::frequency.eq(c.frequency),
            indicators::report_day.eq(c.report_day),
            indicators::reporting_from.eq(c.reporting_from),
            indicators::checked.eq(c.checked),
            indicators::created_at.eq(now),
            indicators::updated_at.eq(now),
        ))
        .returning(indicators::all_columns)
        .get_result(conn)
        .map_err(|e| Error::unique_or(e, Conflict::IndicatorNumberTaken))?;
    replace_cooperators(conn, row.id, coops)?;
    audit::record_change(
        conn,
        Some(actor),
        "create",
        ("indicator", row.id.0),
        None,
        Some(&row),
        now,
    )?;
    Ok(row)
}

/// Creates a catalogue entry (office).
pub fn create(
    conn: &mut DbConnection,
    actor: UserId,
    req: IndicatorInput,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<IndicatorView> {
    let mut v = Validator::default();
    let checked = check_input(&mut v, "", &req, today);
    conn.write(|conn| {
        if req.lead_unit_id.is_some() || !req.cooperating_unit_ids.is_empty() {
            crate::tasks::service::check_units(
                conn,
                &mut v,
                req.lead_unit_id,
                &req.cooperating_unit_ids,
            )?;
        }
        let Some(checked) = checked else {
            return Err(std::mem::take(&mut v).into_error());
        };
        std::mem::take(&mut v).finish()?;
        let row = insert_checked(
            conn,
            actor,
            checked,
            req.lead_unit_id,
            &req.cooperating_unit_ids,
            now,
        )?;
        Ok(IndicatorView::of(row, req.cooperating_unit_ids.clone()))
    })
}

/// A change to an entry: absent fields stay as they are; an empty text
/// clears group_name, measure_unit or target; `lead_unit_id: null` clears the lead.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIndicator {
    pub version: i64,
    pub domain: Option<String>,
    pub group_name: Option<String>,
    pub number: Option<String>,
    pub name: Option<String>,
    pub measure_unit: Option<String>,
    pub target: Option<String>,
    pub kind: Option<String>,
    pub applies_to: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub lead_unit_id: Option<Option<UnitId>>,
    pub cooperating_unit_ids: Option<Vec<UnitId>>,
    pub frequency: Option<String>,
    pub report_day: Option<i32>,
    pub reporting_from: Option<String>,
    pub active: Option<bool>,
}

/// Changes an entry (office), checking it as a whole as on creation.
pub fn update(
    conn: &mut DbConnection,
    actor: UserId,
    id: IndicatorId,
    req: UpdateIndicator,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<IndicatorView> {
    conn.write(|conn| {
        crate::db::lock_row(conn, crate::db::Locked::Indicators, id.0)?;
        let (current, coops) = load_visible(conn, Sight::All, id)?;
        if current.version != req.version {
            return Err(Error::stale(req.version, current.version));
        }
        let merged = IndicatorInput {
            domain: req
                .domain
                .clone()
                .unwrap_or_else(|| current.domain.as_str().to_string()),
            group_name: req
                .group_name
                .clone()
                .or_else(|| current.group_name.clone()),
            number: req.number.clone().unwrap_or_else(|| current.number.clone()),
            name: req.name.clone().unwrap_or_else(|| current.name.clone()),
            measure_unit: req
                .measure_unit
                .clone()
                .or_else(|| current.measure_unit.clone()),
            target: req.target.clone().or_else(|| current.target_text.clone()),
            kind: Some(
                req.kind
                    .clone()
                    .unwrap_or_else(|| current.kind.as_str().to_string()),
            ),
            applies_to: Some(
                req.applies_to
                    .clone()
                    .unwrap_or_else(|| current.applies_to.clone()),
            ),
            lead_unit_id: req.lead_unit_id.unwrap_or(current.lead_unit_id),
            cooperating_unit_ids: req.cooperating_unit_ids.clone().unwrap_or(coops),
            frequency: Some(
                req.frequency
                    .clone()
                    .unwrap_or_else(|| current.frequency.as_str().to_string()),
            ),
            report_day: Some(req.report_day.unwrap_or(current.report_day)),
            reporting_from: Some(
                req.reporting_from
                    .clone()
                    .unwrap_or_else(|| current.reporting_from.to_string()),
            ),
            checked: current.checked.clone(),
        };
        let mut v = Validator::default();
        let checked = check_input(&mut v, "", &merged, today);
        if merged.lead_unit_id.is_some() || !merged.cooperating_unit_ids.is_empty() {
            crate::tasks::service::check_units(
                conn,
                &mut v,
                merged.lead_unit_id,
                &merged.cooperating_unit_ids,
            )?;
        }
        let Some(c) = checked else {
            return Err(v.into_error());
        };
        v.finish()?;
        let row: IndicatorRow = diesel::update(
            indicators::table
                .find(id)
                .filter(indicators::version.eq(req.version)),
        )
        .set((
            indicators::domain.eq(c.domain),
            indicators::group_name.eq(c.group_name),
            indicators::number.eq(c.number),
            indicators::name.eq(c.name),
            indicators::measure_unit.eq(c.measure_unit),
            indicators::target_text.eq(c.target_text),
            indicators::comparison.eq(c.comparison),
            indicators::target_value.eq(c.target_value),
            indicators::kind.eq(c.kind),
            indicators::applies_to.eq(c.applies_to),
            indicators::lead_unit_id.eq(merged.lead_unit_id),
            indicators::frequency.eq(c.frequency),
            indicators::report_day.eq(c.report_day),
            indicators::reporting_from.eq(c.reporting_from),
            indicators::active.eq(req.active.unwrap_or(current.active)),
            indicators::version.eq(current.version + 1),
            indicators::updated_at.eq(now),
        ))
        .returning(indicators::all_columns)
        .get_result(conn)
        .map_err(|e| Error::unique_or(e, Conflict::IndicatorNumberTaken))?;
        replace_cooperators(conn, id, &merged.cooperating_unit_ids)?;
        audit::record_change(
            conn,
            Some(actor),
            "update",
            ("indicator", id.0),
            Some(&current),
            Some(&row),
            now,
        )?;
        Ok(IndicatorView::of(row, merged.cooperating_unit_ids))
    })
}

/// A task made from an indicator: its lead and cooperating units are the
/// indicator's; category indicator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorTask {
    pub plan_id: crate::domain::PlanId,
    pub code: String,
    /// Default: the indicator's name.
    pub title: Option<String>,
    pub description: Option<String>,
    pub responsible_leader_id: Option<UserId>,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub due_in_working_days: Option<i32>,
    pub priority: Option<String>,
    #[serde(default)]
    pub evidence_required: bool,
    pub report_day: Option<i32>,
}

/// Creates the draft task for an indicator in one step (office).
pub fn create_task(
    conn: &mut DbConnection,
    actor: UserId,
    id: IndicatorId,
    req: IndicatorTask,
    now: NaiveDateTime,
) -> Result<crate::tasks::model::TaskRow> {
    conn.write(|conn| {
        let (indicator, coops) = load_visible(conn, Sight::All, id)?;
        let Some(lead) = indicator.lead_unit_id else {
            return Err(Error::invalid_field(
                "lead_unit_id",
                Message::new(
                    "该指标尚未确定牵头单位",
                    "the indicator has no lead unit yet",
                ),
            ));
        };
        let input = NewTask::try_from(crate::tasks::model::CreateTask {
            plan_id: req.plan_id,
            parent_id: None,
            code: req.code,
            title: req.title.unwrap_or_else(|| indicator.name.clone()),
            description: req.description,
            lead_unit_id: lead,
            cooperating_unit_ids: coops,
            responsible_leader_id: req.responsible_leader_id,
            co_leader_ids: Vec::new(),
            start_date: req.start_date,
            due_date: req.due_date,
            due_in_working_days: req.due_in_working_days,
            priority: req.priority,
            category: Some("indicator".into()),
            evidence_required: req.evidence_required,
            report_day: req.report_day,
            report_cadence: None,
        });
        let task = match input {
            Ok(new) => crate::tasks::service::create(conn, Origin::draft(actor), new, now)?,
            Err(rejected) => return Err(crate::tasks::service::refuse_new(conn, rejected)),
        };
        let task = diesel::update(crate::db::schema::tasks::table.find(task.id))
            .set(crate::db::schema::tasks::indicator_id.eq(indicator.id))
            .returning(crate::db::schema::tasks::all_columns)
            .get_result(conn)?;
        Ok(task)
    })
}
