//! What proves who someone is: argon2id password hashes and JWT access
//! tokens. Built once at start-up into `AppState`; `auth` checks them on
//! each request. Knows nothing of requests or handlers.

pub mod password;
pub mod token;

pub use password::Passwords;
pub use token::Tokens;
