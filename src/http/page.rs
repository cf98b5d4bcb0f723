//! Pagination of list endpoints: `?page=&per_page=` (at most 200 a page), and
//! the list body with its total.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::message::Message;
use crate::error::Validator;
use crate::http::problem::ApiError;

pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 200;

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn parse(page: Option<i64>, per_page: Option<i64>) -> Result<Paging, ApiError> {
        let mut v = Validator::default();
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page < 1 {
            v.add("page", Message::new("页码从 1 开始", "page starts at 1"));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            v.add(
                "per_page",
                Message::new(
                    "每页条数必须在 1 到 200 之间",
                    "per_page must be between 1 and 200",
                ),
            );
        }
        v.finish()?;
        Ok(Paging { page, per_page })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Number of items matching the filters, over all pages.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: i64, paging: Paging) -> Self {
        Page {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
        }
    }
}
