//! Who is calling and what they may do: argon2id passwords, JWT access tokens,
//! the `AuthUser` extractor, the role permission table and sign-in throttling.

pub mod extractor;
pub mod password;
pub mod permissions;
pub mod routes;
pub mod sign_in;
pub mod throttle;
pub mod token;

pub use extractor::AuthUser;
pub use password::Passwords;
pub use permissions::Permission;
pub use token::Tokens;
