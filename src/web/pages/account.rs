//! Signing in and out, the own password, the language switch.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::http::client_address::client_address;
use crate::sign_in;
use crate::state::AppState;
use crate::web::csrf;
use crate::web::page::{lang_of, render, safe_next, see_other, OrPage, PageError, LANG_COOKIE};
use crate::web::session::{self, Person};

/// The sign-in form's own CSRF cookie (there is no session yet to hold it).
const LOGIN_CSRF: &str = "duban_login_csrf";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Serialize)]
struct LoginPage<'a> {
    next: &'a str,
    username: &'a str,
    csrf: &'a str,
    error: Option<String>,
}

fn login_page(
    req: &HttpRequest,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let lang = lang_of(req);
    let token = crate::secrets::random_hex(24);
    let page = LoginPage {
        next,
        username,
        csrf: &token,
        error,
    };
    let mut res = render(status, "login.html", lang, None, page)?;
    let cookie = Cookie::build(LOGIN_CSRF, token)
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    res.add_cookie(&cookie)
        .map_err(|e| PageError::internal(lang, e))?;
    Ok(res)
}

/// GET /login
pub async fn login_form(
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let next = safe_next(query.next.as_deref());
    login_page(&req, StatusCode::OK, &next, "", None)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// POST /login: the API's throttle and password check, then a session.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let lang = lang_of(&req);
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let expected = req
        .cookie(LOGIN_CSRF)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !csrf::matches(&form.csrf, &expected) {
        let error = crate::i18n::text(lang, "login.expired").to_string();
        return login_page(
            &req,
            StatusCode::FORBIDDEN,
            &next,
            &form.username,
            Some(error),
        );
    }
    let client = client_address(&req, &state.trusted_proxies);
    let row = match sign_in::authenticate(&state, &form.username, form.password, &client).await {
        Ok(row) => row,
        Err(e) => {
            use actix_web::ResponseError;
            let status = e.status_code();
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS {
                return login_page(&req, status, &next, &form.username, Some(e.sentence(lang)));
            }
            return Err(PageError::from_api(lang, e));
        }
    };
    let now = chrono::Utc::now().naive_utc();
    let id = row.id;
    let token = state
        .db(move |conn| Ok(session::open(conn, id, now)?))
        .await
        .page(lang)?;
    let to = if row.must_change_password {
        "/password".to_string()
    } else {
        next
    };
    let mut res = see_other(&to);
    res.add_cookie(&session::cookie(&state.settings, &token))
        .map_err(|e| PageError::internal(lang, e))?;
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

/// POST /logout: the session ends on the server, the cookie goes.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    person: Person,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    person.check_csrf(&form.csrf)?;
    if let Some(token) = req.cookie(session::COOKIE).map(|c| c.value().to_string()) {
        let now = chrono::Utc::now().naive_utc();
        state
            .db(move |conn| Ok(session::revoke(conn, &token, now)?))
            .await
            .page(lang)?;
    }
    let mut res = see_other("/login");
    res.add_cookie(&session::cookie(&state.settings, ""))
        .map_err(|e| PageError::internal(lang, e))?;
    Ok(res)
}

#[derive(Serialize)]
struct PasswordPage {
    required: bool,
    error: Option<String>,
    field: Option<String>,
}

/// GET /password
pub async fn password_form(person: Person) -> Result<HttpResponse, PageError> {
    let page = PasswordPage {
        required: person.must_change_password,
        error: None,
        field: None,
    };
    render(
        StatusCode::OK,
        "password.html",
        person.lang,
        Some(&person),
        page,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// POST /password: the API's rules; a fresh session afterwards (the change
/// ends every session of the account, this one too).
pub async fn change_password(
    state: web::Data<AppState>,
    person: Person,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let failed = |field: &str, error: String| {
        let page = PasswordPage {
            required: person.must_change_password,
            error: Some(error),
            field: Some(field.to_string()),
        };
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password.html",
            lang,
            Some(&person),
            page,
        )
    };
    if form.new_password != form.confirm_password {
        let text = crate::i18n::text(lang, "password.mismatch").to_string();
        return failed("confirm_password", text);
    }
    let id = person.auth.id;
    if let Err(e) =
        sign_in::change_own_password(&state, id, form.current_password, &form.new_password).await
    {
        let field = e.fields().first().map(|f| f.field.clone());
        return match field {
            Some(field) => failed(&field, e.sentence(lang)),
            None => Err(PageError::from_api(lang, e)),
        };
    }
    let now = chrono::Utc::now().naive_utc();
    let token = state
        .db(move |conn| Ok(session::open(conn, id, now)?))
        .await
        .page(lang)?;
    let mut res = see_other("/");
    res.add_cookie(&session::cookie(&state.settings, &token))
        .map_err(|e| PageError::internal(lang, e))?;
    Ok(res)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangForm {
    lang: String,
    next: Option<String>,
}

/// POST /lang: remembers the choice in a cookie for a year. Only a display
/// preference changes, nothing on the server, so no CSRF token is needed.
pub async fn set_lang(
    req: HttpRequest,
    form: web::Form<LangForm>,
) -> Result<HttpResponse, PageError> {
    let lang = lang_of(&req);
    let value = if form.lang == "en" { "en" } else { "zh-CN" };
    let mut res = see_other(&safe_next(form.next.as_deref()));
    let cookie = Cookie::build(LANG_COOKIE, value)
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    res.add_cookie(&cookie)
        .map_err(|e| PageError::internal(lang, e))?;
    Ok(res)
}
