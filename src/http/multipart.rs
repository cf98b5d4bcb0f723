//! Reading the `file` part of a multipart upload within a size limit.

use actix_multipart::{Multipart, MultipartError};
use futures_util::StreamExt;

use crate::domain::Message;
use crate::http::problem::ApiError;

/// An uploaded file.
pub struct FilePart {
    /// The last path segment of the client's file name, without control characters.
    pub filename: String,
    /// The declared content type, lower case, without parameters.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The request body of an upload, as documented: a `multipart/form-data`
/// form with the file in the field `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FileUpload {
    file: super::download::FileBytes,
}

/// Keeps the last path segment, without control characters, at most 200 characters.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned.trim().to_string()
    }
}

/// Reads the form field `file`, refusing a body that is no multipart form
/// (415), more than `limit` bytes (413) and an empty or missing file (422
/// naming `file`).
pub async fn read_file(mut multipart: Multipart, limit: usize) -> Result<FilePart, ApiError> {
    let unreadable = || {
        ApiError::bad_request(
            "malformed_multipart",
            Message::new("无法读取上传的文件", "the multipart body could not be read"),
        )
    };
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|err| match err {
            // The body is not a multipart form at all: the wrong media type,
            // as a JSON route answers a body that is not JSON.
            MultipartError::ContentTypeMissing
            | MultipartError::ContentTypeParse
            | MultipartError::ContentTypeIncompatible => ApiError::unsupported_media_type_of(
                Message::new(
                    "请求体必须是 multipart/form-data 表单，文件放在 file 字段",
                    "the request body must be a multipart/form-data form with the file in the field `file`",
                ),
            ),
            _ => unreadable(),
        })?;
        if field.name() != Some("file") {
            continue;
        }
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(clean_filename)
            .unwrap_or_else(|| "file".into());
        let content_type = field
            .content_type()
            .map(|m| m.essence_str().to_ascii_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::payload_too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(ApiError::invalid_field(
                "file",
                Message::new("文件为空", "the file is empty"),
            ));
        }
        return Ok(FilePart {
            filename,
            content_type,
            bytes,
        });
    }
    Err(ApiError::invalid_field(
        "file",
        Message::new(
            "缺少文件（表单字段 file）",
            "no file in the form field `file`",
        ),
    ))
}

/// A whole form: its text fields and every file part named `file`.
pub struct FormParts {
    pub fields: std::collections::HashMap<String, String>,
    pub files: Vec<FilePart>,
}

impl FormParts {
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// Reads a console form (`multipart/form-data`) within `limit` bytes in all.
/// A file input left empty sends a part without content: it is skipped.
pub async fn read_form(mut multipart: Multipart, limit: usize) -> Result<FormParts, ApiError> {
    let unreadable = || {
        ApiError::bad_request(
            "malformed_multipart",
            Message::new("无法读取提交的表单", "the form could not be read"),
        )
    };
    let mut parts = FormParts {
        fields: Default::default(),
        files: Vec::new(),
    };
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_string();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let content_type = field
            .content_type()
            .map(|m| m.essence_str().to_ascii_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if total > limit {
                return Err(ApiError::payload_too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        match filename {
            Some(filename) if name == "file" => {
                if !bytes.is_empty() {
                    parts.files.push(FilePart {
                        filename: clean_filename(&filename),
                        content_type,
                        bytes,
                    });
                }
            }
            _ => {
                let text = String::from_utf8(bytes).map_err(|_| unreadable())?;
                parts.fields.insert(name, text);
            }
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\证明\\验收报告.pdf"), "验收报告.pdf");
        assert_eq!(clean_filename("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_filename("   "), "file");
    }
}
