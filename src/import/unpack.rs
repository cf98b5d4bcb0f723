//! Checking that an uploaded xlsx workbook (a zip archive) unpacks within the
//! limit before calamine opens it. Calamine reads the shared strings whole on
//! opening and each cell's text whole, so a 1 MB upload holding a 1 GiB
//! string (deflate packs a repeated character a thousand to one) would cost
//! gigabytes of memory.
//!
//! The sizes an archive declares are checked first, since that costs nothing,
//! but they are not trusted: every part is then unpacked into nothing through
//! a reader that stops one byte past the limit, counting what comes out. A
//! part that cannot be unpacked to its end (damaged, or longer than it
//! declares, which the zip reader treats as damage) is refused by name too.
//! Calamine unpacks the same bytes with the same zip reader afterwards, so
//! what it reads is what was counted.

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use zip::ZipArchive;

use crate::domain::Message;

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// Refuses a workbook whose parts unpack to more than `max_total` bytes
/// together, naming the part (the worksheet by its name) where the limit was
/// passed. A file that is not a readable zip passes: calamine reports it.
pub fn check_unpacked_size(bytes: &[u8], max_total: u64) -> Result<(), Message> {
    let Ok(mut archive) = ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    // What the archive claims.
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            continue;
        };
        let size = entry.size();
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        drop(entry);
        declared = declared.saturating_add(size);
        if declared > max_total {
            return Err(too_large(&mut archive, &name, size > max_total, max_total));
        }
    }
    // What it really holds.
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let (name, size) = {
            let Ok(mut entry) = archive.by_index(index) else {
                // Encrypted or of an unknown method: calamine cannot read it either.
                continue;
            };
            let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
            (name, unpacked_len(&mut entry, max_total.saturating_add(1)))
        };
        let size = match size {
            Ok(size) => size,
            Err(error) => {
                let (zh, en) = describe_part(&mut archive, &name);
                return Err(Message::owned(
                    format!("Excel 文件已损坏：{zh}无法解压（{error}）"),
                    format!("the Excel file is damaged: {en} cannot be unpacked ({error})"),
                ));
            }
        };
        total = total.saturating_add(size);
        if total > max_total {
            return Err(too_large(&mut archive, &name, size > max_total, max_total));
        }
    }
    Ok(())
}

/// How many bytes `reader` yields, reading at most `cap` (so a part past
/// the cap is counted as `cap` without unpacking the rest).
fn unpacked_len(reader: &mut impl Read, cap: u64) -> std::io::Result<u64> {
    std::io::copy(&mut reader.take(cap), &mut std::io::sink())
}

fn too_large(archive: &mut Archive<'_>, part: &str, alone: bool, limit: u64) -> Message {
    let (zh, en) = describe_part(archive, part);
    let limit = human_size(limit);
    if alone {
        Message::owned(
            format!("Excel 文件中的{zh}解压后超过 {limit}，无法导入"),
            format!("{en} in the Excel file unpacks to more than {limit}; it cannot be imported"),
        )
    } else {
        Message::owned(
            format!("Excel 文件解压后合计超过 {limit}（在{zh}处超出），无法导入"),
            format!(
                "the Excel file unpacks to more than {limit} in all (passed at {en}); it cannot be imported"
            ),
        )
    }
}

/// A part as a person would call it: the shared strings, a worksheet by its
/// name, or else the part's path.
fn describe_part(archive: &mut Archive<'_>, part: &str) -> (String, String) {
    if part.eq_ignore_ascii_case("xl/sharedStrings.xml") {
        return (
            format!("共享文本（{part}）"),
            format!("the shared strings ({part})"),
        );
    }
    if let Some(sheet) = sheet_name_of(archive, part) {
        return (
            format!("工作表“{sheet}”（{part}）"),
            format!("worksheet “{sheet}” ({part})"),
        );
    }
    (format!("部件 {part}"), format!("the part {part}"))
}

