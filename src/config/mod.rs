//! Typed settings: built-in defaults < `duban.toml` < `DUBAN_*` environment variables.
//! Every setting and its default is listed in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::domain::kinds::StorageKind;
use crate::domain::message::Lang;

mod text;
pub mod values;

pub use values::{GradeCuts, Hours, MailTransport, ProxyNet, TimeOfDay};

/// All settings, flat so that each maps one-to-one onto `DUBAN_<NAME>`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `postgres://…` for PostgreSQL, otherwise a SQLite file path (`sqlite://` optional).
    /// Unset: `<data_dir>/duban.db`.
    pub database_url: Option<String>,
    /// Address and port to listen on.
    pub listen: String,
    /// Where the SQLite file, the generated JWT key and other files live.
    pub data_dir: PathBuf,
    /// IANA time zone of deadlines and local dates.
    #[serde(with = "text")]
    pub timezone: chrono_tz::Tz,
    /// Address users reach duban at, for links in messages. Unset: `http://<listen>`.
    pub public_url: Option<String>,
    /// Username of the first admin account, created when no admin exists.
    pub admin_username: String,
    /// Password of that first account. Unset: generated and printed once.
    #[serde(serialize_with = "no_secret")]
    pub admin_password: Option<SecretString>,
    /// HS256 signing key for access tokens (at least 32 bytes). Unset: generated
    /// once and kept in `<data_dir>/jwt-secret`.
    #[serde(serialize_with = "no_secret")]
    pub jwt_secret: Option<SecretString>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Lifetime of an access token, in minutes.
    pub jwt_ttl_minutes: i64,
    /// A console session ends after this many minutes without a request.
    pub session_idle_minutes: i64,
    /// … and this many minutes after sign-in, however busy.
    pub session_max_minutes: i64,
    /// argon2id memory in KiB, iterations and lanes (OWASP: 19456, 2, 1).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// The share (percent) of its time a hashing lane may hash: after a hash
    /// the lane rests in proportion, so a sign-in flood cannot take more of
    /// the machine than this of its hashing cores.
    pub hashing_share_percent: u32,
    /// Failed sign-ins for one account from one address allowed within the window.
    pub login_max_failures: i64,
    /// Failed sign-ins for one account from all addresses together; an address
    /// the account signed in from within `login_known_address_days` is exempt.
    pub login_max_failures_per_account: i64,
    /// Failed sign-ins from one address for all accounts together.
    pub login_max_failures_per_address: i64,
    pub login_window_minutes: i64,
    pub login_known_address_days: i64,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` /
    /// `Forwarded` headers name the client. Empty: the peer address is the client.
    #[serde(with = "text::list")]
    pub trusted_proxies: Vec<ProxyNet>,
    /// Largest connection pool.
    pub db_pool_size: u32,
    /// HTTP worker threads; 0: one per CPU core.
    pub workers: usize,
    /// Largest JSON request body, in bytes.
    pub json_limit_bytes: usize,
    /// A task due within this many days shows yellow.
    pub yellow_warning_days: i64,
    /// An assigned task not signed for (签收) within this many days is flagged.
    pub accept_within_days: i64,
    /// Working days a supervision order (督办单) gives the lead unit to
    /// complete its receipt (回执), unless the office sets a date.
    pub order_reply_working_days: u32,
    /// Tell the units at once when a task is assigned (交办通知), a
    /// submission returned (退回通知) or an instruction written (批示通知).
    pub step_notices: bool,
    /// Leaders read every task, not only those they are responsible for.
    pub leaders_see_all: bool,
    /// Most bytes an uploaded xlsx table may unpack to, all its parts together.
    pub import_max_unpacked_bytes: u64,
    /// Most characters in one cell of an uploaded table (Excel's own limit: 32767).
    pub import_max_cell_chars: usize,
    /// Largest evidence file, in bytes.
    pub attachment_max_bytes: usize,
    /// Content types accepted as evidence (a list, or comma-separated).
    #[serde(with = "text::list")]
    pub attachment_types: Vec<String>,
    /// Where evidence is kept: `fs` (by hash under `<data_dir>/attachments`)
    /// or `db` (in the database, for instances sharing one PostgreSQL).
    pub attachment_storage: StorageKind,
    /// How notices are mailed: `file` (each message an .eml under
    /// `<data_dir>/outbox`, the embedded default) or `smtp`.
    pub mail_transport: MailTransport,
    /// lettre's URL form, e.g. `smtp://user:pass@mail.example.gov.cn:587?tls=required`.
    #[serde(serialize_with = "no_secret")]
    pub smtp_url: Option<SecretString>,
    pub smtp_timeout_secs: u64,
    /// The From of every notice.
    pub mail_from: String,
    /// Language of notices: `zh-CN` (default) or `en`.
    #[serde(with = "text")]
    pub notice_language: Lang,
    /// Reminders this many days before the due date, comma-separated.
    #[serde(with = "text::list")]
    pub ladder_reminder_days: Vec<u32>,
    /// Overdue day of the chase notice (催办).
    pub ladder_chase_day: u32,
    /// Overdue day of the supervision order (督办).
    pub ladder_supervise_day: u32,
    /// Overdue day of the accountability proposal.
    pub ladder_accountability_day: u32,
    /// Local time of the daily scan, HH:MM.
    #[serde(with = "text")]
    pub scan_time: TimeOfDay,
    /// Notice rows (with their robot copies) the scan writes per
    /// transaction: larger batches write faster, smaller ones hold the
    /// write lock for less time (SQLite has one writer).
    pub scan_batch_rows: usize,
    /// Seconds between delivery rounds.
    pub delivery_interval_secs: u64,
    /// Attempts before a notice is dead.
    pub delivery_max_attempts: i32,
    /// First retry delay in seconds; doubles each attempt (with jitter), capped at 6 hours.
    pub delivery_backoff_secs: i64,
    /// How long the scheduler lease lasts; another instance takes over after it.
    pub scheduler_lease_secs: i64,
    /// How long a notice claimed for sending stays reserved; renewed while
    /// the send runs, so it only bounds how soon a notice whose sender died
    /// is sent again.
    pub delivery_lease_secs: i64,
    /// How long a started job run (the day's scan, the monthly bulletin) stays
    /// with its instance; renewed while it runs, taken over once it lapses.
    pub job_lease_secs: i64,
    /// Local hours notices may go out, `HH:MM-HH:MM`; empty for any time.
    /// Notices written outside wait for the next opening.
    #[serde(with = "text")]
    pub send_window: Hours,
    /// Whether notices also go out on weekends and holidays.
    pub send_on_non_working_days: bool,
    /// Score weights (see `docs/scoring.md`): points for the on-time rate and
    /// the completion rate (each rate 0–1), points off per overdue task and per
    /// supervision order, points per task finished a week early, at most the cap.
    pub score_on_time: f64,
    pub score_completion: f64,
    pub score_overdue_penalty: f64,
    pub score_supervision_penalty: f64,
    pub score_early_bonus: f64,
    pub score_early_bonus_cap: f64,
    /// A unit's light in a ranking: green from this score, yellow from `bulletin_yellow_from`.
    pub bulletin_green_from: f64,
    pub bulletin_yellow_from: f64,
    /// Units criticised in a bulletin: all below this score, and the last
    /// `bulletin_criticise_bottom` ranked units that have late or overdue tasks.
    pub bulletin_criticise_below: f64,
    pub bulletin_criticise_bottom: u32,
    /// Units commended: up to this many from the top, scoring at least
    /// `bulletin_commend_from` with nothing late or overdue.
    pub bulletin_commend_top: u32,
    pub bulletin_commend_from: f64,
    /// Working days a criticised unit has to rectify, from publication.
    pub bulletin_rectify_working_days: u32,
    /// Day of the month the scheduler drafts the previous month's bulletin (0: never).
    pub bulletin_day: u32,
    /// Publish the scheduled draft at once instead of waiting for the office.
    pub bulletin_auto_publish: bool,
    /// The printed bulletin's 抄送 line: who receives copies (e.g.
    /// 市委办公室，市人大办公室); empty: no 抄送 line.
    pub bulletin_cc: String,
    /// The printed bulletin's 印发 line: who prints and issues it (e.g.
    /// 市生态文明建设示范市创建工作领导小组办公室); empty: the office named
    /// in the bulletin.
    pub bulletin_issuer: String,
    /// Annual assessment grades: lowest scores of 优秀, 良好 and 合格, comma-separated.
    #[serde(with = "text")]
    pub assessment_grades: GradeCuts,
    /// Points off the annual score per confirmed public criticism, admonitory
    /// talk or accountability record of the year.
    pub assessment_accountability_penalty: f64,
}

