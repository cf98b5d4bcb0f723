//! 系统管理 · 批量创建账号 (admin only): the list uploaded from the accounts
//! page goes to `users::batch`, as `POST /api/v1/users/batch` does. Created:
//! the accounts with their one-time passwords, on this answer only (never in
//! a link, never again). Refused: nothing was created, and the list is shown
//! back with every bad cell marked at its place (C5) and its message.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::admin_units::{admin_only, Refusal};
use crate::auth::Permission;
use crate::http::multipart::read_form;
use crate::http::problem::ApiError;
use crate::import::{cell_ref, Sheet};
use crate::state::AppState;
use crate::users::batch::{self, BatchCreated};
use crate::users::routes::MAX_LIST_BYTES;
use crate::web::page::{render, OrPage, PageError};
use crate::web::session::Person;

/// Rows and columns of a refused list shown back; the errors beyond are
/// still listed by cell.
const SHOWN_ROWS: usize = 300;
const SHOWN_COLS: usize = 12;

#[derive(Serialize)]
struct ShownCell {
    text: String,
    cell: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct ShownRow {
    number: usize,
    cells: Vec<ShownCell>,
}

#[derive(Serialize)]
struct Fault {
    cell: String,
    message: String,
}

#[derive(Serialize)]
struct Created {
    row: usize,
    username: String,
    display_name: String,
    role: String,
    password: String,
}

#[derive(Serialize)]
struct BatchPage {
    created: Vec<Created>,
    error: Option<String>,
    faults: Vec<Fault>,
    columns: Vec<String>,
    rows: Vec<ShownRow>,
}

/// The list as read, each cell with its reference and its message if bad.
fn shown(sheet: &Sheet, errors: &HashMap<String, String>) -> (Vec<String>, Vec<ShownRow>) {
    let width = sheet
        .rows
        .iter()
        .take(SHOWN_ROWS)
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .min(SHOWN_COLS);
    let columns = (0..width)
        .map(crate::import::table::column_letters)
        .collect();
    let rows = sheet
        .rows
        .iter()
        .take(SHOWN_ROWS)
        .enumerate()
        .map(|(r, _)| ShownRow {
            number: r + 1,
            cells: (0..width)
                .map(|c| {
                    let cell = cell_ref(r, c);
                    ShownCell {
                        text: sheet.text(r, c).to_string(),
                        error: errors.get(&cell).cloned(),
                        cell,
                    }
                })
                .collect(),
        })
        .collect();
    (columns, rows)
}

fn refused(
    person: &Person,
    err: ApiError,
    sheet: Option<&Sheet>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let Some(refusal) = Refusal::of(&err, lang) else {
        return Err(PageError::from_api(lang, err));
    };
    let faults: Vec<Fault> = err
        .fields()
        .iter()
        .map(|f| Fault {
            cell: f.field.clone(),
            message: f.message.get(lang).to_string(),
        })
        .collect();
    let (columns, rows) = match sheet {
        Some(sheet) => shown(sheet, &refusal.fields),
        None => (Vec::new(), Vec::new()),
    };
    let page = BatchPage {
        created: Vec::new(),
        error: Some(refusal.error),
        faults,
        columns,
        rows,
    };
    render(
        refusal.status,
        "admin_users_batch.html",
        lang,
        Some(person),
        page,
    )
}

/// POST /admin/users/batch: a multipart form with the CSRF token and the
/// list in `file`.
pub async fn create(
    state: web::Data<AppState>,
    person: Person,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = read_form(multipart, MAX_LIST_BYTES).await.page(lang)?;
    person.check_csrf(form.text("csrf"))?;
    admin_only(&person, Permission::ManageUsers)?;
    let Some(file) = form.files.into_iter().next() else {
        let err = ApiError::invalid_field(
            "file",
            crate::domain::Message::new("请选择账号名单文件", "choose the list's file"),
        );
        return refused(&person, err, None);
    };
    let limits = crate::import::Limits::of(&state.settings);
    let read = web::block(move || {
        crate::import::read_upload(&file.filename, &file.content_type, &file.bytes, &limits)
    })
    .await
    .map_err(|e| PageError::internal(lang, e))?;
    let sheet = match read {
        Ok(sheet) => sheet,
        Err(e) => return refused(&person, e.into(), None),
    };
    match batch::create_from_sheet(&state, person.auth.id, sheet.clone()).await {
        Ok(report) => {
            let created = report
                .created
                .into_iter()
                .map(|c: BatchCreated| Created {
                    row: c.row,
                    username: c.user.username,
                    display_name: c.user.display_name,
                    role: c.user.role.as_str().to_string(),
                    password: c.generated_password,
                })
                .collect();
            let page = BatchPage {
                created,
                error: None,
                faults: Vec::new(),
                columns: Vec::new(),
                rows: Vec::new(),
            };
            render(
                StatusCode::CREATED,
                "admin_users_batch.html",
                lang,
                Some(&person),
                page,
            )
        }
        Err(e) => refused(&person, e, Some(&sheet)),
    }
}
