//! User accounts: the model, the rules (who sees whom, the last admin stays),
//! the HTTP routes, batch creation from a list and the first-admin bootstrap.

pub mod batch;
pub mod bootstrap;
pub mod model;
pub mod routes;
pub mod service;
