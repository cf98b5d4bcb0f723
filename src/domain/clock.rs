//! "Now" for the rules: the instant (UTC), the local date in the configured
//! zone, and the periods that judge tasks at that moment (when a task turns
//! yellow, when signing for it is late). Built once per request or job run,
//! from the typed settings, so it cannot fail; rules take it as an argument
//! and never read the system clock themselves.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::calendar::local_date;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The instant, in UTC as stored.
    pub now: NaiveDateTime,
    /// The local date at `now`.
    pub today: NaiveDate,
    pub tz: Tz,
    /// A task due within this many days is yellow.
    pub warn_days: i64,
    /// An assigned task not signed for within this many days is flagged.
    pub accept_days: i64,
}

impl Clock {
    pub fn at(now: DateTime<Utc>, tz: Tz, warn_days: i64, accept_days: i64) -> Clock {
        Clock {
            now: now.naive_utc(),
            today: local_date(now, tz),
            tz,
            warn_days,
            accept_days,
        }
    }

    /// The local date of a stored UTC instant.
    pub fn local(&self, at: NaiveDateTime) -> NaiveDate {
        local_date(at.and_utc(), self.tz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn today_is_the_local_date_of_the_instant() {
        // 17:30 UTC is 01:30 the next day in Shanghai.
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 17, 30, 0).unwrap();
        let clock = Clock::at(now, chrono_tz::Asia::Shanghai, 3, 3);
        assert_eq!(clock.today, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(clock.local(clock.now), clock.today);
    }
}