// Secrets are never written out (for example by `duban config`), only read.
fn no_secret<S: serde::Serializer>(_: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

/// A time of day, for the defaults.
fn hm(h: u32, m: u32) -> chrono::NaiveTime {
    chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: None,
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            timezone: chrono_tz::Asia::Shanghai,
            public_url: None,
            admin_username: "admin".into(),
            admin_password: None,
            jwt_secret: None,
            jwt_issuer: "duban".into(),
            jwt_audience: "duban-api".into(),
            jwt_ttl_minutes: 480,
            session_idle_minutes: 120,
            session_max_minutes: 720,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hashing_share_percent: 50,
            login_max_failures: 10,
            login_max_failures_per_account: 50,
            login_max_failures_per_address: 100,
            login_window_minutes: 15,
            login_known_address_days: 30,
            trusted_proxies: Vec::new(),
            db_pool_size: 10,
            workers: 0,
            json_limit_bytes: 256 * 1024,
            yellow_warning_days: 3,
            accept_within_days: 3,
            order_reply_working_days: 5,
            step_notices: true,
            leaders_see_all: false,
            import_max_unpacked_bytes: 64 * 1024 * 1024,
            import_max_cell_chars: 32_767,
            attachment_max_bytes: 20 * 1024 * 1024,
            attachment_types: [
                "application/pdf",
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/webp",
                "text/plain",
                "text/csv",
                "application/zip",
                "application/ofd",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/wps-office.wps",
                "application/wps-office.et",
                "application/wps-office.dps",
            ]
            .map(String::from)
            .to_vec(),
            attachment_storage: StorageKind::Fs,
            mail_transport: MailTransport::File,
            smtp_url: None,
            smtp_timeout_secs: 10,
            mail_from: "督办系统 <duban@localhost>".into(),
            notice_language: Lang::Zh,
            ladder_reminder_days: vec![7, 3, 1],
            ladder_chase_day: 1,
            ladder_supervise_day: 7,
            ladder_accountability_day: 15,
            scan_time: TimeOfDay(hm(8, 0)),
            scan_batch_rows: 500,
            delivery_interval_secs: 5,
            delivery_max_attempts: 8,
            delivery_backoff_secs: 60,
            scheduler_lease_secs: 60,
            delivery_lease_secs: 30,
            job_lease_secs: 60,
            send_window: Hours(Some((hm(8, 0), hm(20, 0)))),
            send_on_non_working_days: false,
            score_on_time: 60.0,
            score_completion: 40.0,
            score_overdue_penalty: 2.0,
            score_supervision_penalty: 3.0,
            score_early_bonus: 1.0,
            score_early_bonus_cap: 5.0,
            bulletin_green_from: 85.0,
            bulletin_yellow_from: 60.0,
            bulletin_criticise_below: 60.0,
            bulletin_criticise_bottom: 2,
            bulletin_commend_top: 3,
            bulletin_commend_from: 95.0,
            bulletin_rectify_working_days: 10,
            bulletin_day: 1,
            bulletin_auto_publish: false,
            bulletin_cc: String::new(),
            bulletin_issuer: String::new(),
            assessment_grades: GradeCuts([90.0, 75.0, 60.0]),
            assessment_accountability_penalty: 5.0,
        }
    }
}

