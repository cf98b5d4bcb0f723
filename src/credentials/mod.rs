//! What proves who someone is: argon2id password hashes, JWT access tokens
//! and the check of a token's account. Built once at start-up into
//! `AppState`; `auth` checks them on each request. Knows nothing of routes
//! or handlers.

pub mod account_check;
pub mod password;
pub mod token;

pub use password::Passwords;
pub use token::Tokens;
