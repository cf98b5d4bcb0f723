//! The `duban` binary: parse the command line, set up logging, dispatch.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    duban::telemetry::init();
    let cli = duban::cli::Cli::parse();
    match duban::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("duban: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
