//! The baselines of `bench/run` (docs/performance.md): the same rows read
//! and written with the same pool and the same SQL as duban, but no sign-in,
//! no visibility, no events, no audit; and the scan's and the bulletin's work
//! written as raw SQL statements. What duban does beyond these is what its
//! ratios measure.
//!
//! A `[[bench]]` target so that `cargo test` does not build it; `bench/run`
//! builds it with `cargo bench --no-run` and runs it as
//!   baseline_server serve DATABASE_URL 127.0.0.1:PORT
//!   baseline_server scan DATABASE_URL TODAY        (prints seconds)
//!   baseline_server bulletin DATABASE_URL FROM TO  (prints seconds)
//! Served: `/healthz`, `/tasks/{id}`, `/tasks?lead_unit_id=&status=`,
//! `POST /tasks/{id}/reports`, `/rankings?from=&to=` (the raw aggregate).
//! Without a mode (as `cargo bench` runs it) it does nothing.

use std::time::Instant;

use actix_web::{web, App, HttpResponse, HttpServer};
use diesel::prelude::*;
use duban::config::Settings;
use duban::db::schema::{progress_reports, tasks};
use duban::db::{DbConnection, DbPool};
use duban::tasks::model::TaskRow;

type Reply = Result<HttpResponse, actix_web::Error>;

fn failed(e: impl std::fmt::Display) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(e.to_string())
}

/// Runs `f` on a pooled connection on the blocking pool, like duban's handlers.
async fn db<T: Send + 'static>(
    pool: web::Data<DbPool>,
    f: impl FnOnce(&mut DbConnection) -> QueryResult<T> + Send + 'static,
) -> Result<T, actix_web::Error> {
    web::block(move || -> Result<T, String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        f(&mut conn).map_err(|e| e.to_string())
    })
    .await
    .map_err(failed)?
    .map_err(failed)
}

fn view(t: &TaskRow) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "plan_id": t.plan_id, "parent_id": t.parent_id, "code": t.code,
        "title": t.title, "lead_unit_id": t.lead_unit_id, "due_date": t.due_date,
        "status": t.status, "progress": t.progress, "version": t.version,
        "updated_at": t.updated_at,
    })
}

/// The task row by id.
async fn task(pool: web::Data<DbPool>, id: web::Path<i64>) -> Reply {
    let id = id.into_inner();
    let row = db(pool, move |c| {
        tasks::table
            .filter(tasks::id.eq(id))
            .select(TaskRow::as_select())
            .first(c)
            .optional()
    })
    .await?;
    Ok(match row {
        Some(t) => HttpResponse::Ok().json(view(&t)),
        None => HttpResponse::NotFound().finish(),
    })
}

#[derive(serde::Deserialize)]
struct ListQuery {
    lead_unit_id: i64,
    status: Option<String>,
}

/// A unit's tasks in a status, by due date, a page of 20 and the total.
async fn list(pool: web::Data<DbPool>, q: web::Query<ListQuery>) -> Reply {
    let q = q.into_inner();
    let (rows, total) = db(pool, move |c| {
        let filtered = || {
            let mut query = tasks::table
                .filter(tasks::lead_unit_id.eq(q.lead_unit_id))
                .into_boxed();
            if let Some(s) = &q.status {
                query = query.filter(tasks::status.eq(s.clone()));
            }
            query
        };
        let rows = filtered()
            .order((tasks::due_date.asc(), tasks::id.asc()))
            .limit(20)
            .select(TaskRow::as_select())
            .load(c)?;
        let total: i64 = filtered().count().get_result(c)?;
        Ok((rows, total))
    })
    .await?;
    let items: Vec<_> = rows.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items, "total": total })))
}

#[derive(serde::Deserialize)]
struct Report {
    percent: i32,
    body: String,
}

