//! 导入分解表 in the browser (office): upload a table → a preview of the
//! rows as they will be created (group words expanded into sub-tasks) or,
//! re-importing (`mode=update`), what changes per field and which tasks the
//! table lacks; nothing written → `确认导入`. A bad table is shown as the
//! sheet itself with every bad cell marked at its place (C5) and its message.
//!
//! Between the preview and the confirm nothing is kept on the server: the
//! preview page carries the file back in a hidden field (base64), with the
//! versions of the tasks it matched. No token to guess, nothing to clean up,
//! and the confirm checks the table again with the same
//! `tasks::reimport::by_mode` the API calls; the versions go into the
//! update's WHERE, so a task changed since the preview is refused (409), not
//! overwritten.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use base64::Engine;
use serde::Serialize;

use crate::auth::Permission;
use crate::domain::{PlanId, UnitId, UserId};
use crate::http::multipart::read_form;
use crate::http::problem::ApiError;
use crate::i18n;
use crate::import::table::column_letters;
use crate::import::{task_rows, Limits, Sheet};
use crate::state::AppState;
use crate::tasks::import::{AbsentTask, ImportMode, ImportOptions, ImportReport, TaskDiff};
use crate::tasks::import_routes::{parse_versions, MAX_TABLE_BYTES};
use crate::tasks::reimport;
use crate::web::page::{filled, render, see_other, Lang, OrPage, PageError};
use crate::web::session::Person;

/// The import is the office's, as `POST /api/v1/plans/{id}/import` is.
fn office_only(person: &Person) -> Result<(), PageError> {
    person
        .auth
        .require(Permission::ManageTasks)
        .page(person.lang)
}

