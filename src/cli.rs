//! The command line: `duban [serve]`, `duban migrate`, `duban admin create`,
//! `duban templates export`, `duban openapi`. `main.rs` parses it and calls
//! `run`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::credentials::Passwords;
use crate::domain::message::Lang;
use crate::domain::values::Password;
use crate::startup::{self, Application};
use crate::users::bootstrap::{generate_password, FirstAdmin};
use crate::users::model::CreateUser;
use crate::{openapi, units, users};

#[derive(Debug, Parser)]
#[command(
    name = "duban",
    version,
    about = "督办 duban: assign, track, chase and rank the tasks of a responsibility chain",
    long_about = "督办 duban: assign, track, chase and rank the tasks of a responsibility chain.\n\n\
        Without a command, duban serves (same as `duban serve`). Settings come from built-in \
        defaults, then duban.toml (or --config), then DUBAN_* environment variables and \
        DATABASE_URL; see docs/configuration.md."
)]
pub struct Cli {
    /// Settings file (TOML). Default: ./duban.toml when it exists.
    #[arg(long, global = true, env = "DUBAN_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (migrates first and creates the first admin if none
    /// exists) and run the scheduled jobs: the daily scan and notice delivery.
    Serve {
        /// Serve only; leave the jobs to other instances.
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Write the notices owed today (the daily scan) and exit.
    Scan {
        /// The local date to scan for, YYYY-MM-DD (default: today).
        #[arg(long)]
        today: Option<String>,
    },
    /// Send the notices that are due and exit.
    Deliver,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document (the committed docs/openapi.json is this output).
    Openapi,
    /// Import a breakdown table (.xlsx or .csv) into a plan as tasks; all rows or none.
    Import {
        /// The table file.
        file: PathBuf,
        /// The plan id.
        #[arg(long)]
        plan: i64,
        /// Only report what would be created (or changed); write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rows whose code the plan already has update that task (new codes
        /// are created, tasks missing from the table are listed, not deleted).
        #[arg(long)]
        update: bool,
        /// With --update: why the due dates of assigned tasks move.
        #[arg(long)]
        reason: Option<String>,
        /// The account the tasks are recorded as created by (default: the first admin).
        #[arg(long)]
        as_user: Option<String>,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Fill an empty database with a demo city (units, accounts, tasks,
    /// indicators, notices, two published bulletins) and print the accounts.
    Demo {
        /// Make the city this many times larger (for load and benchmark work).
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// The random seed: the same seed and --today give the same city.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Build the history up to this local date, YYYY-MM-DD (default: today).
        #[arg(long)]
        today: Option<String>,
    },
    /// Fill an empty database with a synthetic city at province scale for
    /// the benchmarks (bench/run, docs/performance.md): set-wise inserts,
    /// every account sharing one password.
    BenchData {
        /// Units, the office included.
        #[arg(long, default_value_t = 2_000)]
        units: u32,
        /// Accounts: the office, two leaders, a viewer and clerks (at least one per unit).
        #[arg(long, default_value_t = 10_000)]
        users: u32,
        #[arg(long, default_value_t = 1_000_000)]
        tasks: u64,
        /// Timeline events in all (default: five per task).
        #[arg(long)]
        events: Option<u64>,
        /// Percent of the tasks open past their due date.
        #[arg(long, default_value_t = 10)]
        overdue_percent: u32,
        /// The random seed: the same seed and options give the same city.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Date the city as of this local date, YYYY-MM-DD (default: today).
        #[arg(long)]
        today: Option<String>,
        /// The database to fill (default: the configured one).
        #[arg(long)]
        database_url: Option<String>,
        /// The password every account shares (default: generated and printed).
        #[arg(long, env = "DUBAN_BENCH_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// The templates of documents and emails.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Supervision bulletins.
    Bulletin {
        #[command(subcommand)]
        command: BulletinCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BulletinCommand {
    /// Draft (or regenerate the draft of) a period's bulletin, optionally
    /// publish it, and write its renderings. A published bulletin is only
    /// written out, never changed.
    Generate {
        /// 2026-11, 2026-Q4, 2026 or 2026-01-01..2026-03-31.
        #[arg(long)]
        period: String,
        /// Publish it: number, rectification tasks, emails to every unit.
        #[arg(long)]
        publish: bool,
        /// Write 督查通报-….html, .md, .csv, .xlsx and .json into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Judge as of this local date, YYYY-MM-DD (default: today).
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the built-in templates (documents and emails) into DIR, to edit
    /// and copy into <data dir>/templates/ as the installation's own.
    Export {
        /// The directory to write into (created if missing; files there of
        /// the same names are overwritten).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; report the first entry altered or deleted. Exits 1 when broken.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account of any role. The password is read from stdin with
    /// --password-stdin, otherwise generated and printed once.
    Create {
        #[arg(long)]
        username: String,
        /// admin, office, leader, unit or viewer.
        #[arg(long)]
        role: String,
        /// Code of the unit the account belongs to (required for role unit).
        #[arg(long)]
        unit: Option<String>,
        /// Name shown in the interface. Default: the username.
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::document()?);
        return Ok(());
    }
    if let Some(Command::Templates {
        command: TemplatesCommand::Export { dir },
    }) = &cli.command
    {
        let n = crate::templates::export(dir)?;
        println!(
            "{n} templates written to {}; copy the ones to change into <data dir>/{}/",
            dir.display(),
            crate::templates::OVERRIDES
        );
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    // Documents and emails use the installation's templates: a broken
    // override stops every command here, naming its file and line.
    crate::template_samples::install(&settings)?;
    match cli.command.unwrap_or(Command::Serve {
        no_scheduler: false,
    }) {
        Command::Serve { no_scheduler } => serve(settings, !no_scheduler).await,
        Command::Scan { today } => {
            let today = match today {
                Some(t) => crate::domain::values::parse_date(&t)
                    .map_err(|m| anyhow::anyhow!("--today: {}", m.en))?,
                None => crate::domain::calendar::local_date(chrono::Utc::now(), settings.timezone),
            };
            let counts = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let pool = startup::open_database(&settings)?;
                let mut conn = pool.get()?;
                crate::notices::scan::scan(
                    &mut conn,
                    &settings,
                    today,
                    chrono::Utc::now().naive_utc(),
                )
            })
            .await??;
            println!(
                "scan {today}: {} open tasks, {} notices created, {} already there",
                counts.tasks, counts.created, counts.existing
            );
            Ok(())
        }
        Command::Deliver => {
            let counts = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let pool = startup::open_database(&settings)?;
                let mailer = crate::mail::Mailer::from_settings(&settings)?;
                crate::notices::deliver::deliver(
                    &pool,
                    &mailer,
                    &settings,
                    crate::bulletins::publish::attachments,
                    chrono::Utc::now().naive_utc(),
                )
            })
            .await??;
            println!(
                "delivered: {} sent, {} to retry, {} dead, {} cancelled",
                counts.sent, counts.retried, counts.dead, counts.cancelled
            );
            Ok(())
        }
        Command::Migrate => {
            let url = settings.database_url_for_display();
            let pool =
                tokio::task::spawn_blocking(move || startup::open_database(&settings)).await??;
            drop(pool);
            println!("migrations applied: {url}");
            Ok(())
        }
        Command::Admin { command } => admin(settings, command).await,
        Command::Import {
            file,
            plan,
            dry_run,
            update,
            reason,
            as_user,
        } => {
            let options = crate::tasks::import::ImportOptions {
                mode: if update {
                    crate::tasks::import::ImportMode::Update
                } else {
                    crate::tasks::import::ImportMode::Create
                },
                dry_run,
                reason: reason.filter(|r| !r.trim().is_empty()),
                seen: None,
            };
            import_file(settings, file, plan, options, as_user).await
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let check = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let pool = startup::open_database(&settings)?;
                let mut conn = pool.get()?;
                Ok(crate::audit::verify(&mut conn)?)
            })
            .await??;
            match check {
                crate::audit::ChainCheck::Intact { entries } => {
                    println!("audit chain intact: {entries} entries");
                    Ok(())
                }
                crate::audit::ChainCheck::Broken { entry_id, reason } => {
                    anyhow::bail!("audit chain broken at entry {entry_id}: {reason}")
                }
            }
        }
        Command::Openapi | Command::Templates { .. } => Ok(()),
        Command::Demo { scale, seed, today } => {
            anyhow::ensure!(
                (1..=100).contains(&scale),
                "--scale must be between 1 and 100"
            );
            let today = match today {
                Some(t) => crate::domain::values::parse_date(&t)
                    .map_err(|m| anyhow::anyhow!("--today: {}", m.en))?,
                None => crate::domain::calendar::local_date(chrono::Utc::now(), settings.timezone),
            };
            tokio::task::spawn_blocking(move || demo(&settings, scale, seed, today)).await?
        }
        Command::BenchData {
            units,
            users,
            tasks,
            events,
            overdue_percent,
            seed,
            today,
            database_url,
            password,
        } => {
            let today = match today {
                Some(t) => crate::domain::values::parse_date(&t)
                    .map_err(|m| anyhow::anyhow!("--today: {}", m.en))?,
                None => crate::domain::calendar::local_date(chrono::Utc::now(), settings.timezone),
            };
            let options = crate::bench_data::BenchOptions {
                units,
                users,
                tasks,
                events: events.unwrap_or(tasks.saturating_mul(5)),
                overdue_percent,
                seed,
                today,
            };
            crate::bench_data::check(&options)?;
            let mut settings = settings;
            if database_url.is_some() {
                settings.database_url = database_url;
            }
            tokio::task::spawn_blocking(move || bench_data(&settings, &options, password)).await?
        }
        Command::Bulletin {
            command:
                BulletinCommand::Generate {
                    period,
                    publish,
                    out,
                    today,
                },
        } => {
            let summary = tokio::task::spawn_blocking(move || {
                generate_bulletin(
                    &settings,
                    &period,
                    publish,
                    out.as_deref(),
                    today.as_deref(),
                )
            })
            .await??;
            println!("{summary}");
            Ok(())
        }
    }
}

async fn serve(settings: Settings, scheduler: bool) -> anyhow::Result<()> {
    let db_shown = settings.database_url_for_display();
    let mailer = crate::mail::Mailer::from_settings(&settings)?;
    let mail_shown = match &mailer {
        crate::mail::Mailer::File { .. } => format!(
            "written as .eml files to {}",
            settings.data_dir.join("outbox").display()
        ),
        crate::mail::Mailer::Smtp { .. } => "sent by SMTP".to_string(),
    };
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.address());
    println!("duban {} listening on {base}", env!("CARGO_PKG_VERSION"));
    println!("  database: {} ({db_shown})", app.backend().name());
    println!("  API docs: {base}/docs/");
    let (username, password_hint) = match app.first_admin() {
        FirstAdmin::CreatedWithGeneratedPassword { username, password } => {
            println!("  first admin account created: username {username}, password {password}");
            println!(
                "  (this password is shown only now; change it with POST /api/v1/me/password)"
            );
            (username.clone(), password.clone())
        }
        FirstAdmin::CreatedWithConfiguredPassword { username } => {
            println!("  first admin account created: username {username}, password from DUBAN_ADMIN_PASSWORD");
            (username.clone(), "<DUBAN_ADMIN_PASSWORD>".to_string())
        }
        FirstAdmin::Existing => (
            "admin".to_string(),
            "<the admin password printed at first start>".to_string(),
        ),
    };
    println!("  console:  open {base}/ in a browser and sign in as {username}");
    println!("  sign in:  curl -s -X POST {base}/api/v1/auth/login -H 'Content-Type: application/json' \\");
    println!("              -d '{{\"username\":\"{username}\",\"password\":\"{password_hint}\"}}'");
    if scheduler {
        println!(
            "  notices:  {mail_shown}; daily scan at {}",
            app.settings().scan_time
        );
    } else {
        println!("  notices:  scheduler off (--no-scheduler)");
    }
    tracing::info!(address = %app.address(), "serving");
    if !scheduler {
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        return Ok(());
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    // Links in notices lead to the console: at `public_url`, or else at the
    // address this server actually bound (never a guessed port).
    let job_settings = match app.settings().public_url {
        Some(_) => app.settings(),
        None => {
            let mut s = (*app.settings()).clone();
            s.public_url = Some(base.clone());
            std::sync::Arc::new(s)
        }
    };
    let jobs = tokio::spawn(crate::jobs::run(app.pool(), job_settings, mailer, stopping));
    let handle = app.handle();
    supervise(app.run_until_stopped(), jobs, stop, || async move {
        handle.stop(true).await
    })
    .await
}

/// Runs the server and the scheduler side by side. When the server stops
/// (SIGTERM, SIGINT), the scheduler is told to stop and given a moment to
/// record the notice it is sending. When the scheduler stops on its own, it
/// has failed: the server is stopped too and the error returned, so that the
/// process exits non-zero and whatever supervises it starts it again,
/// instead of serving on without reminders.
async fn supervise<S, F>(
    server: S,
    mut jobs: tokio::task::JoinHandle<anyhow::Result<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    stop_server: impl FnOnce() -> F,
) -> anyhow::Result<()>
where
    S: std::future::Future<Output = std::io::Result<()>>,
    F: std::future::Future<Output = ()>,
{
    tokio::select! {
        served = server => {
            let _ = stop.send(true);
            // A send in flight ends within the SMTP timeout; do not wait for ever.
            match tokio::time::timeout(std::time::Duration::from_secs(30), &mut jobs).await {
                Ok(Ok(Err(e))) => tracing::error!(error = ?e, "the scheduler failed while stopping"),
                Err(_) => tracing::warn!("the scheduler did not stop within 30 s"),
                _ => {}
            }
            served?;
            tracing::info!("stopped");
            Ok(())
        }
        ended = &mut jobs => {
            let why = match ended {
                Ok(Ok(())) => anyhow::anyhow!("it ended unexpectedly"),
                Ok(Err(e)) => e,
                Err(e) => anyhow::Error::new(e),
            };
            tracing::error!(error = ?why, "the scheduler stopped; stopping the server");
            stop_server().await;
            Err(why.context(
                "the scheduler stopped, so duban stopped serving too (restart it; \
                 the jobs pick up where they left off)",
            ))
        }
    }
}

async fn admin(settings: Settings, command: AdminCommand) -> anyhow::Result<()> {
    let AdminCommand::Create {
        username,
        role,
        unit,
        display_name,
        email,
        password_stdin,
    } = command;
    let password = if password_stdin {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        input.trim_end_matches(['\r', '\n']).to_string()
    } else {
        generate_password()
    };
    Password::parse_for(&password, &username).map_err(|m| anyhow::anyhow!("password: {}", m.en))?;
    tokio::task::spawn_blocking(move || {
        let pool = startup::open_database(&settings)?;
        let mut conn = pool.get()?;
        let unit_id = match &unit {
            Some(code) => Some(
                units::service::find_by_code(&mut conn, code)?
                    .with_context(|| format!("no unit with code {code}"))?
                    .id,
            ),
            None => None,
        };
        let request = CreateUser {
            display_name: display_name.unwrap_or_else(|| username.clone()),
            username,
            email,
            phone: None,
            role,
            unit_id,
            password: Some(password.clone()),
        };
        let (user, password_checked) = users::service::parse_create(request).map_err(describe)?;
        let password_checked = password_checked.context("password missing")?;
        let passwords = Passwords::new(&settings)?;
        let hash = passwords.hash_blocking(password_checked.expose())?;
        let row =
            users::service::insert(&mut conn, None, &user, hash, chrono::Utc::now().naive_utc())
                .map_err(describe)?;
        println!(
            "created {} account {} (id {})",
            row.role, row.username, row.id
        );
        if !password_stdin {
            println!("password: {password}  (shown only now)");
        }
        Ok(())
    })
    .await?
}

/// What went wrong as one line of English for the terminal: the message,
/// the fields (or cells) at fault, and the table row it happened at.
fn describe(err: crate::error::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", err.sentence(Lang::En))
}

/// What an import did (or, with `--dry-run`, would do), for the terminal.
fn print_import(report: &crate::tasks::import::ImportReport, plan: i64) {
    use crate::tasks::import::ImportMode;
    let would = if report.dry_run { "would be " } else { "" };
    if report.mode == ImportMode::Create {
        let verb = if report.dry_run {
            "would create"
        } else {
            "created"
        };
        println!("{verb} {} tasks in plan {plan}", report.tasks.len());
        for t in &report.tasks {
            println!("  row {:>4}  {:<10} {}", t.row, t.code, t.title);
        }
        return;
    }
    println!(
        "{} tasks {would}created, {} {would}updated in plan {plan}",
        report.created, report.updated
    );
    for d in &report.changes {
        println!("  row {:>4}  {:<10}", d.row, d.code);
        for f in &d.fields {
            println!("      {} ({}): {:?} -> {:?}", f.field, f.cell, f.old, f.new);
        }
    }
    if !report.absent.is_empty() {
        println!("not in the table (kept as they are):");
        for a in &report.absent {
            println!("  {:<10} {}", a.code, a.title);
        }
    }
}

async fn import_file(
    settings: Settings,
    file: PathBuf,
    plan: i64,
    options: crate::tasks::import::ImportOptions,
    as_user: Option<String>,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.to_string_lossy().into_owned();
    tokio::task::spawn_blocking(move || {
        let rows = crate::tasks::import::parse_file(
            &name,
            "",
            &bytes,
            &crate::import::Limits::of(&settings),
        )
        .map_err(describe)?;
        let pool = startup::open_database(&settings)?;
        let mut conn = pool.get()?;
        let username = as_user.unwrap_or_else(|| settings.admin_username.clone());
        let actor = users::service::find_by_username(&mut conn, &username)?
            .with_context(|| format!("no account {username}"))?;
        let report = crate::tasks::reimport::by_mode(
            &mut conn,
            actor.id,
            crate::domain::PlanId(plan),
            rows,
            options,
            chrono::Utc::now().naive_utc(),
        )
        .map_err(describe)?;
        print_import(&report, plan);
        Ok(())
    })
    .await?
}

/// `duban bulletin generate`: returns what to print.
fn generate_bulletin(
    settings: &Settings,
    period: &str,
    publish: bool,
    out: Option<&std::path::Path>,
    today: Option<&str>,
) -> anyhow::Result<String> {
    use crate::bulletins;
    use crate::http::download::Format;
    let fail = describe;
    let period = crate::domain::period::Period::parse(period)
        .map_err(|m| anyhow::anyhow!("--period: {}", m.en))?;
    let mut clock = settings.clock(chrono::Utc::now());
    if let Some(t) = today {
        clock.today = crate::domain::values::parse_date(t)
            .map_err(|m| anyhow::anyhow!("--today: {}", m.en))?;
    }
    let pool = startup::open_database(settings)?;
    let mut conn = pool.get()?;
    let existing = bulletins::find_for_period(&mut conn, period)?;
    let mut row = match existing {
        Some(row) if row.is_published() => row,
        Some(row) => {
            bulletins::regenerate(&mut conn, settings, &clock, None, row.id, None).map_err(fail)?
        }
        None => bulletins::create(&mut conn, settings, &clock, None, period).map_err(fail)?,
    };
    if publish {
        row = bulletins::publish::publish(&mut conn, settings, &clock, None, row.id)
            .map_err(fail)?
            .0;
    }
    let snapshot = row.snapshot().map_err(describe)?;
    let mut lines = vec![format!(
        "bulletin {} for {}: {}{}, {} units ranked, criticised: {}, commended: {}",
        row.id,
        row.period,
        row.status,
        row.number_label()
            .map(|l| format!(" {l}"))
            .unwrap_or_default(),
        snapshot.ranking.ranked.len(),
        names(snapshot.ranking.criticised()),
        names(snapshot.ranking.commended()),
    )];
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)?;
        let name = crate::bulletins::files::file_name(&row);
        for format in [
            Format::Html,
            Format::Markdown,
            Format::Csv,
            Format::Xlsx,
            Format::Json,
        ] {
            let path = dir.join(format!("{name}.{}", format.extension()));
            let bytes = crate::bulletins::files::file_bytes(&row, &snapshot, format, Lang::Zh)?;
            std::fs::write(&path, bytes)?;
            lines.push(format!("wrote {}", path.display()));
        }
    }
    Ok(lines.join("\n"))
}

