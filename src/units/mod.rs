//! Units: the townships, park committees, departments and the office that
//! tasks are assigned to. Model, rules and HTTP routes.

pub mod model;
pub mod routes;
pub mod service;

/// A unit's stored aliases (its `aliases` column, a JSON array of names).
pub fn aliases_of(stored: &str) -> crate::error::Result<Vec<String>> {
    Ok(serde_json::from_str(stored).map_err(anyhow::Error::new)?)
}