/// The name of the worksheet stored in `part`, from the workbook and its
/// relationships, each read only if small. Best effort: None when unsure.
fn sheet_name_of(archive: &mut Archive<'_>, part: &str) -> Option<String> {
    const MAX_XML: u64 = 1024 * 1024;
    let read = |archive: &mut Archive<'_>, name: &str| -> Option<Vec<u8>> {
        let entry = archive.by_name(name).ok()?;
        let mut bytes = Vec::new();
        entry.take(MAX_XML + 1).read_to_end(&mut bytes).ok()?;
        (bytes.len() as u64 <= MAX_XML).then_some(bytes)
    };
    let workbook = read(archive, "xl/workbook.xml")?;
    let rels = read(archive, "xl/_rels/workbook.xml.rels")?;
    let target = elements(&rels, "Relationship", &["Id", "Target"])
        .into_iter()
        .find_map(|attrs| match &attrs[..] {
            [Some(id), Some(target)] => {
                let path = match target.strip_prefix('/') {
                    Some(absolute) => absolute.to_string(),
                    None => format!("xl/{target}"),
                };
                path.eq_ignore_ascii_case(part).then(|| id.clone())
            }
            _ => None,
        })?;
    elements(&workbook, "sheet", &["name", "id"])
        .into_iter()
        .find_map(|attrs| match &attrs[..] {
            [Some(name), Some(id)] if *id == target => Some(name.clone()),
            _ => None,
        })
}

