//! Calendar events as an iCalendar feed (RFC 5545) with the icalendar crate:
//! all-day events with stable UIDs, so calendar apps update rather than
//! duplicate them on every refresh. Text escaping and line folding are the
//! crate's.

use icalendar::{Calendar, Component, Event, EventLike};

use crate::calendar::CalendarEvent;

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
        calendar.push(
            Event::new()
                .uid(&e.uid)
                .timestamp(stamp)
                .all_day(e.date)
                .summary(&e.title)
                .description(&description)
                .add_property("CATEGORIES", &e.kind)
                .done(),
        );
    }
    calendar.done().to_string()
}
