//! The kinds of unit that carry out tasks.

crate::closed_set! {
    /// What sort of body a unit is.
    pub enum UnitKind ("单位类型", "kind") {
        /// The leading-group office (领导小组办公室).
        Office = "office",
        /// A township or street (乡镇/街道).
        Township = "township",
        /// An industrial-park committee (工业园区管委会).
        Park = "park",
        /// A government department (部门).
        Department = "department",
        Other = "other",
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
