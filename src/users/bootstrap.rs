//! The first admin account, created at start-up when none exists.

use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::credentials::Passwords;
use crate::db::DbConnection;
use crate::domain::values::{Password, Username};

/// What start-up did about the first admin.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstAdmin {
    /// An admin already existed; nothing was created.
    Existing,
    /// Created with the password from `DUBAN_ADMIN_PASSWORD`.
    CreatedWithConfiguredPassword { username: String },
    /// Created with a generated password, shown this once.
    CreatedWithGeneratedPassword { username: String, password: String },
}

pub fn ensure_first_admin(
    conn: &mut DbConnection,
    settings: &Settings,
    passwords: &Passwords,
) -> anyhow::Result<FirstAdmin> {
    let username = Username::parse(&settings.admin_username)
        .map_err(|m| anyhow::anyhow!("admin_username: {}", m.en))?;
    let configured = settings
        .admin_password
        .as_ref()
        .map(|p| p.expose_secret().to_string());
    if let Some(p) = &configured {
        Password::parse_for(p, username.as_str())
            .map_err(|m| anyhow::anyhow!("DUBAN_ADMIN_PASSWORD: {}", m.en))?;
    }
    let password = configured.clone().unwrap_or_else(generate_password);
    let created = super::service::ensure_first_admin(
        conn,
        &username,
        || passwords.hash_blocking(&password),
        chrono::Utc::now().naive_utc(),
    )
    .map_err(|e| anyhow::anyhow!("creating the first admin: {e}"))?;
    let username = username.into_inner();
    Ok(match (created, configured) {
        (false, _) => FirstAdmin::Existing,
        (true, Some(_)) => FirstAdmin::CreatedWithConfiguredPassword { username },
        (true, None) => FirstAdmin::CreatedWithGeneratedPassword { username, password },
    })
}

/// A random password of 20 characters from an alphabet without look-alikes.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// A generated password checked by the same policy as a typed one, and its
/// text to show once (a new account's or a reset one's).
pub fn one_time_password() -> crate::http::problem::ApiResult<(Password, String)> {
    let text = generate_password();
    let parsed = Password::parse(&text).map_err(|m| {
        crate::http::problem::ApiError::internal(anyhow::anyhow!(
            "generated password rejected: {}",
            m.en
        ))
    })?;
    Ok((parsed, text))
}
