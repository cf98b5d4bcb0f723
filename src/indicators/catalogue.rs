//! The indicator catalogue as a table (CSV or xlsx), in and out. The header
//! row may come after title rows; columns are found by name. Units are
//! written by name (short forms and codes are understood). An import writes
//! every row or none: rows whose number exists update that entry, others are
//! added. Errors name the cell (`field: "D7"`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{check_input, insert_checked, Checked, IndicatorInput, IndicatorView};
use crate::db::schema::{indicators, units};
use crate::db::DbConnection;
use crate::domain::indicator::Frequency;
use crate::domain::kinds::IndicatorKind;
use crate::domain::unit_names::{match_unit, split_units, UnitRef};
use crate::domain::{IndicatorId, Message, UnitId, UserId};
use crate::error::{Error, FieldError, Result, Validator};
use crate::import::{cell_ref, Sheet};
use crate::render::table;

/// The columns, in export order. The first five are required on import.
pub const HEADERS: [&str; 13] = [
    "领域",
    "类别",
    "序号",
    "指标名称",
    "单位",
    "目标值",
    "指标属性",
    "适用范围",
    "牵头单位",
    "配合单位",
    "报送频次",
    "报送日",
    "核对状态",
];

const WIDTHS: [f64; 13] = [
    10.0, 22.0, 6.0, 40.0, 12.0, 30.0, 10.0, 12.0, 20.0, 30.0, 10.0, 8.0, 10.0,
];

/// The field each column fills, for naming errors.
const FIELDS: [&str; 13] = [
    "domain",
    "group_name",
    "number",
    "name",
    "measure_unit",
    "target",
    "kind",
    "applies_to",
    "lead_unit_id",
    "cooperating_unit_ids",
    "frequency",
    "report_day",
    "checked",
];

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueImport {
    pub created: usize,
    pub updated: usize,
    pub indicators: Vec<IndicatorView>,
}

fn kind_zh(kind: IndicatorKind) -> &'static str {
    match kind {
        IndicatorKind::Binding => "约束性",
        IndicatorKind::Reference => "参考性",
    }
}

