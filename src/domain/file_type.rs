//! What an uploaded file is, judged from its content and its name, never from
//! the content type the browser declared: Windows and many phones send an
//! `.xlsx` as `application/octet-stream`, and anyone can label an executable
//! `application/pdf`. The name's extension says which type is claimed; the
//! first bytes must belong to that type's family (a PDF starts with `%PDF-`, a
//! Word, Excel, PowerPoint, OFD or zip file is a zip archive, an old Office or
//! WPS file an OLE compound file, …). Executables are refused whatever they
//! are called. The set is small and fixed, so the signatures are listed here
//! rather than taken from a general sniffing library whose answers for
//! zip-based office formats would need this same table anyway.

use super::message::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Pdf,
    Jpeg,
    Png,
    Gif,
    Webp,
    /// OLE compound file: doc, xls, ppt and the WPS Office formats.
    Ole,
    /// Zip archive: docx, xlsx, pptx, OFD, zip.
    Zip,
    /// Text without NUL bytes.
    Text,
}

/// Extension → (family its content must have, the content type it is stored as).
const TYPES: &[(&str, Family, &str)] = &[
    ("pdf", Family::Pdf, "application/pdf"),
    ("jpg", Family::Jpeg, "image/jpeg"),
    ("jpeg", Family::Jpeg, "image/jpeg"),
    ("png", Family::Png, "image/png"),
    ("gif", Family::Gif, "image/gif"),
    ("webp", Family::Webp, "image/webp"),
    ("doc", Family::Ole, "application/msword"),
    ("xls", Family::Ole, "application/vnd.ms-excel"),
    ("ppt", Family::Ole, "application/vnd.ms-powerpoint"),
    ("wps", Family::Ole, "application/wps-office.wps"),
    ("et", Family::Ole, "application/wps-office.et"),
    ("dps", Family::Ole, "application/wps-office.dps"),
    (
        "docx",
        Family::Zip,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xlsx",
        Family::Zip,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "pptx",
        Family::Zip,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("ofd", Family::Zip, "application/ofd"),
    ("zip", Family::Zip, "application/zip"),
    ("txt", Family::Text, "text/plain"),
    ("csv", Family::Text, "text/csv"),
];

/// The content type a file without a known extension is stored as, by family.
fn by_content(family: Family) -> &'static str {
    match family {
        Family::Pdf => "application/pdf",
        Family::Jpeg => "image/jpeg",
        Family::Png => "image/png",
        Family::Gif => "image/gif",
        Family::Webp => "image/webp",
        Family::Ole => "application/x-ole-storage",
        Family::Zip => "application/zip",
        Family::Text => "text/plain",
    }
}

fn family_of(bytes: &[u8]) -> Option<Family> {
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    if starts(b"%PDF-") {
        Some(Family::Pdf)
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Some(Family::Jpeg)
    } else if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(Family::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(Family::Gif)
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(Family::Webp)
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some(Family::Ole)
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Some(Family::Zip)
    } else if !bytes.contains(&0) {
        Some(Family::Text)
    } else {
        None
    }
}

/// Windows and DOS programs, ELF and Mach-O binaries, scripts with a `#!` line.
fn is_executable(bytes: &[u8]) -> bool {
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    starts(b"MZ")
        || starts(b"\x7fELF")
        || starts(b"#!")
        || starts(&[0xCF, 0xFA, 0xED, 0xFE])
        || starts(&[0xCE, 0xFA, 0xED, 0xFE])
        || starts(&[0xCA, 0xFE, 0xBA, 0xBE])
}

/// The content type `bytes` named `filename` is stored as, or why not.
pub fn judge(filename: &str, bytes: &[u8]) -> Result<&'static str, Message> {
    if is_executable(bytes) {
        return Err(Message::new(
            "不接受可执行文件",
            "executable files are not accepted",
        ));
    }
    let family = family_of(bytes);
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let claimed = extension
        .as_deref()
        .and_then(|ext| TYPES.iter().find(|(e, _, _)| *e == ext));
    match (claimed, family) {
        (Some((_, expected, content_type)), Some(found)) if *expected == found => Ok(content_type),
        (Some((ext, _, _)), _) => Err(Message::owned(
            format!("文件内容与扩展名 .{ext} 不符"),
            format!("the file's content is not what its extension .{ext} says"),
        )),
        (None, Some(found)) => Ok(by_content(found)),
        (None, None) => Err(Message::new(
            "无法识别的文件类型",
            "the file's type could not be recognised",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    #[test]
    fn office_files_are_known_by_content_and_name() {
        assert_eq!(judge("台账.xlsx", b"PK\x03\x04rest"), Ok(XLSX));
        assert_eq!(judge("报告.PDF", b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(judge("电子公文.ofd", b"PK\x03\x04"), Ok("application/ofd"));
        assert_eq!(
            judge(
                "汇报.wps",
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]
            ),
            Ok("application/wps-office.wps")
        );
        assert_eq!(judge("说明.txt", "进展顺利".as_bytes()), Ok("text/plain"));
        assert_eq!(judge("scan", b"\xFF\xD8\xFF\xE0"), Ok("image/jpeg"));
    }

    #[test]
    fn executables_are_refused_whatever_their_name() {
        assert!(judge("验收报告.pdf", b"MZ\x90\x00").is_err());
        assert!(judge("run.sh", b"#!/bin/sh\nrm -rf /").is_err());
        assert!(judge("a.txt", b"\x7fELF\x02").is_err());
    }

    #[test]
    fn a_name_that_lies_about_the_content_is_refused() {
        let err = judge("照片.png", b"%PDF-1.4").unwrap_err();
        assert!(err.zh.contains(".png"));
        assert!(judge("a.docx", &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]).is_err());
        assert!(judge("blob", &[0, 1, 2, 3]).is_err());
    }

    proptest! {
        /// Whatever the name, content starting like a program never passes,
        /// and whatever passes is stored under a type from the table or the
        /// family defaults.
        #[test]
        fn no_program_passes(name in "[a-z]{0,8}(\\.[a-zA-Z]{1,4})?", tail in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut bytes = b"MZ".to_vec();
            bytes.extend(&tail);
            prop_assert!(judge(&name, &bytes).is_err());
        }

        #[test]
        fn accepted_types_are_known(name in "[a-z]{1,8}\\.(pdf|png|txt|zip|xlsx|doc|bin)", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(t) = judge(&name, &bytes) {
                prop_assert!(TYPES.iter().any(|(_, _, c)| *c == t));
            }
        }
    }
}
