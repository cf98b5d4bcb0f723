//! `GET /api/v1/stats/overview`: task totals by status and traffic light,
//! overall and per lead unit, over the tasks the caller may see. The handler
//! only checks and calls; `overview_of` counts.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthUser, Permission};
use crate::db::schema::units;
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::{PlanId, UnitId};
use crate::error::Result;
use crate::http::page::MAX_PER_PAGE;
use crate::http::problem::{ApiResult, Problem};
use crate::http::{Paging, QueryParams};
use crate::state::AppState;
use crate::tasks::input::ListFilter;
use crate::tasks::model::TaskView;
use crate::tasks::service;
use crate::tasks::visibility::{self, Scope};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/stats/overview", web::get().to(overview));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    pub plan_id: Option<i64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Counts {
    pub total: i64,
    /// Tasks per status (draft, assigned, in_progress, submitted, completed, cancelled).
    pub by_status: BTreeMap<String, i64>,
    /// Tasks per light (green, yellow, red).
    pub by_light: BTreeMap<String, i64>,
    pub overdue: i64,
}

impl Counts {
    fn add(&mut self, t: &TaskView) {
        self.total += 1;
        *self
            .by_status
            .entry(t.status.as_str().to_string())
            .or_default() += 1;
        if let Some(light) = t.light {
            *self.by_light.entry(light.as_str().to_string()).or_default() += 1;
        }
        if t.days_overdue > 0 && t.status.is_open() {
            self.overdue += 1;
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitCounts {
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    #[serde(flatten)]
    pub totals: Counts,
    /// Per lead unit, by unit code.
    pub units: Vec<UnitCounts>,
}

/// Totals by status and light, overall and per lead unit.
#[utoipa::path(get, path = "/api/v1/stats/overview", tag = "tasks", params(OverviewQuery),
    responses((status = 200, body = Overview), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn overview(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<OverviewQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let clock = state.clock();
    let plan = query.0.plan_id.map(PlanId);
    let overview = state
        .db(move |conn| overview_of(conn, scope, plan, &clock))
        .await?;
    Ok(HttpResponse::Ok().json(overview))
}

/// The overview of the tasks `scope` sees (of one plan, if given), for `clock.today`.
pub fn overview_of(
    conn: &mut DbConnection,
    scope: Scope,
    plan: Option<PlanId>,
    clock: &Clock,
) -> Result<Overview> {
    let views = visible_tasks(conn, scope, plan, clock)?;
    let names: BTreeMap<UnitId, (String, String)> = units::table
        .select((units::id, units::code, units::name))
        .load::<(UnitId, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect();
    let mut totals = Counts::default();
    let mut per_unit: BTreeMap<UnitId, Counts> = BTreeMap::new();
    for t in &views {
        totals.add(t);
        per_unit.entry(t.lead_unit_id).or_default().add(t);
    }
    let mut units: Vec<UnitCounts> = per_unit
        .into_iter()
        .map(|(unit_id, counts)| UnitCounts {
            unit_id,
            unit_name: names.get(&unit_id).map(|n| n.1.clone()).unwrap_or_default(),
            counts,
        })
        .collect();
    units.sort_by(|a, b| names.get(&a.unit_id).cmp(&names.get(&b.unit_id)));
    Ok(Overview { totals, units })
}

/// Every task `scope` sees, paged through with the list's own rules, so the
/// overview and the list never disagree.
fn visible_tasks(
    conn: &mut DbConnection,
    scope: Scope,
    plan: Option<PlanId>,
    clock: &Clock,
) -> Result<Vec<TaskView>> {
    let filter = ListFilter {
        plan_id: plan,
        ..Default::default()
    };
    let mut views = Vec::new();
    let mut page = 1;
    loop {
        let paging = Paging {
            page,
            per_page: MAX_PER_PAGE,
        };
        let batch = service::list(conn, scope, &filter, paging, clock)?;
        let done = batch.items.len() < MAX_PER_PAGE as usize;
        views.extend(batch.items);
        if done {
            return Ok(views);
        }
        page += 1;
    }
}
