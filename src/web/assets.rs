//! The console's static files (style sheet, one small script), embedded in the
//! binary and served under a name that carries a hash of the content, so a
//! browser may keep them for a year and still never runs an old copy.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

struct Asset {
    /// `duban.3f2a9c1b.css`
    hashed: String,
    plain: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "duban.css",
        "text/css; charset=utf-8",
        include_bytes!("static/duban.css"),
    ),
    (
        "duban.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/duban.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("static/favicon.svg"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, content_type, body)| {
            let digest = hex::encode(Sha256::digest(body));
            let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
            Asset {
                hashed: format!("{stem}.{}.{ext}", &digest[..12]),
                plain: name,
                content_type,
                body,
            }
        })
        .collect()
});

/// The URL of a static file by its plain name (`duban.css`).
pub fn url(name: &str) -> String {
    ASSETS.iter().find(|a| a.plain == name).map_or_else(
        || format!("/static/{name}"),
        |a| format!("/static/{}", a.hashed),
    )
}

/// GET /static/{name}: only the hashed names are served.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.hashed == *name) {
        Some(asset) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.body),
        None => HttpResponse::NotFound()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_a_template_names_exists() {
        for (name, source) in crate::web::templates::sources() {
            for part in source.split("asset('").skip(1) {
                let asset = part.split('\'').next().unwrap();
                assert!(
                    ASSETS.iter().any(|a| a.plain == asset),
                    "{name} names the missing asset {asset}"
                );
            }
        }
    }
}