/// One cell of the sheet as shown: its text, and its message when at fault.
#[derive(Serialize)]
struct SheetCell {
    at: String,
    text: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct SheetRow {
    number: usize,
    /// A fault of the whole row (`row 5`).
    error: Option<String>,
    cells: Vec<SheetCell>,
}

/// The uploaded sheet mirrored: column letters, numbered rows.
#[derive(Serialize)]
struct SheetView {
    columns: Vec<String>,
    rows: Vec<SheetRow>,
}

/// A bad cell (or the file, or a field of the form) and its message.
#[derive(Serialize)]
struct Fault {
    at: String,
    message: String,
}

/// A row of the preview: a task as it will be created or updated.
#[derive(Serialize)]
struct PreviewRow {
    row: usize,
    code: String,
    title: String,
    lead: String,
    cooperating: String,
    leader: String,
    due: String,
    parent_code: Option<String>,
    from_group: Option<String>,
    /// Re-importing: the code matched a task of the plan.
    matched: bool,
}

#[derive(Serialize)]
struct Preview {
    update: bool,
    rows: Vec<PreviewRow>,
    new_count: usize,
    changes: Vec<TaskDiff>,
    absent: Vec<AbsentTask>,
}

#[derive(Serialize, Default)]
struct ImportPage {
    plan_id: i64,
    plan_title: String,
    mode: String,
    reason: String,
    error: Option<String>,
    faults: Vec<Fault>,
    sheet: Option<SheetView>,
    preview: Option<Preview>,
    /// The file carried back by the page (base64), its name, and the
    /// versions of the matched tasks (`id:version,…`).
    table: String,
    filename: String,
    versions: String,
}

async fn plan_title(state: &AppState, plan: PlanId, lang: Lang) -> Result<String, PageError> {
    state
        .db(move |conn| Ok(crate::plans::service::get(conn, plan)?.title))
        .await
        .page(lang)
}

/// GET /plans/{id}/import: the upload form.
pub async fn form(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    office_only(&person)?;
    let plan = PlanId(id.into_inner());
    let page = ImportPage {
        plan_id: plan.0,
        plan_title: plan_title(&state, plan, person.lang).await?,
        mode: "create".into(),
        ..ImportPage::default()
    };
    render(
        StatusCode::OK,
        "import.html",
        person.lang,
        Some(&person),
        page,
    )
}

/// The file of the form: one chosen now, else the one the preview carried.
struct Upload {
    filename: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// POST /plans/{id}/import: the preview, or with `confirm=1` the import.
pub async fn submit(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    // The file may come back as base64, a third longer.
    let form = read_form(multipart, MAX_TABLE_BYTES / 3 * 4 + 64 * 1024)
        .await
        .page(lang)?;
    person.check_csrf(form.text("csrf"))?;
    office_only(&person)?;
    let plan = PlanId(id.into_inner());
    let mut page = ImportPage {
        plan_id: plan.0,
        plan_title: plan_title(&state, plan, lang).await?,
        mode: form.text("mode").to_string(),
        reason: form.text("reason").trim().to_string(),
        ..ImportPage::default()
    };
    let carried = form.text("table").trim().to_string();
    let carried_name = form.text("filename").to_string();
    let confirm = form.text("confirm") == "1";
    let versions = form.text("versions").to_string();
    let upload = match form.files.into_iter().next() {
        Some(f) => Some(Upload {
            filename: f.filename,
            content_type: f.content_type,
            bytes: f.bytes,
        }),
        None if !carried.is_empty() => base64::engine::general_purpose::STANDARD
            .decode(&carried)
            .ok()
            .map(|bytes| Upload {
                filename: carried_name,
                content_type: String::new(),
                bytes,
            }),
        None => None,
    };
    let Some(upload) = upload else {
        page.error = Some(i18n::text(lang, "import.no_file").to_string());
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import.html",
            lang,
            Some(&person),
            page,
        );
    };
    if upload.bytes.len() > MAX_TABLE_BYTES {
        return Err(PageError::from_api(
            lang,
            ApiError::payload_too_large(MAX_TABLE_BYTES),
        ));
    }
    page.table = base64::engine::general_purpose::STANDARD.encode(&upload.bytes);
    page.filename = upload.filename.clone();
    let mode = match ImportMode::parse(if page.mode.is_empty() {
        "create"
    } else {
        &page.mode
    }) {
        Ok(m) => m,
        Err(m) => return refused(&person, page, None, ApiError::invalid_field("mode", m)),
    };
    page.mode = if mode == ImportMode::Update {
        "update"
    } else {
        "create"
    }
    .into();
    let seen = if confirm && mode == ImportMode::Update {
        match parse_versions(&versions) {
            Ok(seen) => Some(seen),
            Err(m) => return refused(&person, page, None, ApiError::invalid_field("versions", m)),
        }
    } else {
        None
    };
    let limits = Limits::of(&state.settings);
    let sheet = web::block(move || {
        crate::import::read_upload(
            &upload.filename,
            &upload.content_type,
            &upload.bytes,
            &limits,
        )
    })
    .await
    .map_err(|e| PageError::internal(lang, e))?;
    let sheet = match sheet {
        Ok(s) => s,
        Err(e) => return refused(&person, page, None, e.into()),
    };
    let rows = match task_rows(&sheet) {
        Ok(r) => r,
        Err(m) => {
            return refused(
                &person,
                page,
                Some(&sheet),
                ApiError::invalid_field("file", m),
            )
        }
    };
    let options = ImportOptions {
        mode,
        dry_run: !confirm,
        reason: filled(&page.reason),
        seen,
    };
    let actor = person.auth.id;
    let now = state.clock().now;
    let result = state
        .db(move |conn| {
            let report = reimport::by_mode(conn, actor, plan, rows, options, now)?;
            let names = names_of(conn, &report)?;
            Ok((report, names))
        })
        .await;
    match result {
        Ok((report, _)) if confirm => Ok(see_other(&format!(
            "/plans/{}?done=import&n={}&m={}",
            plan.0, report.created, report.updated
        ))),
        Ok((report, names)) => {
            page.versions = report
                .tasks
                .iter()
                .filter_map(|t| Some(format!("{}:{}", t.id?.0, t.version?)))
                .collect::<Vec<_>>()
                .join(",");
            page.preview = Some(preview(report, &names));
            render(StatusCode::OK, "import.html", lang, Some(&person), page)
        }
        Err(e) => refused(&person, page, Some(&sheet), e),
    }
}

type Names = (HashMap<UnitId, String>, HashMap<UserId, String>);

/// The names of the units and leaders the report's rows name.
fn names_of(
    conn: &mut crate::db::DbConnection,
    report: &ImportReport,
) -> crate::error::Result<Names> {
    let unit_ids: Vec<UnitId> = report
        .tasks
        .iter()
        .flat_map(|t| std::iter::once(t.lead_unit_id).chain(t.cooperating_unit_ids.iter().copied()))
        .collect();
    let leader_ids: Vec<UserId> = report
        .tasks
        .iter()
        .filter_map(|t| t.responsible_leader_id)
        .collect();
    Ok(super::tasks::names(conn, unit_ids, leader_ids)?)
}

fn preview(report: ImportReport, (units, leaders): &Names) -> Preview {
    let unit = |id: &UnitId| units.get(id).cloned().unwrap_or_default();
    let update = report.mode == ImportMode::Update;
    let rows: Vec<PreviewRow> = report
        .tasks
        .iter()
        .map(|t| PreviewRow {
            row: t.row,
            code: t.code.clone(),
            title: t.title.clone(),
            lead: unit(&t.lead_unit_id),
            cooperating: t
                .cooperating_unit_ids
                .iter()
                .map(unit)
                .collect::<Vec<_>>()
                .join("、"),
            leader: t
                .responsible_leader_id
                .and_then(|l| leaders.get(&l).cloned())
                .unwrap_or_default(),
            due: match (t.due_date, t.report_day) {
                (Some(d), _) => d.to_string(),
                (None, Some(day)) => format!("每月{day}日前"),
                (None, None) => t.due_text.clone().unwrap_or_default(),
            },
            parent_code: t.parent_code.clone(),
            from_group: t.from_group.clone(),
            matched: update && t.version.is_some(),
        })
        .collect();
    Preview {
        update,
        new_count: rows.iter().filter(|r| !r.matched).count(),
        rows,
        changes: report.changes,
        absent: report.absent,
    }
}

/// The form again with what stopped it: the sheet with each bad cell marked
/// (when the file could be read) and the list of faults. A refusal that is
/// no form's business (404, 403, 5xx) is the error page.
fn refused(
    person: &Person,
    mut page: ImportPage,
    sheet: Option<&Sheet>,
    err: ApiError,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let status = err.status_code();
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return Err(PageError::from_api(lang, err));
    }
    page.error = Some(
        if err.is_version_conflict() || status == StatusCode::CONFLICT {
            format!(
                "{}{}",
                i18n::text(lang, "import.changed_since"),
                err.sentence(lang)
            )
        } else if err.fields().is_empty() {
            err.sentence(lang)
        } else {
            err.message().get(lang).to_string()
        },
    );
    page.faults = err
        .fields()
        .iter()
        .map(|f| Fault {
            at: f.field.clone(),
            message: f.message.get(lang).to_string(),
        })
        .collect();
    page.sheet = sheet.map(|s| mirror(s, &page.faults));
    render(status, "import.html", lang, Some(person), page)
}

/// The sheet as a table, each faulty cell carrying its message(s).
fn mirror(sheet: &Sheet, faults: &[Fault]) -> SheetView {
    let mut at: HashMap<&str, Vec<&str>> = HashMap::new();
    for f in faults {
        at.entry(f.at.as_str()).or_default().push(&f.message);
    }
    let width = sheet.rows.iter().map(Vec::len).max().unwrap_or(0);
    let rows = sheet
        .rows
        .iter()
        .enumerate()
        .map(|(r, cells)| SheetRow {
            number: r + 1,
            error: at
                .get(format!("row {}", r + 1).as_str())
                .map(|m| m.join("；")),
            cells: (0..width)
                .map(|c| {
                    let reference = crate::import::cell_ref(r, c);
                    SheetCell {
                        error: at.get(reference.as_str()).map(|m| m.join("；")),
                        text: cells.get(c).map(|c| c.text.clone()).unwrap_or_default(),
                        at: reference,
                    }
                })
                .collect(),
        })
        .collect();
    SheetView {
        columns: (0..width).map(column_letters).collect(),
        rows,
    }
}