/// The catalogue as a spreadsheet table.
pub fn sheet(conn: &mut DbConnection, list: &[IndicatorView]) -> QueryResult<table::Sheet> {
    let names: std::collections::HashMap<UnitId, String> = units::table
        .select((units::id, units::name))
        .load::<(UnitId, String)>(conn)?
        .into_iter()
        .collect();
    let name = |id: &UnitId| names.get(id).cloned().unwrap_or_default();
    Ok(table::Sheet {
        name: "考核指标".into(),
        headers: HEADERS.iter().map(|h| h.to_string()).collect(),
        widths: WIDTHS.to_vec(),
        rows: list
            .iter()
            .map(|i| {
                vec![
                    i.domain.as_str().to_string(),
                    i.group_name.clone().unwrap_or_default(),
                    i.number.clone(),
                    i.name.clone(),
                    i.measure_unit.clone().unwrap_or_default(),
                    i.target_text.clone().unwrap_or_default(),
                    kind_zh(i.kind).to_string(),
                    i.applies_to.clone(),
                    i.lead_unit_id.as_ref().map(name).unwrap_or_default(),
                    i.cooperating_unit_ids
                        .iter()
                        .map(name)
                        .collect::<Vec<_>>()
                        .join("、"),
                    i.frequency.name_zh().to_string(),
                    i.report_day.to_string(),
                    i.checked.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    })
}

/// Finds the header row and the column of each known header.
fn columns(sheet: &Sheet) -> std::result::Result<(usize, Columns), Message> {
    for (r, row) in sheet.rows.iter().enumerate().take(20) {
        let mut cols = [None; 13];
        for (c, cell) in row.iter().enumerate() {
            if let Some(i) = HEADERS.iter().position(|h| *h == cell.text.trim()) {
                cols[i] = Some(c);
            }
        }
        if cols[..4].iter().all(Option::is_some) {
            return Ok((r, cols));
        }
    }
    Err(Message::owned(
        format!("找不到表头行（须含 {}）", HEADERS[..4].join("、")),
        format!("no header row found (it needs {})", HEADERS[..4].join(", ")),
    ))
}

/// The column of each known header (`HEADERS`' order), where the sheet has it.
type Columns = [Option<usize>; 13];

/// A row that passed its checks: its row index, what it says, and the
/// checked values to write if it is new.
type ReadRow = (usize, IndicatorInput, Checked);

/// Imports a catalogue table, all rows or none.
pub fn import(
    conn: &mut DbConnection,
    actor: UserId,
    sheet: &Sheet,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<CatalogueImport> {
    let (header, cols) = columns(sheet).map_err(|m| Error::invalid_field("file", m))?;
    let all_units: Vec<(i64, String, String, String)> = units::table
        .filter(units::active.eq(true))
        .select((units::id, units::code, units::name, units::aliases))
        .load(conn)?;
    let aliases: Vec<Vec<String>> = all_units
        .iter()
        .map(|u| crate::units::aliases_of(&u.3))
        .collect::<Result<_>>()?;
    let refs: Vec<UnitRef<'_>> = all_units
        .iter()
        .zip(&aliases)
        .map(|((id, code, name, _), aliases)| UnitRef {
            id: *id,
            code,
            name,
            aliases,
        })
        .collect();
    let mut errors: Vec<FieldError> = Vec::new();
    let rows: Vec<ReadRow> = (header + 1..sheet.rows.len())
        .filter_map(|r| read_row(sheet, (r, &cols), &refs, today, &mut errors))
        .collect();
    check_numbers_unique(&rows, &cols, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    conn.write(|conn| write_rows(conn, actor, rows, today, now))
}

/// Reads and checks row `r`; a blank row is skipped, and each bad cell adds
/// an error naming it.
fn read_row(
    sheet: &Sheet,
    (r, cols): (usize, &Columns),
    refs: &[UnitRef<'_>],
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<ReadRow> {
    let text = |i: usize| {
        cols[i]
            .map(|c| crate::import::table::clean(sheet.text(r, c)))
            .unwrap_or_default()
    };
    if (0..13).all(|i| text(i).is_empty()) {
        return None;
    }
    let cell = |i: usize| cell_ref(r, cols[i].unwrap_or(0));
    let unit = |i: usize, name: &str, errors: &mut Vec<FieldError>| -> Option<UnitId> {
        match match_unit(name, refs).into_result(name) {
            Ok(id) => Some(UnitId(id)),
            Err(message) => {
                errors.push(FieldError {
                    field: cell(i),
                    message,
                });
                None
            }
        }
    };
    let lead_text = text(8);
    let lead = (!lead_text.is_empty())
        .then(|| unit(8, &lead_text, errors))
        .flatten();
    let coops: Vec<UnitId> = split_units(&text(9))
        .iter()
        .filter_map(|n| unit(9, n, errors))
        .collect();
    let report_day = match text(11).as_str() {
        "" => None,
        d => match d.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError {
                    field: cell(11),
                    message: Message::new(
                        "报送日应为 1 到 28 的数字",
                        "report day must be a number from 1 to 28",
                    ),
                });
                None
            }
        },
    };
    let blank = |s: String| (!s.is_empty()).then_some(s);
    let input = IndicatorInput {
        domain: text(0),
        group_name: blank(text(1)),
        number: text(2),
        name: text(3),
        measure_unit: blank(text(4)),
        target: blank(text(5)),
        kind: blank(text(6)),
        applies_to: blank(text(7)),
        lead_unit_id: lead,
        cooperating_unit_ids: coops,
        frequency: blank(text(10)).map(|f| match Frequency::parse(&f) {
            Ok(f) => f.as_str().to_string(),
            Err(_) => f,
        }),
        report_day,
        reporting_from: None,
        checked: blank(text(12)),
    };
    let mut v = Validator::default();
    let checked = check_input(&mut v, "", &input, today);
    for f in v.into_fields() {
        let col = FIELDS.iter().position(|n| *n == f.field).unwrap_or(0);
        errors.push(FieldError {
            field: cell(col),
            message: f.message,
        });
    }
    checked.map(|c| (r, input, c))
}

/// A number twice in the table is an error on its second row.
fn check_numbers_unique(rows: &[ReadRow], cols: &Columns, errors: &mut Vec<FieldError>) {
    let mut seen = std::collections::HashMap::new();
    for (r, input, _) in rows {
        if let Some(first) = seen.insert(input.number.clone(), *r) {
            errors.push(FieldError {
                field: cell_ref(*r, cols[2].unwrap_or(0)),
                message: Message::owned(
                    format!("序号与第 {} 行重复", first + 1),
                    format!("the same number as row {}", first + 1),
                ),
            });
        }
    }
}

/// Writes the checked rows (in the caller's transaction): a row whose number
/// exists updates that indicator, any other is added.
fn write_rows(
    conn: &mut DbConnection,
    actor: UserId,
    rows: Vec<ReadRow>,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<CatalogueImport> {
    let (mut created, mut updated, mut out) = (0, 0, Vec::new());
    for (_, input, checked) in rows {
        let existing: Option<(IndicatorId, i64)> = indicators::table
            .filter(indicators::number.eq(&input.number))
            .select((indicators::id, indicators::version))
            .first(conn)
            .optional()?;
        let view = match existing {
            Some((id, version)) => {
                updated += 1;
                super::update(conn, actor, id, as_update(input, version), today, now)?
            }
            None => {
                created += 1;
                let coops = input.cooperating_unit_ids.clone();
                let row = insert_checked(
                    conn,
                    actor,
                    checked,
                    input.lead_unit_id,
                    &input.cooperating_unit_ids,
                    now,
                )?;
                IndicatorView::of(row, coops)
            }
        };
        out.push(view);
    }
    Ok(CatalogueImport {
        created,
        updated,
        indicators: out,
    })
}

/// A row as a change to the existing entry at `version`: an empty cell
/// clears group_name, measure_unit and target; reporting_from and active
/// stay as they are.
fn as_update(input: IndicatorInput, version: i64) -> super::UpdateIndicator {
    super::UpdateIndicator {
        version,
        domain: Some(input.domain),
        group_name: Some(input.group_name.unwrap_or_default()),
        number: Some(input.number),
        name: Some(input.name),
        measure_unit: Some(input.measure_unit.unwrap_or_default()),
        target: Some(input.target.unwrap_or_default()),
        kind: input.kind,
        applies_to: input.applies_to,
        lead_unit_id: Some(input.lead_unit_id),
        cooperating_unit_ids: Some(input.cooperating_unit_ids),
        frequency: input.frequency,
        report_day: input.report_day,
        reporting_from: None,
        active: None,
    }
}
