//! Rebuild when a migration changes: they are embedded into the binary.
//! Also lists every file under `src/templates/` (documents and emails) into
//! `$OUT_DIR/templates.rs`, so a new template is embedded by adding its file.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found);
        } else if path.extension().is_none_or(|e| e != "rs") {
            // The module's own Rust files (sample data) are code, not templates.
            found.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/templates");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/templates");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for file in files {
        let Ok(rel) = file.strip_prefix(&root) else {
            continue;
        };
        let name = rel.to_string_lossy().replace('\\', "/");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            file.to_string_lossy()
        ));
    }
    out.push_str("]\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("templates.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("writing {}: {e}", dest.display());
    }
}
