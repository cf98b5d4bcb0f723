//! Small closed sets that describe records rather than drive a rule: where
//! evidence is stored. Each is stored by name (`db::sql_types`).

crate::closed_set! {
    /// Where evidence files are kept.
    pub enum StorageKind ("存储方式", "storage") {
        /// By content hash under `<data_dir>/attachments`.
        Fs = "fs",
        /// In the database (instances sharing one PostgreSQL).
        Db = "db",
    }
}