fn names<'a>(rows: impl Iterator<Item = &'a crate::rankings::RankingRow>) -> String {
    let names: Vec<&str> = rows.map(|r| r.unit.name.as_str()).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join("、")
    }
}

/// `duban demo`: builds the city and prints how to sign in.
fn demo(
    settings: &Settings,
    scale: u32,
    seed: u64,
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir)?;
    let pool = startup::open_database(settings)?;
    let passwords = Passwords::new(settings)?;
    let mut conn = pool.get()?;
    let admin = crate::users::bootstrap::ensure_first_admin(&mut conn, settings, &passwords)?;
    let started = std::time::Instant::now();
    let summary = crate::demo::load(
        &mut conn,
        settings,
        crate::demo::DemoOptions { scale, seed, today },
        &|p| passwords.hash_blocking(p),
    )?;
    println!(
        "demo city loaded in {:.1} s: {} units, {} tasks, {} indicators, {} notices, bulletins {}",
        started.elapsed().as_secs_f64(),
        summary.units,
        summary.tasks,
        summary.indicators,
        summary.notices,
        summary.bulletins.join("、")
    );
    let mut list = String::from("username\trole\tunit\tpassword\n");
    if let FirstAdmin::CreatedWithGeneratedPassword { username, password } = &admin {
        list.push_str(&format!("{username}\tadmin\t\t{password}\n"));
    }
    for a in &summary.accounts {
        list.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            a.username, a.role, a.unit, a.password
        ));
    }
    if let Some(p) = &summary.shared_password {
        list.push_str(&format!("(every other clerk-*)\tunit\t\t{p}\n"));
    }
    print!("{list}");
    let file = settings.data_dir.join("demo-accounts.txt");
    crate::secrets::write_private(&file, &list, true)?;
    println!(
        "(the list is also in {}, readable only by you; start duban and sign in as office)",
        file.display()
    );
    Ok(())
}

