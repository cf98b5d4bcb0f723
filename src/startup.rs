//! Building the application: open the database, migrate, make sure the first
//! admin exists, bind the listener (port 0 in tests) and wire the routes.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use std::time::Duration;

use actix_http::{HttpService, Protocol};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::middleware::account_check;
use crate::config::Settings;
use crate::credentials::{self, Passwords, Tokens};
use crate::db::{self, Backend, DbPool};
use crate::http::client_address::TrustedProxies;
use crate::http::json::JsonLimit;
use crate::http::middleware::{problem_json, request_id_header};
use crate::http::problem::ApiError;
use crate::http::request_line::EncodeRequestLine;
use crate::openapi::ApiDoc;
use crate::sign_in;
use crate::state::AppState;
use crate::storage::Storage;
use crate::users::bootstrap::{self, FirstAdmin};
use crate::{
    accountability, assessments, audit, bulletins, calendar, follows, health, holidays, indicators,
    instructions, jobs, notices, orders, plans, rankings, stats, tasks, unit_record, units, users,
};

/// Opens the pool and applies pending migrations.
pub fn open_database(settings: &Settings) -> anyhow::Result<DbPool> {
    let url = settings.database_url();
    let pool = db::connect(&url, settings.db_pool_size).with_context(|| {
        format!(
            "opening the database {}",
            settings.database_url_for_display()
        )
    })?;
    let mut conn = pool.get().context("connecting to the database")?;
    db::migrations::run(&mut conn).context("running migrations")?;
    Ok(pool)
}

pub struct Application {
    pool: DbPool,
    settings: Arc<Settings>,
    address: SocketAddr,
    server: Server,
    first_admin: FirstAdmin,
    backend: Backend,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        // A broken page template stops the start, never a person's request.
        crate::web::check_templates()?;
        // So does a broken document or email template, an override included.
        crate::template_samples::install(&settings)?;
        let settings = Arc::new(settings);
        let prepared = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || prepare(&settings)).await??
        };
        let (pool, tokens, passwords, first_admin) = prepared;
        let backend = db::Backend::from_url(&settings.database_url())?;
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let address = listener.local_addr()?;
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            outage: Default::default(),
            backend,
            settings: settings.clone(),
            tokens,
            passwords,
            storage: Storage::from_settings(&settings),
            trusted_proxies: TrustedProxies::new(&settings.trusted_proxies),
        });
        let json_limit = web::Data::new(JsonLimit(settings.json_limit_bytes));
        // One per process, shared by the workers: closed periods' rankings.
        let kept_rankings = web::Data::new(rankings::cache::RankingCache::default());
        let openapi = ApiDoc::openapi();
        let app = move || {
            App::new()
                .wrap(from_fn(account_check))
                .wrap(from_fn(problem_json))
                .wrap(from_fn(request_id_header))
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .app_data(json_limit.clone())
                .app_data(kept_rankings.clone())
                // What a task's life-cycle step writes to the outbox.
                .app_data(web::Data::new(tasks::actions::StepNotices(
                    notices::tell::after_step,
                )))
                // What an order issued by hand writes to the outbox.
                .app_data(web::Data::new(orders::OrderNotice(
                    notices::tell::order_issued,
                )))
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()),
                )
                .configure(health::configure)
                // Before the /api/v1 scope, which would otherwise claim
                // /api/v1/openapi.json and answer 404.
                .service(
                    SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", openapi.clone()),
                )
                .service(
                    web::scope("/api/v1")
                        .configure(sign_in::routes::configure)
                        .configure(units::routes::configure)
                        .configure(unit_record::routes::configure)
                        .configure(users::routes::configure)
                        .configure(plans::routes::configure)
                        .configure(tasks::routes::configure)
                        .configure(instructions::routes::configure)
                        .configure(orders::routes::configure)
                        .configure(holidays::routes::configure)
                        .configure(audit::routes::configure)
                        .configure(stats::configure)
                        .configure(notices::routes::configure)
                        .configure(jobs::routes::configure)
                        .configure(accountability::routes::configure)
                        .configure(rankings::routes::configure)
                        .configure(bulletins::routes::configure)
                        .configure(assessments::routes::configure)
                        .configure(indicators::routes::configure)
                        .configure(calendar::routes::configure)
                        .configure(follows::routes::configure),
                )
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header(("Location", "/docs/"))
                            .finish()
                    }),
                )
                // Last: the console claims every path the API did not.
                .configure(crate::web::configure)
        };
        // What `HttpServer::listen` builds, with one step more: each
        // connection is read through `EncodeRequestLine`, so that a request
        // line with raw UTF-8 (curl's `?q=厕所`) reaches the routes instead
        // of getting actix-http's bare 400 (see `http::request_line`).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = if settings.workers > 0 {
            settings.workers
        } else {
            cores
        };
        let builder = actix_server::Server::build()
            .shutdown_timeout(30)
            .workers(workers)
            // Each worker's `web::block` pool (actix's default: 512 threads
            // shared out), sized to the work the database can take at once.
            .worker_max_blocking_threads(backend.blocking_threads_per_worker(
                settings.db_pool_size,
                workers,
                cores,
            ));
        let shutdown = builder.graceful_shutdown_signal();
        let server = builder
            .listen("duban", listener, move || {
                let shutdown = shutdown.clone();
                let service = HttpService::build()
                    .graceful_shutdown_signal(move || {
                        let shutdown = shutdown.clone();
                        async move { shutdown.notified().await }
                    })
                    .client_request_timeout(Duration::from_secs(5))
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .local_addr(address)
                    .finish(map_config(
                        app()
                            .into_factory()
                            .map_err(|err: actix_web::Error| err.error_response()),
                        // The host and address here only stand in for a
                        // request without a Host header (HTTP/1.0) in
                        // `ConnectionInfo`; duban builds no URL from them.
                        |_| AppConfig::default(),
                    ));
                fn_service(|io: tokio::net::TcpStream| async move {
                    let peer = io.peer_addr().ok();
                    Ok((EncodeRequestLine::new(io), Protocol::Http1, peer))
                })
                .and_then(service)
            })?
            .run();
        Ok(Application {
            pool,
            settings,
            address,
            server,
            first_admin,
            backend,
        })
    }

    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.settings.clone()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn first_admin(&self) -> &FirstAdmin {
        &self.first_admin
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A handle to stop the server gracefully (what SIGTERM and SIGINT do).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then finishes requests in flight (up to 30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

type Prepared = (DbPool, Tokens, Passwords, FirstAdmin);

fn prepare(settings: &Settings) -> anyhow::Result<Prepared> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let pool = open_database(settings)?;
    let secret = credentials::token::load_or_create_secret(settings)?;
    let tokens = Tokens::new(&secret, settings);
    let passwords = Passwords::new(settings)?;
    let mut conn = pool.get()?;
    let first_admin = bootstrap::ensure_first_admin(&mut conn, settings, &passwords)?;
    drop(conn);
    Ok((pool, tokens, passwords, first_admin))
}
