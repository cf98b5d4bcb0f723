//! Plans (实施方案): a programme broken into a tree of tasks. Model, rules, routes.

pub mod model;
pub mod routes;
pub mod service;