/// `duban bench-data`: one hash for every account, then the city.
fn bench_data(
    settings: &Settings,
    options: &crate::bench_data::BenchOptions,
    password: Option<String>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir)?;
    let pool = startup::open_database(settings)?;
    let passwords = Passwords::new(settings)?;
    let mut conn = pool.get()?;
    let admin = crate::users::bootstrap::ensure_first_admin(&mut conn, settings, &passwords)?;
    let generated = password.is_none();
    let password = match password {
        Some(p) => Password::parse(&p)
            .map_err(|m| anyhow::anyhow!("--password: {}", m.en))?
            .expose()
            .to_string(),
        None => generate_password(),
    };
    let hash = passwords.hash_blocking(&password)?;
    let started = std::time::Instant::now();
    let summary = crate::bench_data::load(&mut conn, options, &hash, &mut |done| {
        println!("  {:>7.1} s  {done}", started.elapsed().as_secs_f64());
    })?;
    println!(
        "bench data loaded in {:.1} s: {} units, {} accounts, {} tasks ({} overdue), {} events, {} progress reports",
        started.elapsed().as_secs_f64(),
        summary.units,
        summary.users,
        summary.tasks,
        summary.overdue,
        summary.events,
        summary.reports
    );
    println!(
        "sign in as bench-office, bench-leader-1, bench-viewer or clerk-b00001… ({} of unit {} leads task {}){}",
        summary.sample_clerk,
        summary.sample_unit,
        summary.sample_task,
        if generated {
            format!("; every account's password: {password}")
        } else {
            "; every account has the password given".to_string()
        }
    );
    if let FirstAdmin::CreatedWithGeneratedPassword { username, password } = &admin {
        println!("first admin account created: username {username}, password {password}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_scheduler_that_dies_stops_the_server_with_an_error() {
        let (stop, _stopping) = tokio::sync::watch::channel(false);
        let jobs = tokio::spawn(async { anyhow::bail!("a scheduled job panicked: boom") });
        let server_stopped = Arc::new(AtomicBool::new(false));
        let flag = server_stopped.clone();
        let result = supervise(
            std::future::pending::<std::io::Result<()>>(),
            jobs,
            stop,
            || async move { flag.store(true, Ordering::SeqCst) },
        )
        .await;
        let err = result.expect_err("the process must fail");
        let text = format!("{err:#}");
        assert!(text.starts_with("the scheduler stopped"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert!(server_stopped.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_panicking_scheduler_task_also_counts_as_dying() {
        let (stop, _stopping) = tokio::sync::watch::channel(false);
        let jobs = tokio::spawn(async {
            if true {
                panic!("the loop itself");
            }
            Ok(())
        });
        let result = supervise(
            std::future::pending::<std::io::Result<()>>(),
            jobs,
            stop,
            || async {},
        )
        .await;
        assert!(result.is_err());
    }

    #[tokio::test]
    async fn a_stopped_server_stops_the_scheduler_and_exits_cleanly() {
        let (stop, mut stopping) = tokio::sync::watch::channel(false);
        let jobs = tokio::spawn(async move {
            let _ = stopping.changed().await;
            anyhow::ensure!(*stopping.borrow(), "told to stop");
            Ok(())
        });
        let result = supervise(async { Ok(()) }, jobs, stop, || async {
            panic!("the server stopped by itself")
        })
        .await;
        assert!(result.is_ok(), "{result:?}");
    }
}
