//! The last two months day by day: the scan each morning, and on the 1st
//! the previous month's bulletin, drafted and published by the office, with
//! half the criticised units finishing their rectification in time. Then
//! what the ladder sent before today is marked as gone out then.

use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;

use super::failed;
use super::tasks::Builder;
use crate::config::Settings;
use crate::db::schema::{notices, tasks};
use crate::domain::clock::Clock;
use crate::domain::kinds::{Category, NoticeStatus};
use crate::domain::period::Period;
use crate::domain::task_state::TaskStatus;
use crate::domain::{TaskId, UserId};

/// Runs the days from the history's start to today; returns the bulletins
/// published, as their number and month.
pub(super) fn simulate(b: &mut Builder, settings: &Settings) -> anyhow::Result<Vec<String>> {
    let mut bulletins = Vec::new();
    let mut day = b.start;
    while day <= b.today {
        crate::notices::scan::scan(b.conn, settings, day, b.at(day, 8))?;
        if day.day() == 1 && day > b.start {
            bulletins.push(bulletin(b, settings, day)?);
            rectify(b, day)?;
        }
        day += Duration::days(1);
    }
    mark_sent(b)?;
    Ok(bulletins)
}

/// The previous month's bulletin, drafted and published on `day`.
fn bulletin(b: &mut Builder, settings: &Settings, day: NaiveDate) -> anyhow::Result<String> {
    let office = Some(UserId(b.office_user));
    let period = Period::previous_month(day);
    let clock = Clock {
        now: b.at(day, 10),
        today: day,
        warn_days: settings.yellow_warning_days,
        accept_days: settings.accept_within_days,
        tz: b.tz,
    };
    // A draft the scheduler made before the demo was loaded (an older duban
    // drafted one for the month before installation) is regenerated from the
    // demo's data instead of refused.
    let draft = match crate::bulletins::find_for_period(b.conn, period)? {
        Some(row) if !row.is_published() => {
            crate::bulletins::regenerate(b.conn, settings, &clock, office, row.id, None)
        }
        _ => crate::bulletins::create(b.conn, settings, &clock, office, period),
    }
    .map_err(|e| {
        failed(
            &format!("drafting the bulletin for {}", period.label()),
            e.into(),
        )
    })?;
    let (published, _) = crate::bulletins::publish::publish(
        b.conn, settings, &clock, office, draft.id,
    )
    .map_err(|e| {
        failed(
            &format!("publishing the bulletin for {}", period.label()),
            e.into(),
        )
    })?;
    Ok(format!(
        "{}（{}）",
        published.number_label().unwrap_or_default(),
        period.label_zh()
    ))
}

/// Half the criticised units finish this bulletin's rectification in time
/// (earlier ones stay as they were: history does not change).
fn rectify(b: &mut Builder, day: NaiveDate) -> anyhow::Result<()> {
    let (today, office_user) = (b.today, b.office_user);
    let rect: Vec<(TaskId, Option<NaiveDate>, i64)> = tasks::table
        .filter(tasks::category.eq(Category::Rectification))
        .filter(tasks::status.eq(TaskStatus::Assigned))
        .filter(tasks::due_date.gt(day))
        .select((tasks::id, tasks::due_date, tasks::lead_unit_id))
        .load(b.conn)?;
    for (i, (id, due, lead)) in rect.into_iter().enumerate() {
        let Some(due) = due else { continue };
        let done = due - Duration::days(2);
        if i % 2 == 1 || done > today {
            continue;
        }
        diesel::update(tasks::table.find(id))
            .set((
                tasks::status.eq(TaskStatus::Completed),
                tasks::progress.eq(100),
                tasks::accepted_at.eq(b.at(day, 14)),
                tasks::submitted_on.eq(done),
                tasks::submitted_at.eq(b.at(done, 16)),
                tasks::completed_at.eq(b.at(done + Duration::days(1), 10)),
            ))
            .execute(b.conn)?;
        let clerk = b.clerks.get(&lead).copied().unwrap_or(office_user);
        b.event(id, "accepted", clerk, Some(lead), None, b.at(day, 14))?;
        b.event(
            id,
            "submitted",
            clerk,
            Some(lead),
            Some("已完成整改并书面报告"),
            b.at(done, 16),
        )?;
        b.event(
            id,
            "verified",
            office_user,
            None,
            Some("整改到位"),
            b.at(done + Duration::days(1), 10),
        )?;
    }
    Ok(())
}

/// What the ladder sent before today went out then; today's wait for the
/// scheduler.
fn mark_sent(b: &mut Builder) -> QueryResult<()> {
    let today_start = b.at(b.today, 0);
    diesel::update(
        notices::table
            .filter(notices::created_at.lt(today_start))
            .filter(notices::status.eq(NoticeStatus::Pending)),
    )
    .set((
        notices::status.eq(NoticeStatus::Sent),
        notices::attempts.eq(1),
        notices::sent_at.eq(notices::created_at.nullable()),
    ))
    .execute(b.conn)?;
    Ok(())
}
