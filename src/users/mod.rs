//! User accounts: the model, the rules (who sees whom, the last admin stays),
//! the HTTP routes and the first-admin bootstrap.

pub mod bootstrap;
pub mod model;
pub mod routes;
pub mod service;
