//! Instants stored as UTC `NaiveDateTime` columns, written in responses as
//! RFC 3339 with `Z`, like every `DateTime<Utc>` (API convention: instants are
//! RFC 3339 UTC). For a row type that is also the response type:
//! `#[serde(serialize_with = "crate::http::instant::utc")]` with
//! `#[schema(value_type = chrono::DateTime<chrono::Utc>)]`.

use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

pub fn utc<S: Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    at.and_utc().serialize(s)
}

pub fn utc_opt<S: Serializer>(at: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    at.map(|at| at.and_utc()).serialize(s)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    #[derive(serde::Serialize)]
    struct Row {
        #[serde(serialize_with = "super::utc")]
        at: chrono::NaiveDateTime,
        #[serde(serialize_with = "super::utc_opt")]
        maybe: Option<chrono::NaiveDateTime>,
        #[serde(serialize_with = "super::utc_opt")]
        never: Option<chrono::NaiveDateTime>,
    }

    #[test]
    fn instants_end_in_z() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 1)
            .and_then(|d| d.and_hms_milli_opt(8, 30, 0, 250))
            .expect("a valid instant");
        let json = serde_json::to_value(Row {
            at,
            maybe: Some(at),
            never: None,
        })
        .expect("serialises");
        assert_eq!(json["at"], "2026-03-01T08:30:00.250Z");
        assert_eq!(json["maybe"], "2026-03-01T08:30:00.250Z");
        assert!(json["never"].is_null());
    }
}
