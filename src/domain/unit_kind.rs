//! The kinds of unit that carry out tasks.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Message;

/// What sort of body a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// The leading-group office (领导小组办公室).
    Office,
    /// A township or street (乡镇/街道).
    Township,
    /// An industrial-park committee (工业园区管委会).
    Park,
    /// A government department (部门).
    Department,
    Other,
}

impl UnitKind {
    pub const ALL: [UnitKind; 5] = [
        UnitKind::Office,
        UnitKind::Township,
        UnitKind::Park,
        UnitKind::Department,
        UnitKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Office => "office",
            UnitKind::Township => "township",
            UnitKind::Park => "park",
            UnitKind::Department => "department",
            UnitKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<UnitKind, Message> {
        UnitKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Message::new(
                    "单位类型必须是 office、township、park、department 或 other",
                    "kind must be one of office, township, park, department, other",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in UnitKind::ALL {
            assert_eq!(UnitKind::parse(kind.as_str()), Ok(kind));
        }
        assert!(UnitKind::parse("village").is_err());
    }
}
