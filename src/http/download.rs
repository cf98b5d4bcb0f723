//! Documents served as files: the content type, a `Content-Disposition` with
//! the UTF-8 file name (RFC 6266/5987, so Chinese names survive) and
//! `nosniff`, so a browser never guesses a different type.

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::HttpResponse;

use crate::domain::Message;
use crate::http::problem::ApiError;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file's bytes, as the API description shows a download or an upload.
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}

/// The renderings a document can be asked for with `?format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
    Markdown,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(text: Option<&str>) -> Result<Format, ApiError> {
        match text.unwrap_or("json") {
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(ApiError::invalid_field(
                "format",
                Message::new(
                    "格式必须是 json、html、md、csv 或 xlsx",
                    "format must be json, html, md, csv or xlsx",
                ),
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => XLSX,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// `bytes` as a file named `name`: shown in the browser when `inline`
/// (a printable HTML page), otherwise downloaded.
pub fn file(bytes: Vec<u8>, format: Format, name: &str, inline: bool) -> HttpResponse {
    named(
        bytes,
        format.content_type(),
        &format!("{name}.{}", format.extension()),
        inline,
    )
}

/// `bytes` of `content_type` as the file `filename`.
pub fn named(bytes: Vec<u8>, content_type: &str, filename: &str, inline: bool) -> HttpResponse {
    let disposition = ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: filename.as_bytes().to_vec(),
        })],
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type.to_string()))
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes)
}
