//! Secrets and the files that keep them: random tokens (session and feed
//! tokens, the generated signing key, one-time passwords, claim tokens) from
//! the operating system's generator, and files only their owner may read.

use rand::RngCore;

/// `bytes` random bytes from the operating system, as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file only its owner may read (keys, password lists). Without
/// `replace`, an existing file is an error rather than overwritten.
pub fn write_private(path: &std::path::Path, contents: &str, replace: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}
