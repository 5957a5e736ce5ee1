//! `corroborate-backend`: `serve` (the default) runs the service; `migrate` applies pending
//! migrations and exits; `openapi` prints the API description; `witness serve` / `witness keygen`
//! run a transparency-log witness or make its key (`docs/witness.md`); `anchors status|flush|
//! reanchor` look after ledger anchoring (`docs/ledgers.md`). Settings come from
//! defaults, an optional `--config FILE` and the environment (see `settings.rs`).

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
    /// Run, or make the key of, a transparency-log witness (C2SP tlog-witness); see
    /// docs/witness.md.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Ledger anchoring: where it stands, anchor what waits now, re-anchor on a new ledger.
    #[command(subcommand)]
    Anchors(AnchorsCommand),
}

#[derive(Subcommand)]
enum AnchorsCommand {
    /// Print the connector, the log's key, the records waiting and the batches per state.
    Status,
    /// Cut every waiting record into batches now and anchor them.
    Flush {
        /// How long to wait for the batches to be final, in seconds.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// After switching `anchoring.connector`: anchor the roots of every final batch of the
    /// previous ledgers on the new one, linked so that old receipts reach the new ledger.
    Reanchor {
        /// How long to wait for the new batch to be final, in seconds.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Cosign the given logs' checkpoints over HTTP (POST /add-checkpoint) until interrupted.
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:7380")]
        listen: String,
        /// The witness's signer key file (PRIVATE+KEY+…), as `witness keygen` writes it.
        #[arg(long)]
        key: PathBuf,
        /// A witnessed log's verifier key (<origin>+<key id>+<base64 key>); repeat per log.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
        /// The state file: the latest checkpoint cosigned per log (created when missing).
        #[arg(long)]
        state: PathBuf,
    },
    /// Make a witness key: writes the signer key to a new file (mode 0600) and prints the
    /// verifier key to give to the logs and their clients.
    Keygen {
        /// The witness's name, a schema-less URL such as witness.example.org/w1.
        #[arg(long)]
        name: String,
        /// The signer key file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
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
        Command::Witness(command) => witness(command, &settings),
        Command::Anchors(command) => anchors(command, &settings),
    }
}

fn anchors(command: AnchorsCommand, settings: &Settings) -> anyhow::Result<()> {
    use corroborate_backend::anchoring::commands;
    use std::time::Duration;
    corroborate_backend::telemetry::init(settings.log_format);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        match command {
            AnchorsCommand::Status => commands::status(settings).await,
            AnchorsCommand::Flush { wait } => {
                commands::flush(settings, Duration::from_secs(wait)).await
            }
            AnchorsCommand::Reanchor { wait } => {
                commands::reanchor(settings, Duration::from_secs(wait)).await
            }
        }
    })
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

fn witness(command: WitnessCommand, settings: &Settings) -> anyhow::Result<()> {
    use corroborate_backend::witness::{Witness, WitnessConfig};
    use corroborate_verifier::note::{COSIGNATURE_V1, NoteSigner, NoteVerifier};
    match command {
        WitnessCommand::Keygen { name, out } => witness_keygen(&name, &out),
        WitnessCommand::Serve {
            listen,
            key,
            logs,
            state,
        } => {
            corroborate_backend::telemetry::init(settings.log_format);
            let skey = zeroize::Zeroizing::new(
                std::fs::read_to_string(&key)
                    .with_context(|| format!("reading the witness key {}", key.display()))?,
            );
            let signer = NoteSigner::parse(skey.trim_end())
                .and_then(|signer| signer.with_kind(COSIGNATURE_V1))
                .with_context(|| {
                    format!("the witness key {} is not a note signer key", key.display())
                })?;
            let logs = logs
                .iter()
                .map(|vkey| {
                    NoteVerifier::parse(vkey)
                        .with_context(|| format!("--log {vkey:?} is not a note verifier key"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let vkey = signer.verifier().to_vkey();
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async move {
                let witness = Witness::start(WitnessConfig {
                    listen,
                    signer,
                    logs,
                    state_file: state,
                })
                .await?;
                tracing::info!(url = witness.url(), vkey, "witness listening");
                shutdown_signal().await?;
                tracing::info!("stopping");
                witness.stop().await;
                Ok(())
            })
        }
    }
}

/// Writes a new cosignature/v1 key to `out` (created, never overwritten, mode 0600) and prints
/// its verifier key.
fn witness_keygen(name: &str, out: &std::path::Path) -> anyhow::Result<()> {
    use corroborate_verifier::note::{COSIGNATURE_V1, NoteSigner};
    use rand::RngCore;
    use std::io::Write;
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng
        .try_fill_bytes(&mut *seed)
        .context("reading the operating system's randomness")?;
    let signer = NoteSigner::from_seed(name, COSIGNATURE_V1, &seed)
        .with_context(|| format!("{name:?} cannot be a witness name"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(out).with_context(|| {
        format!(
            "creating the key file {} (an existing file is never overwritten)",
            out.display()
        )
    })?;
    let skey = zeroize::Zeroizing::new(format!("{}\n", signer.to_skey()));
    file.write_all(skey.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the key file {}", out.display()))?;
    println!("{}", signer.verifier());
    Ok(())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("listening for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("listening for Ctrl-C")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("listening for Ctrl-C")?;
    Ok(())
}
