//! Where evidence files live: by content hash under the data directory (the
//! default), or in the database when several instances share one PostgreSQL.
//! Each attachment row records which, so changing the setting keeps older
//! files readable.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::schema::attachment_blobs;
use crate::db::{self, DbConnection};
use crate::domain::kinds::StorageKind;

#[derive(Debug, Clone)]
pub enum Storage {
    Files(PathBuf),
    Database,
}

impl Storage {
    pub fn from_settings(settings: &Settings) -> Storage {
        match settings.attachment_storage {
            StorageKind::Db => Storage::Database,
            StorageKind::Fs => Storage::Files(settings.data_dir.join("attachments")),
        }
    }

    /// The value stored in `attachments.storage`.
    pub fn kind(&self) -> StorageKind {
        match self {
            Storage::Files(_) => StorageKind::Fs,
            Storage::Database => StorageKind::Db,
        }
    }

    fn path(dir: &std::path::Path, sha256: &str) -> PathBuf {
        dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Keeps `bytes` under their hash. Storing the same content twice is a no-op.
    /// Files are written to a temporary name and renamed, so a crash never
    /// leaves a half-written file under a real hash.
    pub fn put(&self, conn: &mut DbConnection, sha256: &str, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Storage::Files(dir) => {
                let path = Self::path(dir, sha256);
                if path.exists() {
                    return Ok(());
                }
                let parent = path.parent().context("attachment path has a parent")?;
                std::fs::create_dir_all(parent)?;
                let tmp = parent.join(format!(".{sha256}.{}", crate::secrets::random_hex(4)));
                let mut file = std::fs::File::create(&tmp)?;
                file.write_all(bytes)?;
                file.sync_all()?;
                std::fs::rename(&tmp, &path)?;
                Ok(())
            }
            Storage::Database => {
                let stored: Option<String> = attachment_blobs::table
                    .find(sha256)
                    .select(attachment_blobs::sha256)
                    .first(conn)
                    .optional()?;
                if stored.is_some() {
                    return Ok(());
                }
                // A concurrent upload of the same content may still insert
                // first. The insert runs in a savepoint (a nested `write`):
                // PostgreSQL aborts the whole transaction at a failed
                // statement, so without one the unique violation taken as
                // "already stored" would fail the caller's next statement.
                let inserted = conn.write(|conn| {
                    diesel::insert_into(attachment_blobs::table)
                        .values((
                            attachment_blobs::sha256.eq(sha256),
                            attachment_blobs::data.eq(bytes),
                        ))
                        .execute(conn)
                });
                match inserted {
                    Ok(_) => Ok(()),
                    Err(e) if db::is_unique_violation(&e) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Reads content stored as `kind`.
    pub fn get(
        &self,
        conn: &mut DbConnection,
        kind: StorageKind,
        sha256: &str,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Vec<u8>> {
        if kind == StorageKind::Db {
            let data: Vec<u8> = attachment_blobs::table
                .find(sha256)
                .select(attachment_blobs::data)
                .first(conn)?;
            return Ok(data);
        }
        let dir = match self {
            Storage::Files(dir) => dir.clone(),
            Storage::Database => data_dir.join("attachments"),
        };
        std::fs::read(Self::path(&dir, sha256))
            .with_context(|| format!("reading attachment {sha256}"))
    }
}
