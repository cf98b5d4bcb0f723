//! Calendar events as an iCalendar feed (RFC 5545) with the icalendar crate:
//! all-day events with stable UIDs, so calendar apps update rather than
//! duplicate them on every refresh. Text escaping and line folding are the
//! crate's.

use icalendar::{Calendar, Component, Event, EventLike};

use super::CalendarEvent;

pub fn feed(name: &str, events: &[CalendarEvent], stamp: chrono::DateTime<chrono::Utc>) -> String {
    let mut calendar = Calendar::new();
    calendar
        .name(name)
        .append_property(("X-WR-TIMEZONE", "Asia/Shanghai"));
    for e in events {
        let mut description = e.description.clone();
        if e.overdue {
            description.push_str("（已逾期）");
        }
        let mut event = Event::new();
        event.uid(&e.uid).timestamp(stamp).starts(e.date);
        // DTEND is exclusive (RFC 5545 §3.6.1): a one-day event ends the
        // next day. (The crate's `all_day` writes DTEND = DTSTART, an event
        // of no length that some calendar apps drop.)
        if let Some(next) = e.date.succ_opt() {
            event.ends(next);
        }
        calendar.push(
            event
                .summary(&e.title)
                .description(&description)
                .add_property("CATEGORIES", &e.kind)
                .done(),
        );
    }
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use crate::calendar::CalendarEvent;

    #[test]
    fn all_day_events_end_the_next_day() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 31).expect("a date");
        let event = CalendarEvent {
            uid: "task-1@duban".into(),
            date,
            kind: "task_due".into(),
            title: "【任务截止】1.1 整改".into(),
            description: "状态：办理中".into(),
            unit_id: None,
            task_id: Some(crate::domain::TaskId(1)),
            indicator_id: None,
            bulletin_id: None,
            overdue: false,
        };
        let stamp = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("an instant");
        let text = super::feed("督办", &[event], stamp);
        assert!(text.contains("DTSTART;VALUE=DATE:20261231"), "{text}");
        assert!(text.contains("DTEND;VALUE=DATE:20270101"), "{text}");
    }
}
