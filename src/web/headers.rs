//! The security headers every console response carries: a Content-Security-
//! Policy that allows only duban's own scripts and styles (no inline script),
//! no framing, no MIME sniffing, no full URLs in the Referer, no caching of
//! pages that show a person's work.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub async fn console_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let is_static = req.path().starts_with("/static/");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let own_policy = headers.contains_key(header::CONTENT_SECURITY_POLICY);
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    // A response that brings its own, stricter policy keeps it (the
    // bulletin preview: its printable page styles itself inline, no script).
    if !own_policy {
        set(header::CONTENT_SECURITY_POLICY, CSP);
    }
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    if !is_static {
        set(header::CACHE_CONTROL, "no-store");
    }
    Ok(res)
}
