//! Tasks: the tree under a plan, who sees which task, the life-cycle actions,
//! progress reports, evidence, extension requests and the timeline.

pub mod actions;
pub mod attachments;
pub mod bulk;
pub mod events;
pub mod extensions;
pub mod import;
pub mod import_routes;
pub mod input;
pub mod model;
pub mod queues;
pub mod receipts;
pub mod reimport;
pub mod reports;
pub mod routes;
pub mod service;
pub mod tree;
pub mod visibility;
