//! Task rules and queries, by concern: `query` (finding tasks, the filtered
//! list), `view` (what the API shows for today, the detail) and `write`
//! (creating and changing tasks). Callers name them through this module.

mod query;
mod view;
mod write;

pub use query::{codes_in_plan, find, find_locked, list, overdue_by_lead_unit, UnitOverdue};
pub use view::{detail, last_reports, timing, to_view, view_one, views};
pub use write::{audit_task, check_units, create, refuse_changes, refuse_new, update, Origin};