impl Settings {
    /// Loads settings: defaults, then the TOML file (if given or if `duban.toml`
    /// exists in the working directory), then the environment.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match config_file {
            Some(path) => {
                anyhow::ensure!(path.exists(), "config file {} not found", path.display());
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("duban.toml")),
        }
        // Only known names are taken from the environment, so unrelated DUBAN_*
        // variables (e.g. the test suite's) do not trip the unknown-field check
        // that catches typos in duban.toml.
        let known = Settings::field_names()?;
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        figment = figment
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("DUBAN_").only(&known));
        let settings: Settings = figment.extract().context("invalid configuration")?;
        settings.check()?;
        Ok(settings)
    }

    fn field_names() -> anyhow::Result<Vec<String>> {
        let value = serde_json::to_value(Settings::default())?;
        let map = value
            .as_object()
            .context("settings serialise to an object")?;
        Ok(map.keys().cloned().collect())
    }

    fn check(&self) -> anyhow::Result<()> {
        crate::db::Backend::from_url(&self.database_url())?;
        anyhow::ensure!(self.jwt_ttl_minutes > 0, "jwt_ttl_minutes must be positive");
        anyhow::ensure!(
            self.session_idle_minutes > 0 && self.session_max_minutes >= self.session_idle_minutes,
            "session_idle_minutes must be positive and session_max_minutes at least as long"
        );
        anyhow::ensure!(
            (1..=100).contains(&self.hashing_share_percent),
            "hashing_share_percent must be 1–100"
        );
        anyhow::ensure!(
            self.login_max_failures > 0,
            "login_max_failures must be positive"
        );
        anyhow::ensure!(
            self.login_window_minutes > 0,
            "login_window_minutes must be positive"
        );
        anyhow::ensure!(
            self.login_max_failures_per_account > 0 && self.login_max_failures_per_address > 0,
            "login_max_failures_per_account and login_max_failures_per_address must be positive"
        );
        anyhow::ensure!(
            self.login_known_address_days >= 0,
            "login_known_address_days must not be negative"
        );
        anyhow::ensure!(
            self.import_max_unpacked_bytes > 0 && self.import_max_cell_chars > 0,
            "import_max_unpacked_bytes and import_max_cell_chars must be positive"
        );
        anyhow::ensure!(self.db_pool_size > 0, "db_pool_size must be positive");
        // 18 bound values a notice row: 1,000 rows stay under SQLite's limit.
        anyhow::ensure!(
            (1..=1000).contains(&self.scan_batch_rows),
            "scan_batch_rows must be 1–1000"
        );
        anyhow::ensure!(
            self.mail_transport != MailTransport::Smtp || self.smtp_url.is_some(),
            "mail_transport = smtp needs smtp_url (DUBAN_SMTP_URL)"
        );
        anyhow::ensure!(
            self.bulletin_yellow_from <= self.bulletin_green_from,
            "bulletin_yellow_from must not exceed bulletin_green_from"
        );
        anyhow::ensure!(
            self.bulletin_day <= 28,
            "bulletin_day must be 0 (never) or 1–28"
        );
        anyhow::ensure!(
            self.delivery_max_attempts > 0,
            "delivery_max_attempts must be positive"
        );
        for (name, secs) in [
            ("scheduler_lease_secs", self.scheduler_lease_secs),
            ("delivery_lease_secs", self.delivery_lease_secs),
            ("job_lease_secs", self.job_lease_secs),
        ] {
            anyhow::ensure!(secs > 0, "{name} must be positive");
        }
        Ok(())
    }

    /// "Now" for the rules, at `now`.
    pub fn clock(&self, now: chrono::DateTime<chrono::Utc>) -> crate::domain::clock::Clock {
        crate::domain::clock::Clock::at(
            now,
            self.timezone,
            self.yellow_warning_days,
            self.accept_within_days,
        )
    }

    /// The escalation ladder as configured.
    pub fn ladder(&self) -> crate::domain::ladder::Ladder {
        crate::domain::ladder::Ladder {
            reminder_days: self.ladder_reminder_days.clone(),
            chase_day: self.ladder_chase_day,
            supervise_day: self.ladder_supervise_day,
            accountability_day: self.ladder_accountability_day,
        }
    }

    /// How scores become ranks, lights, criticism and commendation.
    pub fn policy(&self) -> crate::domain::scoring::Policy {
        crate::domain::scoring::Policy {
            weights: crate::domain::scoring::Weights {
                on_time: self.score_on_time,
                completion: self.score_completion,
                overdue_penalty: self.score_overdue_penalty,
                supervision_penalty: self.score_supervision_penalty,
                early_bonus: self.score_early_bonus,
                early_bonus_cap: self.score_early_bonus_cap,
            },
            green_from: self.bulletin_green_from,
            yellow_from: self.bulletin_yellow_from,
            criticise_below: self.bulletin_criticise_below,
            criticise_bottom: self.bulletin_criticise_bottom,
            commend_top: self.bulletin_commend_top,
            commend_from: self.bulletin_commend_from,
        }
    }

    /// The window notices may go out in.
    pub fn window(&self) -> Option<crate::domain::calendar::SendWindow> {
        self.send_window
            .0
            .map(|(start, end)| crate::domain::calendar::SendWindow {
                start,
                end,
                non_working_days: self.send_on_non_working_days,
            })
    }

    /// The database URL in force: the configured one or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => self
                .data_dir
                .join("duban.db")
                .to_string_lossy()
                .into_owned(),
        }
    }

    /// The database URL with any password replaced, fit for logs.
    pub fn database_url_for_display(&self) -> String {
        redact_url_password(&self.database_url())
    }

    /// Every setting in force, by name, fit to show an administrator:
    /// secrets (the first admin's password, the signing key) only say
    /// whether they are set, and URLs (database, SMTP) lose their password.
    pub fn for_display(&self) -> Vec<ShownSetting> {
        use secrecy::ExposeSecret;
        let secret = |name: &str, value: &Option<SecretString>| ShownSetting {
            name: name.to_string(),
            value: String::new(),
            secret: true,
            set: value.is_some(),
        };
        let mut shown = Vec::new();
        let serde_json::Value::Object(map) = serde_json::to_value(self).unwrap_or_default() else {
            return shown;
        };
        for (name, value) in map {
            let line = match name.as_str() {
                "admin_password" => secret(&name, &self.admin_password),
                "jwt_secret" => secret(&name, &self.jwt_secret),
                "smtp_url" => ShownSetting {
                    value: self
                        .smtp_url
                        .as_ref()
                        .map(|u| redact_url_password(u.expose_secret()))
                        .unwrap_or_default(),
                    ..secret(&name, &self.smtp_url)
                },
                "database_url" => ShownSetting {
                    name,
                    value: self.database_url_for_display(),
                    secret: true,
                    set: true,
                },
                _ => {
                    let text = match value {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    ShownSetting {
                        set: !text.is_empty(),
                        // A URL someone put a password into stays readable
                        // without it.
                        value: redact_url_password(&text),
                        name,
                        secret: false,
                    }
                }
            };
            shown.push(line);
        }
        shown
    }
}

