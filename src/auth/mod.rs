//! Who is calling and what they may do: the `AuthUser` extractor (checking
//! the `credentials`) and its middleware, the role permission table and
//! sign-in throttling.

pub mod extractor;
pub mod middleware;
pub mod permissions;
pub mod throttle;

pub use extractor::AuthUser;
pub use permissions::Permission;
