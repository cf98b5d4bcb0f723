//! The middleware around every request that gives a bearer token's account
//! check its place (`credentials::account_check`), and makes the check
//! after the handler when the handler left it undone.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::credentials::account_check;
use crate::http::problem::ApiError;
use crate::state::AppState;

/// Runs the request inside `account_check::scope`. A bearer token's check
/// is made with the handler's first database work; when the handler reached
/// no database it is made here, after the handler, and a revoked token gets
/// its 401 whatever the handler answered (the answer is dropped unsent).
pub async fn account_check(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (res, unchecked) = account_check::scope(next.call(req)).await;
    let res = res?;
    let Some(claim) = unchecked else {
        return Ok(res.map_into_left_body());
    };
    let checked = match state {
        Some(state) => state.db(move |conn| claim.check(conn)).await,
        None => Err(ApiError::internal(anyhow::anyhow!("no app state"))),
    };
    Ok(match checked {
        Ok(()) => res.map_into_left_body(),
        Err(refused) => {
            let (req, _) = res.into_parts();
            ServiceResponse::from_err(refused, req).map_into_right_body()
        }
    })
}