/// One setting as an administrator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ShownSetting {
    pub name: String,
    /// The value, a secret's left out (a URL's password replaced by `***`).
    pub value: String,
    /// A secret or a URL that may hold one.
    pub secret: bool,
    pub set: bool,
}

fn redact_url_password(url: &str) -> String {
    // scheme://user:password@host → scheme://user:***@host
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let rest = match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    // …?password=secret&… (libpq's form) → …?password=***&…
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(
            redact_url_password("postgres://duban:s3cret@db:5432/duban"),
            "postgres://duban:***@db:5432/duban"
        );
        assert_eq!(redact_url_password("data/duban.db"), "data/duban.db");
        assert_eq!(
            redact_url_password("postgres://db/duban?user=d&password=s3cret"),
            "postgres://db/duban?user=d&password=***"
        );
        assert_eq!(
            redact_url_password("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
    }

    fn read(toml: &str) -> Result<Settings, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(toml))
            .extract()
            .map_err(Box::new)
    }

    #[test]
    fn settings_written_as_text_are_read_once_into_values() {
        let s = read(
            r#"timezone = "Asia/Urumqi"
               ladder_reminder_days = "5, 2"
               scan_time = "07:30"
               send_window = ""
               notice_language = "en"
               mail_transport = "smtp"
               attachment_storage = "db"
               assessment_grades = "95,80,60""#,
        )
        .unwrap();
        assert_eq!(s.timezone, chrono_tz::Asia::Urumqi);
        assert_eq!(s.ladder_reminder_days, vec![5, 2]);
        assert_eq!(s.scan_time.to_string(), "07:30");
        assert_eq!(s.window(), None);
        assert_eq!(s.notice_language, Lang::En);
        assert_eq!(s.mail_transport, MailTransport::Smtp);
        assert_eq!(s.attachment_storage, StorageKind::Db);
        assert_eq!(s.assessment_grades.0, [95.0, 80.0, 60.0]);
        // A list in TOML reads the same as the text an environment variable gives.
        assert_eq!(
            read("ladder_reminder_days = [5, 2]")
                .unwrap()
                .ladder_reminder_days,
            vec![5, 2]
        );
        assert_eq!(
            read("ladder_reminder_days = 3")
                .unwrap()
                .ladder_reminder_days,
            vec![3]
        );
    }

    #[test]
    fn a_bad_setting_is_refused_naming_it() {
        for (toml, name) in [
            (r#"timezone = "Mars/Olympus""#, "timezone"),
            (r#"scan_time = "8 o'clock""#, "scan_time"),
            (r#"send_window = "20:00-08:00""#, "send_window"),
            (
                r#"ladder_reminder_days = "7,three""#,
                "ladder_reminder_days",
            ),
            (r#"assessment_grades = "60,75,90""#, "assessment_grades"),
            (r#"mail_transport = "pigeon""#, "mail_transport"),
            (r#"attachment_storage = "cloud""#, "attachment_storage"),
            (r#"notice_language = "fr""#, "notice_language"),
        ] {
            let err = read(toml).unwrap_err().to_string();
            assert!(err.contains(name), "{toml}: {err}");
        }
    }

    #[test]
    fn trusted_proxies_are_a_list_or_comma_separated_text() {
        let listed = read(r#"trusted_proxies = ["10.0.0.1", "fd00::/8"]"#).unwrap();
        let written = read(r#"trusted_proxies = "10.0.0.1, fd00::/8""#).unwrap();
        let names: Vec<String> = listed
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["10.0.0.1/32", "fd00::/8"]);
        assert_eq!(written.trusted_proxies, listed.trusted_proxies);
        assert!(Settings::default().trusted_proxies.is_empty());
        let err = read(r#"trusted_proxies = "proxy.example""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trusted_proxies"), "{err}");
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let settings = Settings {
            jwt_secret: Some(SecretString::from("very-secret-signing-key-0123456789")),
            admin_password: Some(SecretString::from("admin-pass-123456")),
            ..Settings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("very-secret"));
        assert!(!shown.contains("admin-pass"));
    }
}
