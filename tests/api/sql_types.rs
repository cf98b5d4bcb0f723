//! Domain types go into the database and come back as themselves on both
//! backends: closed sets by name, ids as integers, a name outside the set an
//! error rather than a silent default.

use diesel::prelude::*;
use duban::db::schema::{plans, units};
use duban::domain::kinds::{NoticeMode, PlanStatus, WebhookKind};
use duban::domain::{PlanId, UnitId, UnitKind};

use crate::api_tests;
use crate::helpers::TestApp;

api_tests![closed_sets_and_ids_round_trip_through_the_database];

async fn closed_sets_and_ids_round_trip_through_the_database(app: TestApp) {
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    for status in PlanStatus::ALL {
        let id: PlanId = diesel::insert_into(plans::table)
            .values((
                plans::title.eq(format!("方案 {status}")),
                plans::year.eq(2026),
                plans::status.eq(status),
                plans::created_at.eq(now),
                plans::updated_at.eq(now),
            ))
            .returning(plans::id)
            .get_result(&mut conn)
            .unwrap();
        let (back_id, back): (PlanId, PlanStatus) = plans::table
            .find(id)
            .select((plans::id, plans::status))
            .first(&mut conn)
            .unwrap();
        assert_eq!((back_id, back), (id, status));
        // Filters take the typed value too.
        let n: i64 = plans::table
            .filter(plans::status.eq(status))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(n, 1, "{status}");
    }
    // Nullable closed sets read as Option.
    let unit: UnitId = diesel::insert_into(units::table)
        .values((
            units::code.eq("T01"),
            units::name.eq("城关镇"),
            units::kind.eq(UnitKind::Township),
            units::contact_emails.eq("[]"),
            units::active.eq(true),
            units::created_at.eq(now),
            units::updated_at.eq(now),
            units::notice_mode.eq(NoticeMode::Digest),
        ))
        .returning(units::id)
        .get_result(&mut conn)
        .unwrap();
    let (kind, robot, mode): (UnitKind, Option<WebhookKind>, NoticeMode) = units::table
        .find(unit)
        .select((units::kind, units::webhook_kind, units::notice_mode))
        .first(&mut conn)
        .unwrap();
    assert_eq!(
        (kind, robot, mode),
        (UnitKind::Township, None, NoticeMode::Digest)
    );
    // A stored name outside the set is an error, not a default.
    let odd = diesel::sql_query("SELECT 'nonsense' AS status").load::<Status>(&mut conn);
    assert!(odd.is_err(), "a name outside the set must not read");
}

#[derive(QueryableByName, Debug)]
struct Status {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    status: PlanStatus,
}
