//! `corroborate-backend`: `serve` (the default) runs the service; `migrate` applies pending
//! migrations and exits; `openapi` prints the API description. Settings come from defaults, an
//! optional `--config FILE` and the environment (see `settings.rs`).

use anyhow::Context;
use clap::{Parser, Subcommand};
use corroborate_backend::app::Application;
use corroborate_backend::db::{DatabaseUrl, Db};
use corroborate_backend::settings::Settings;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "corroborate-backend",
    version,
    about = "The Corroborate service"
)]
struct Cli {
    /// A TOML settings file (environment variables CORROBORATE__… and DATABASE_URL override it).
    #[arg(long, global = true, env = "CORROBORATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI description (JSON) and exit.
    Openapi,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("reading settings")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&corroborate_backend::app::openapi())?
            );
            Ok(())
        }
        Command::Migrate => {
            corroborate_backend::telemetry::init(settings.log_format);
            let url = DatabaseUrl::parse(&settings.database_url)?;
            Db::open(&url, 1).context("migrating the database")?;
            tracing::info!(dialect = ?url.dialect, "migrations applied");
            Ok(())
        }
        Command::Serve => serve(settings),
    }
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    corroborate_backend::telemetry::init(settings.log_format);
    let app = Application::build(settings)?;
    tracing::info!(
        url = app.public_url(),
        "listening; API description at /docs"
    );
    app.run_until_stopped().await?;
    Ok(())
}
