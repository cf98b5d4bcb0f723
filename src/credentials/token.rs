//! JWT access tokens: HS256 only (the algorithm is pinned, so `alg: none` or an
//! RS/HS confusion is refused), with `exp`, `iss`, `aud`, `sub`, the role, the
//! unit and the account's token version (bumped to revoke earlier tokens).

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::{Role, UnitId, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub unit: Option<i64>,
    /// The account's token version when the token was issued.
    pub ver: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

impl Tokens {
    pub fn new(secret: &[u8], settings: &Settings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            ttl_secs: settings.jwt_ttl_minutes.saturating_mul(60),
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs a token for the account, valid from `now` for the configured lifetime.
    pub fn issue(
        &self,
        user: UserId,
        role: Role,
        unit: Option<UnitId>,
        token_version: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user.to_string(),
            role,
            unit: unit.map(|u| u.0),
            ver: token_version,
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing the access token")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

const SECRET_FILE: &str = "jwt-secret";

/// The signing key: the configured one, else the one kept in the data
/// directory, else a new one written there (mode 0600) so restarts keep
/// sessions valid.
pub fn load_or_create_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        let secret = secret.expose_secret().as_bytes().to_vec();
        anyhow::ensure!(
            secret.len() >= 32,
            "DUBAN_JWT_SECRET must be at least 32 bytes long"
        );
        return Ok(secret);
    }
    let path = settings.data_dir.join(SECRET_FILE);
    if path.exists() {
        let secret = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let secret = secret.trim().as_bytes().to_vec();
        anyhow::ensure!(secret.len() >= 32, "{} is too short", path.display());
        return Ok(secret);
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let secret = crate::secrets::random_hex(32);
    crate::secrets::write_private(&path, &secret, false)?;
    Ok(secret.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &[u8]) -> Tokens {
        Tokens::new(secret, &Settings::default())
    }

    #[test]
    fn a_token_verifies_with_its_own_key_only() {
        let now = chrono::Utc::now();
        let t = tokens(b"0123456789abcdef0123456789abcdef");
        let token = t
            .issue(UserId(7), Role::Unit, Some(UnitId(3)), 2, now)
            .unwrap();
        let claims = t.verify(&token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.role, claims.unit, claims.ver),
            ("7", Role::Unit, Some(3), 2)
        );
        let other = tokens(b"another-key-another-key-another-key");
        assert_eq!(other.verify(&token).unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn an_old_token_is_expired() {
        let t = tokens(b"0123456789abcdef0123456789abcdef");
        let long_ago = chrono::Utc::now() - chrono::Duration::days(2);
        let token = t.issue(UserId(1), Role::Admin, None, 1, long_ago).unwrap();
        assert_eq!(t.verify(&token).unwrap_err(), TokenError::Expired);
    }
}
