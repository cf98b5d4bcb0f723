//! Who is calling and what they may do: the `AuthUser` extractor (checking
//! the `credentials`), the role permission table, sign-in and its throttling.

pub mod extractor;
pub mod permissions;
pub mod routes;
pub mod sign_in;
pub mod throttle;

pub use extractor::AuthUser;
pub use permissions::Permission;
