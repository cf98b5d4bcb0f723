//! Units: the townships, park committees, departments and the office that
//! tasks are assigned to. Model, rules and HTTP routes.

pub mod model;
pub mod routes;
pub mod service;