/// One bare progress-report row in one transaction.
async fn report(pool: web::Data<DbPool>, id: web::Path<i64>, body: web::Json<Report>) -> Reply {
    let (id, body) = (id.into_inner(), body.into_inner());
    let new = db(pool, move |c| {
        c.write(|c| {
            let unit: i64 = tasks::table.find(id).select(tasks::lead_unit_id).first(c)?;
            diesel::insert_into(progress_reports::table)
                .values((
                    progress_reports::task_id.eq(id),
                    progress_reports::unit_id.eq(unit),
                    progress_reports::author_id.eq(1),
                    progress_reports::percent.eq(body.percent),
                    progress_reports::body.eq(body.body),
                    progress_reports::created_at.eq(chrono::Utc::now().naive_utc()),
                ))
                .returning(progress_reports::id)
                .get_result::<i64>(c)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": new })))
}

#[derive(serde::Deserialize)]
struct Span {
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
}

/// The raw aggregate a period's ranking is made of (`bulletin_sql`'s three
/// GROUP BYs, read instead of stored): per lead unit, the tasks due in the
/// period, those done on time, those open past their date.
async fn rankings(pool: web::Data<DbPool>, q: web::Query<Span>) -> Reply {
    use diesel::dsl::count_star;
    let Span { from, to } = q.into_inner();
    let (due, on_time, overdue) = db(pool, move |c| {
        let due: Vec<(i64, i64)> = tasks::table
            .filter(tasks::due_date.between(from, to))
            .group_by(tasks::lead_unit_id)
            .select((tasks::lead_unit_id, count_star()))
            .load(c)?;
        let on_time: Vec<(i64, i64)> = tasks::table
            .filter(tasks::due_date.between(from, to))
            .filter(tasks::status.eq("completed"))
            .filter(tasks::submitted_on.le(tasks::due_date))
            .group_by(tasks::lead_unit_id)
            .select((tasks::lead_unit_id, count_star()))
            .load(c)?;
        let overdue: Vec<(i64, i64)> = tasks::table
            .filter(tasks::due_date.le(to))
            .filter(tasks::status.eq_any(["assigned", "in_progress", "submitted"]))
            .group_by(tasks::lead_unit_id)
            .select((tasks::lead_unit_id, count_star()))
            .load(c)?;
        Ok((due, on_time, overdue))
    })
    .await?;
    let mut units: std::collections::BTreeMap<i64, [i64; 3]> = Default::default();
    for (i, rows) in [due, on_time, overdue].into_iter().enumerate() {
        for (unit, n) in rows {
            units.entry(unit).or_default()[i] = n;
        }
    }
    let rows: Vec<_> = units
        .into_iter()
        .map(|(unit, [due, on_time, overdue])| {
            serde_json::json!({ "unit_id": unit, "due": due, "on_time": on_time, "overdue": overdue })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "units": rows })))
}

fn settings(url: &str) -> Settings {
    Settings {
        database_url: Some(url.to_string()),
        ..Settings::default()
    }
}

/// Times `sql` run inside a transaction that is then rolled back, so the
/// statement can be timed again on the same rows.
fn time_rolled_back(url: &str, sql: &[String]) -> anyhow::Result<f64> {
    let pool = duban::startup::open_database(&settings(url))?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let result = conn.write(|c| -> QueryResult<()> {
        for s in sql {
            diesel::sql_query(s.as_str()).execute(c)?;
        }
        Err(diesel::result::Error::RollbackTransaction)
    });
    let elapsed = started.elapsed().as_secs_f64();
    match result {
        Err(diesel::result::Error::RollbackTransaction) => Ok(elapsed),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(elapsed),
    }
}

/// The scan's work as one statement: a notice for every open task past its
/// due date (the chase) or within a week of it (the reminder), deduplicated
/// by the same unique key.
fn scan_sql(today: &str) -> Vec<String> {
    vec![format!(
        "INSERT INTO notices (task_id, unit_id, step, due_date, dedupe_key, recipients, subject, \
         body_text, body_html, status, next_attempt_at, created_at) \
         SELECT id, lead_unit_id, CASE WHEN due_date < '{today}' THEN 'chase' ELSE 'reminder' END, \
         due_date, 'baseline:' || id, '[]', title, title, title, 'pending', \
         '{today} 00:00:00', '{today} 00:00:00' FROM tasks \
         WHERE status IN ('assigned', 'in_progress') AND due_date < '{}'",
        week_after(today)
    )]
}

fn week_after(today: &str) -> String {
    chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d")
        .map(|d| (d + chrono::Duration::days(7)).to_string())
        .unwrap_or_else(|_| today.to_string())
}

/// The bulletin's figures as three GROUP BYs over the same rows: tasks due
/// in the period per unit, those done on time, those open past their date.
fn bulletin_sql(from: &str, to: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TEMPORARY TABLE baseline_due AS SELECT lead_unit_id, count(*) AS n FROM tasks \
             WHERE due_date BETWEEN '{from}' AND '{to}' GROUP BY lead_unit_id"
        ),
        format!(
            "CREATE TEMPORARY TABLE baseline_on_time AS SELECT lead_unit_id, count(*) AS n FROM tasks \
             WHERE due_date BETWEEN '{from}' AND '{to}' AND status = 'completed' \
             AND submitted_on <= due_date GROUP BY lead_unit_id"
        ),
        format!(
            "CREATE TEMPORARY TABLE baseline_overdue AS SELECT lead_unit_id, count(*) AS n FROM tasks \
             WHERE due_date <= '{to}' AND status IN ('assigned', 'in_progress', 'submitted') \
             GROUP BY lead_unit_id"
        ),
    ]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> anyhow::Result<&str> {
        args.get(i).map(String::as_str).ok_or_else(|| {
            anyhow::anyhow!("missing argument {i}; see the header of benches/baseline_server.rs")
        })
    };
    match args.first().map(String::as_str) {
        Some("serve") => serve(arg(1)?, arg(2)?),
        Some("scan") => {
            println!("{:.4}", time_rolled_back(arg(1)?, &scan_sql(arg(2)?))?);
            Ok(())
        }
        Some("bulletin") => {
            println!(
                "{:.4}",
                time_rolled_back(arg(1)?, &bulletin_sql(arg(2)?, arg(3)?))?
            );
            Ok(())
        }
        // `cargo bench` runs every bench target with `--bench`: nothing to do.
        _ => Ok(()),
    }
}

fn serve(url: &str, listen: &str) -> anyhow::Result<()> {
    let settings = settings(url);
    let pool = duban::startup::open_database(&settings)?;
    let listen = listen.to_string();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(pool.clone()))
                .route(
                    "/healthz",
                    web::get().to(|| async { HttpResponse::Ok().body("ok") }),
                )
                .route("/tasks", web::get().to(list))
                .route("/rankings", web::get().to(rankings))
                .route("/tasks/{id}", web::get().to(task))
                .route("/tasks/{id}/reports", web::post().to(report))
        })
        .bind(listen)?
        .run()
        .await
    })?;
    Ok(())
}
