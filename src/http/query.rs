//! `QueryParams<T>`: query-string parameters parsed strictly (unknown
//! parameters rejected), with the offending parameter named on failure.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = form_urlencoded::parse(req.query_string().as_bytes());
        let de = serde_urlencoded::Deserializer::new(parsed);
        ready(
            serde_path_to_error::deserialize(de)
                .map(QueryParams)
                .map_err(|err| {
                    let path = err.path().to_string();
                    let (field, message) =
                        super::describe_serde_error(&path, &err.into_inner().to_string());
                    ApiError::invalid_field(field, message)
                }),
        )
    }
}