/// For each element with local name `element`, the values of the attributes
/// with the given local names (prefixes such as `r:` ignored).
fn elements(xml: &[u8], element: &str, names: &[&str]) -> Vec<Vec<Option<String>>> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut found = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == element => {
                let mut values = vec![None; names.len()];
                for attr in e.attributes().flatten() {
                    let key = attr.key.local_name();
                    if let Some(i) = names.iter().position(|n| key.as_ref() == *n) {
                        values[i] = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(|v| v.into_owned());
                    }
                }
                found.push(values);
            }
            Ok(Event::Eof) | Err(_) => return found,
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// `67108864` → `64 MB`, `1536` → `1.5 KB`.
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    let (value, unit) = if b >= KB * KB {
        (b / (KB * KB), "MB")
    } else if b >= KB {
        (b / KB, "KB")
    } else {
        return format!("{bytes} B");
    };
    if value.fract() == 0.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    /// A minimal workbook: one worksheet "任务表" whose cell A1 is shared
    /// string 0, which is `shared_len` repetitions of `a`, written in chunks
    /// so the test never holds it whole. Deflate packs it about 1000:1.
    pub(crate) fn workbook_with_shared_string(shared_len: usize) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let put = |zip: &mut zip::ZipWriter<Cursor<Vec<u8>>>, name: &str, text: &str| {
            zip.start_file(name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        };
        put(&mut zip, "[Content_Types].xml", CONTENT_TYPES);
        put(&mut zip, "_rels/.rels", ROOT_RELS);
        put(&mut zip, "xl/workbook.xml", WORKBOOK);
        put(&mut zip, "xl/_rels/workbook.xml.rels", WORKBOOK_RELS);
        put(
            &mut zip,
            "xl/worksheets/sheet1.xml",
            &sheet_xml(r#"<c r="A1" t="s"><v>0</v></c>"#),
        );
        zip.start_file("xl/sharedStrings.xml", options).unwrap();
        zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#).unwrap();
        let chunk = vec![b'a'; 1 << 20];
        let mut left = shared_len;
        while left > 0 {
            let n = left.min(chunk.len());
            zip.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        zip.write_all(b"</t></si></sst>").unwrap();
        zip.finish().unwrap().into_inner()
    }

    /// A minimal workbook whose worksheet holds `cells` (`<c>` elements of row 1).
    pub(crate) fn workbook_with_cells(cells: &str) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in [
            ("[Content_Types].xml", CONTENT_TYPES.to_string()),
            ("_rels/.rels", ROOT_RELS.to_string()),
            ("xl/workbook.xml", WORKBOOK.to_string()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.to_string()),
            ("xl/worksheets/sheet1.xml", sheet_xml(cells)),
        ] {
            zip.start_file(name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn sheet_xml(cells: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">{cells}</row></sheetData></worksheet>"#
        )
    }

    const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="任务表" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

    /// Rewrites the declared uncompressed size of `part` (in its local and
    /// central headers) to `size`, as a crafted file would.
    fn lie_about_size(mut bytes: Vec<u8>, part: &str, size: u32) -> Vec<u8> {
        // (signature, offset of the size, of the name's length, of the name)
        let headers = [
            ([0x50, 0x4b, 0x03, 0x04], 22, 26, 30),
            ([0x50, 0x4b, 0x01, 0x02], 24, 28, 46),
        ];
        let mut patched = 0;
        for i in 0..bytes.len().saturating_sub(46) {
            for (signature, size_at, len_at, name_at) in headers {
                if bytes[i..i + 4] != signature {
                    continue;
                }
                let len = usize::from(u16::from_le_bytes([
                    bytes[i + len_at],
                    bytes[i + len_at + 1],
                ]));
                if bytes.get(i + name_at..i + name_at + len) == Some(part.as_bytes()) {
                    bytes[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
                    patched += 1;
                }
            }
        }
        assert_eq!(patched, 2, "local and central header");
        bytes
    }

    #[test]
    fn a_small_workbook_passes() {
        let bytes = workbook_with_shared_string(1000);
        assert!(check_unpacked_size(&bytes, 64 * 1024).is_ok());
    }

    #[test]
    fn a_huge_shared_string_is_refused_by_its_declared_size() {
        let bytes = workbook_with_shared_string(8 << 20);
        assert!(bytes.len() < 100 * 1024, "{} bytes", bytes.len());
        let e = check_unpacked_size(&bytes, 1 << 20).unwrap_err();
        assert!(
            e.zh.contains("共享文本（xl/sharedStrings.xml）"),
            "{}",
            e.zh
        );
        assert!(e.en.contains("the shared strings"), "{}", e.en);
        assert!(e.en.contains("1 MB"), "{}", e.en);
    }

    #[test]
    fn declared_sizes_are_not_trusted() {
        let bytes = lie_about_size(
            workbook_with_shared_string(8 << 20),
            "xl/sharedStrings.xml",
            100,
        );
        let e = check_unpacked_size(&bytes, 1 << 20).unwrap_err();
        assert!(
            e.en.contains("the shared strings (xl/sharedStrings.xml)"),
            "{}",
            e.en
        );
        assert!(e.en.contains("damaged"), "{}", e.en);
    }

    #[test]
    fn a_huge_worksheet_is_named() {
        let cell = format!(
            r#"<c r="A1" t="inlineStr"><is><t>{}</t></is></c>"#,
            "b".repeat(2 << 20)
        );
        let bytes = workbook_with_cells(&cell);
        let e = check_unpacked_size(&bytes, 1 << 20).unwrap_err();
        assert!(e.zh.contains("工作表“任务表”"), "{}", e.zh);
        assert!(e.en.contains("worksheet “任务表”"), "{}", e.en);
    }

    #[test]
    fn the_parts_count_together() {
        // The shared strings alone fit; with the other parts (about 2 KB) they do not.
        let bytes = workbook_with_shared_string(600 * 1024);
        assert!(check_unpacked_size(&bytes, 600 * 1024 + 4096).is_ok());
        let e = check_unpacked_size(&bytes, 600 * 1024 + 1000).unwrap_err();
        assert!(e.en.contains("in all"), "{}", e.en);
        assert!(e.zh.contains("合计"), "{}", e.zh);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(64 << 20), "64 MB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(10), "10 B");
    }
}
