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

    /// The first instant (UTC, as stored) whose local date is `day`, so that
    /// `local(at) < day` exactly when `at < day_start(day)`: how SQL compares
    /// stored instants with local dates. Midnight skipped by a clock change
    /// starts the day at the first local minute that exists.
    pub fn day_start(&self, day: NaiveDate) -> NaiveDateTime {
        use chrono::{Duration, TimeZone};
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        (0..24 * 60)
            .find_map(|m| {
                self.tz
                    .from_local_datetime(&(midnight + Duration::minutes(m)))
                    .earliest()
            })
            .map_or(midnight, |at| at.naive_utc())
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

    #[test]
    fn a_local_day_starts_at_its_first_instant() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 17, 30, 0).unwrap();
        let shanghai = Clock::at(now, chrono_tz::Asia::Shanghai, 3, 3);
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let start = shanghai.day_start(day);
        assert_eq!(
            start,
            Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0)
                .unwrap()
                .naive_utc()
        );
        assert_eq!(shanghai.local(start), day);
        assert!(shanghai.local(start - chrono::Duration::seconds(1)) < day);
        // Santiago skipped midnight on 2026-09-06: the day began at 01:00 local.
        let santiago = Clock::at(now, chrono_tz::America::Santiago, 3, 3);
        let skipped = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = santiago.day_start(skipped);
        assert_eq!(santiago.local(start), skipped);
        assert!(santiago.local(start - chrono::Duration::seconds(1)) < skipped);
    }
}
