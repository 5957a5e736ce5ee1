//! `corroborate-wallet`: the holder wallet on the command line. Keeps its identities and
//! credentials in an encrypted SQLite file and talks to a Corroborate service: citizens ask for
//! attestations and present them; person attesters review, sign, decline and revoke.
//!
//! The passphrase comes from `CORROBORATE_WALLET_PASSPHRASE`, `--passphrase-file`, or a prompt.

mod show;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use corroborate_verifier::proof::Cryptosuite;
use corroborate_wallet::client::check_service_url;
use corroborate_wallet::flows::{Agent, Ask, Env, Target};
use corroborate_wallet::identity;
use corroborate_wallet::native::{HttpTransport, OsEntropy, SqliteStorage, SystemClock};
use corroborate_wallet::platform::{Clock, EntropyRng};
use corroborate_wallet::records::{
    CachedRecord, CredentialRecord, GivenRecord, IdentityRecord, PresentationRecord, ReceiptRecord,
    RequestRecord, SettingsRecord,
};
use corroborate_wallet::resolve::Offline;
use corroborate_wallet::store::{KdfParams, Wallet, WalletError};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "corroborate-wallet",
    version,
    about = "The Corroborate holder wallet: identities, credentials, attestation requests, presentations."
)]
struct Cli {
    /// The wallet file (encrypted SQLite).
    #[arg(
        long,
        global = true,
        env = "CORROBORATE_WALLET",
        default_value = "wallet.sqlite"
    )]
    wallet: PathBuf,
    /// The service's URL; defaults to the one the wallet was set up with.
    #[arg(long, global = true, env = "CORROBORATE_SERVICE")]
    service: Option<String>,
    /// Which identity acts (its label or DID), when the wallet holds several.
    #[arg(long = "as", global = true)]
    identity: Option<String>,
    /// A file whose first line is the passphrase (else CORROBORATE_WALLET_PASSPHRASE, else a
    /// prompt).
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a wallet with a first identity.
    Init {
        /// The first identity's label.
        #[arg(long, default_value = "me")]
        label: String,
        /// The service this wallet talks to.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        service_url: String,
        /// Cheap key derivation, for throw-away demo and test wallets only.
        #[arg(long)]
        insecure_fast_kdf: bool,
    },
    /// Identities (did:key): one per relationship, or per child.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Sign in and print a bearer token, for calling the service's API directly.
    Token,
    /// Attestation requests I make (citizen).
    #[command(subcommand)]
    Request(RequestCommand),
    /// Requests addressed to me, as an attester.
    #[command(subcommand)]
    Attest(AttestCommand),
    /// Present credentials to a government verifier.
    #[command(subcommand)]
    Present(PresentCommand),
    /// The credentials and status credentials this wallet holds.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Anchoring receipts of my status credentials: they prove, without the service, that a
    /// status was anchored, and hold the salt that links the anchor to it.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// The log of my presentations: who saw what, when, under which policy.
    Log,
    /// Verify a credential offline (a stored one by id, or a file), with what the wallet kept.
    Verify {
        /// A stored credential's id, or a path to a credential file.
        credential: String,
    },
    /// Write an encrypted backup of the whole wallet to a file.
    Backup { file: PathBuf },
    /// Restore a backup into a new wallet file.
    Restore { file: PathBuf },
    /// Social recovery: split a recovery secret among contacts, or recover with their shares.
    #[command(subcommand)]
    Recovery(RecoveryCommand),
    /// Change the passphrase (CORROBORATE_WALLET_NEW_PASSPHRASE, or a prompt).
    ChangePassphrase,
}

#[derive(Subcommand)]
enum IdentityCommand {
    /// Create an identity.
    New {
        #[arg(long)]
        label: String,
    },
    List,
}

#[derive(Subcommand)]
enum RequestCommand {
    /// Ask attesters to attest a fact about me.
    Create(CreateArgs),
    /// My requests.
    List,
    /// A request's progress: who answered, declined, is pending.
    Show { id: String },
    /// Collect the answers: each credential is checked before it is kept.
    Collect { id: String },
    /// Withdraw a request.
    Withdraw { id: String },
}

#[derive(Args)]
struct CreateArgs {
    /// The fact type: ResidenceAttestation, BirthAttestation, ParentageAttestation.
    #[arg(long)]
    fact_type: String,
    /// What attesters are asked to state: JSON, or @FILE.
    #[arg(long)]
    claims: String,
    /// An attester's DID (repeat for several).
    #[arg(long = "to")]
    to: Vec<String>,
    /// Also make a one-time link (shown with a QR code) for an attester whose DID I do not know.
    #[arg(long)]
    open: bool,
    /// Days until the request expires.
    #[arg(long)]
    days: Option<i64>,
    /// A note for the attesters.
    #[arg(long)]
    note: Option<String>,
}

#[derive(Subcommand)]
enum AttestCommand {
    /// The requests addressed to me.
    Inbox,
    /// Review one request exactly as I would sign it: an id, or an open link.
    Show { request: String },
    /// Sign what a request asks and send it.
    Sign(SignArgs),
    /// Sign an attestation about someone directly, without a request (an organisation's own
    /// signer); prints the signed credential for them.
    Issue(IssueArgs),
    /// Decline a request.
    Decline {
        request: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// The attestations I have given.
    Given,
    /// Revoke an attestation I gave: my wallet re-signs my status list, the service publishes it.
    Revoke { id: String },
}

#[derive(Args)]
struct SignArgs {
    /// The request's id, or its open link.
    request: String,
    /// My relation to the fact: neighbour, parcel-carrier, physician, mother, father…
    #[arg(long)]
    role: String,
    /// Since when that relation holds (YYYY-MM-DD).
    #[arg(long)]
    since: Option<String>,
    /// A few words on the relation.
    #[arg(long)]
    description: Option<String>,
    /// The proof's cryptosuite.
    #[arg(long, value_enum, default_value = "eddsa-rdfc-2022")]
    suite: Suite,
    /// Sign without asking for confirmation.
    #[arg(long)]
    yes: bool,
}

#[derive(Args)]
struct IssueArgs {
    /// Whom it is about (their DID).
    #[arg(long)]
    subject: String,
    #[arg(long)]
    fact_type: String,
    /// What I state: JSON, or @FILE.
    #[arg(long)]
    claims: String,
    #[arg(long)]
    role: String,
    #[arg(long)]
    since: Option<String>,
    #[arg(long, value_enum, default_value = "eddsa-rdfc-2022")]
    suite: Suite,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Suite {
    #[value(name = "eddsa-rdfc-2022")]
    Rdfc,
    #[value(name = "eddsa-jcs-2022")]
    Jcs,
}

#[derive(Subcommand)]
enum PresentCommand {
    /// What a verifier asks, and what this wallet would disclose.
    Show { challenge: String },
    /// Present, after consent, and keep the status credential.
    Send {
        /// The challenge, or the presentation request's URL.
        challenge: String,
        /// Present only these credentials (ids); by default, every valid one the policy needs.
        #[arg(long = "credential")]
        credentials: Vec<String>,
        /// Consent without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Present without the network, to a verifier that checks on its side (`corroborate
    /// verify-presentation` or `decide --presentation`): signed here, bound to the challenge and
    /// the domain it gave; the presentation is written to --out, or printed.
    Offline {
        /// The verifier's domain (the audience its check expects).
        #[arg(long = "to")]
        verifier: String,
        /// The one-time challenge the verifier gave.
        #[arg(long)]
        challenge: String,
        /// The credentials to present (ids; repeat).
        #[arg(long = "credential", required = true)]
        credentials: Vec<String>,
        /// Write the presentation to this new file (mode 600).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Consent without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum CredentialsCommand {
    List,
    /// Keep a credential from a file (an organisation's download), after checking it is about
    /// me and verifies in full.
    Import {
        file: PathBuf,
    },
    Show {
        id: String,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Fetch the receipt of a status credential I hold, check it against the credential and the
    /// keys the service publishes, and keep it.
    Fetch { credential: String },
    /// Check a kept receipt again, offline, and print it (for `corroborate receipt verify`).
    Show { credential: String },
}

#[derive(Subcommand)]
enum RecoveryCommand {
    /// Make shares for contacts: any THRESHOLD of the SHARES restore the wallet.
    Split {
        #[arg(long)]
        threshold: u8,
        #[arg(long)]
        shares: u8,
    },
    /// Recover with shares: from a backup into a new wallet file, or reset this wallet's
    /// passphrase. The new passphrase comes from CORROBORATE_WALLET_NEW_PASSPHRASE or a prompt.
    Restore {
        /// The backup to restore; without it, the wallet file itself is opened with the shares.
        #[arg(long)]
        backup: Option<PathBuf>,
        /// A share (repeat).
        #[arg(long = "share", required = true)]
        shares: Vec<String>,
        #[arg(long)]
        insecure_fast_kdf: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", show::printable(&format!("{error:#}")));
            ExitCode::FAILURE
        }
    }
}

type NativeEnv = Env<HttpTransport, SystemClock, OsEntropy>;

fn env() -> Result<NativeEnv> {
    Ok(Env {
        transport: HttpTransport::new()?,
        clock: SystemClock,
        entropy: OsEntropy,
    })
}

fn passphrase(cli: &Cli, variable: &str, prompt: &str) -> Result<Zeroizing<String>> {
    if let Some(file) = &cli.passphrase_file
        && variable == "CORROBORATE_WALLET_PASSPHRASE"
    {
        let text = Zeroizing::new(
            std::fs::read_to_string(file)
                .with_context(|| format!("reading the passphrase file {}", file.display()))?,
        );
        return Ok(Zeroizing::new(
            text.lines().next().unwrap_or_default().to_owned(),
        ));
    }
    if let Ok(value) = std::env::var(variable) {
        return Ok(Zeroizing::new(value));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: set {variable}, or run in a terminal to be asked");
    }
    Ok(Zeroizing::new(
        rpassword::prompt_password(prompt).context("reading the passphrase")?,
    ))
}

fn new_passphrase(cli: &Cli) -> Result<Zeroizing<String>> {
    let first = passphrase(cli, "CORROBORATE_WALLET_NEW_PASSPHRASE", "New passphrase: ")?;
    if std::env::var("CORROBORATE_WALLET_NEW_PASSPHRASE").is_err() && cli.passphrase_file.is_none()
    {
        let again = passphrase(cli, "CORROBORATE_WALLET_NEW_PASSPHRASE", "Again: ")?;
        if *again != *first {
            bail!("the two passphrases differ; nothing was changed");
        }
    }
    Ok(first)
}

async fn open(cli: &Cli) -> Result<Wallet<SqliteStorage>> {
    if !cli.wallet.exists() {
        bail!(
            "there is no wallet at {}: create one with `corroborate-wallet init`, or name it with --wallet",
            cli.wallet.display()
        );
    }
    let storage = SqliteStorage::open(&cli.wallet)?;
    let passphrase = passphrase(cli, "CORROBORATE_WALLET_PASSPHRASE", "Passphrase: ")?;
    Wallet::open(storage, &passphrase)
        .await
        .with_context(|| format!("opening {}", cli.wallet.display()))
}

async fn service_of(cli: &Cli, wallet: &Wallet<SqliteStorage>) -> Result<String> {
    let service = match &cli.service {
        Some(service) => service.clone(),
        None => wallet
            .get::<SettingsRecord>("settings")
            .await?
            .unwrap_or_default()
            .service
            .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned()),
    };
    check_service_url(&service).map_err(|e| anyhow!(e))?;
    Ok(service.trim_end_matches('/').to_owned())
}

fn claims_arg(text: &str) -> Result<Value> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the claims file {path}"))?,
        None => text.to_owned(),
    };
    corroborate_verifier::json::parse_str(&text, &Default::default())
        .map_err(|e| anyhow!("the claims are not acceptable JSON: {e}"))
}

fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{question} — confirm with --yes when not running in a terminal");
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn emit(cli: &Cli, value: &Value, text: impl FnOnce() -> String) {
    if cli.json {
        println!("{value:#}");
    } else {
        print!("{}", show::printable(&text()));
    }
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Init {
            label,
            service_url,
            insecure_fast_kdf,
        } => init(&cli, label, service_url, *insecure_fast_kdf).await,
        Command::Restore { file } => restore(&cli, file).await,
        Command::Recovery(RecoveryCommand::Restore {
            backup,
            shares,
            insecure_fast_kdf,
        }) => recover(&cli, backup.as_deref(), shares, *insecure_fast_kdf).await,
        _ => {
            let mut wallet = open(&cli).await?;
            let env = env()?;
            with_wallet(&cli, &mut wallet, &env).await
        }
    }
}

async fn init(cli: &Cli, label: &str, service: &str, fast: bool) -> Result<()> {
    if cli.wallet.exists() {
        bail!(
            "{} exists already; nothing was changed",
            cli.wallet.display()
        );
    }
    check_service_url(service).map_err(|e| anyhow!(e))?;
    let passphrase = new_passphrase(cli)?;
    let params = if fast {
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::STRONG
    };
    let env = env()?;
    let mut rng = EntropyRng(&env.entropy);
    let storage = SqliteStorage::open(&cli.wallet)?;
    let created = Wallet::create(storage, &passphrase, params, &mut rng, env.clock.now()).await;
    let wallet = discard_on_error(&cli.wallet, created)?;
    wallet
        .put(
            &SettingsRecord {
                service: Some(service.trim_end_matches('/').to_owned()),
            },
            &mut rng,
        )
        .await?;
    let me = identity::create(&wallet, label, &mut rng, env.clock.now()).await?;
    emit(
        cli,
        &json!({"wallet": cli.wallet, "did": me.did, "label": me.label}),
        || {
            format!(
                "Created the wallet {} with the identity {:?}:\n  {}\n",
                cli.wallet.display(),
                me.label,
                me.did
            )
        },
    );
    Ok(())
}

async fn restore(cli: &Cli, file: &Path) -> Result<()> {
    if cli.wallet.exists() {
        bail!(
            "{} exists already: restore into a new wallet file (--wallet); nothing was changed",
            cli.wallet.display()
        );
    }
    let backup =
        std::fs::read(file).with_context(|| format!("reading the backup {}", file.display()))?;
    let passphrase = passphrase(cli, "CORROBORATE_WALLET_PASSPHRASE", "Backup passphrase: ")?;
    let storage = SqliteStorage::open(&cli.wallet)?;
    let result = Wallet::restore(storage, &backup, &passphrase).await;
    let wallet = discard_on_error(&cli.wallet, result)?;
    let identities = wallet.all::<IdentityRecord>().await?.len();
    let credentials = wallet.all::<CredentialRecord>().await?.len();
    emit(
        cli,
        &json!({"wallet": cli.wallet, "identities": identities, "credentials": credentials}),
        || {
            format!(
                "Restored {} identities and {} credentials into {}.\n",
                identities,
                credentials,
                cli.wallet.display()
            )
        },
    );
    Ok(())
}

/// A wallet file this command created is removed again when the command fails, so a failed
/// restore leaves nothing behind.
fn discard_on_error<T>(path: &Path, result: Result<T, WalletError>) -> Result<T> {
    result.map_err(|error| {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
        anyhow!(error)
    })
}

async fn recover(cli: &Cli, backup: Option<&Path>, shares: &[String], fast: bool) -> Result<()> {
    let backup_bytes = match backup {
        Some(file) => {
            if cli.wallet.exists() {
                bail!(
                    "{} exists already: recover into a new wallet file (--wallet); nothing was changed",
                    cli.wallet.display()
                );
            }
            Some(
                std::fs::read(file)
                    .with_context(|| format!("reading the backup {}", file.display()))?,
            )
        }
        None => {
            if !cli.wallet.exists() {
                bail!(
                    "there is no wallet at {}: name the backup to recover from with --backup",
                    cli.wallet.display()
                );
            }
            None
        }
    };
    let passphrase = new_passphrase(cli)?;
    let params = if fast {
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::STRONG
    };
    let env = env()?;
    let storage = SqliteStorage::open(&cli.wallet)?;
    let result = Wallet::recover(
        storage,
        backup_bytes.as_deref(),
        shares,
        &passphrase,
        params,
        &mut EntropyRng(&env.entropy),
    )
    .await;
    let wallet = if backup_bytes.is_some() {
        discard_on_error(&cli.wallet, result)?
    } else {
        result?
    };
    let identities = wallet.all::<IdentityRecord>().await?.len();
    emit(
        cli,
        &json!({"wallet": cli.wallet, "identities": identities}),
        || {
            format!(
                "Recovered {} with {} shares; it now opens with the new passphrase.\n",
                cli.wallet.display(),
                shares.len()
            )
        },
    );
    Ok(())
}

async fn with_wallet(cli: &Cli, wallet: &mut Wallet<SqliteStorage>, env: &NativeEnv) -> Result<()> {
    let service = service_of(cli, wallet).await?;
    let mut rng = EntropyRng(&env.entropy);
    let now = env.clock.now();
    match &cli.command {
        Command::Identity(IdentityCommand::New { label }) => {
            let created = identity::create(wallet, label, &mut rng, now).await?;
            emit(
                cli,
                &json!({"did": created.did, "label": created.label}),
                || format!("{}  {}\n", created.label, created.did),
            );
        }
        Command::Identity(IdentityCommand::List) => {
            let all = wallet.all::<IdentityRecord>().await?;
            let list: Vec<Value> = all
                .iter()
                .map(|i| json!({"did": i.did, "label": i.label, "created": i.created}))
                .collect();
            emit(cli, &Value::Array(list), || {
                all.iter()
                    .map(|i| format!("{:<12} {}\n", i.label, i.did))
                    .collect()
            });
        }
        Command::Token => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            let agent = Agent::new(wallet, env, &service);
            let session = agent.sign_in(&me).await?;
            emit(
                cli,
                &json!({"token": session.token, "did": session.did, "roles": session.roles}),
                || format!("{}\n", session.token),
            );
        }
        Command::Request(command) => request(cli, wallet, env, &service, command).await?,
        Command::Attest(command) => attest(cli, wallet, env, &service, command).await?,
        Command::Present(command) => present(cli, wallet, env, &service, command).await?,
        Command::Credentials(CredentialsCommand::List) => {
            let all = wallet.all::<CredentialRecord>().await?;
            emit(cli, &serde_json::to_value(&all)?, || {
                show::credentials(&all)
            });
        }
        Command::Credentials(CredentialsCommand::Import { file }) => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let value = corroborate_verifier::json::parse_str(&text, &Default::default())
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let agent = Agent::new(wallet, env, &service);
            let record = agent.import(&me, &value).await?;
            emit(
                cli,
                &json!({"id": record.id, "issuer": record.issuer}),
                || {
                    format!(
                        "Checked and kept {} ({}) from {}.\n",
                        record.id, record.fact_type, record.issuer
                    )
                },
            );
        }
        Command::Credentials(CredentialsCommand::Show { id }) => {
            let record = wallet
                .get::<CredentialRecord>(id)
                .await?
                .ok_or_else(|| anyhow!("this wallet holds no credential {id}"))?;
            println!("{:#}", record.credential);
        }
        Command::Receipt(ReceiptCommand::Fetch { credential }) => {
            let status = wallet
                .get::<CredentialRecord>(credential)
                .await?
                .ok_or_else(|| anyhow!("this wallet holds no credential {credential}"))?;
            let holder = wallet
                .all::<IdentityRecord>()
                .await?
                .into_iter()
                .find(|i| i.did == status.holder)
                .ok_or_else(|| {
                    anyhow!("this wallet no longer holds the identity {}", status.holder)
                })?;
            let agent = Agent::new(wallet, env, &service);
            let kept = agent.receipt(&holder, &status).await?;
            emit(cli, &kept.receipt, || {
                format!(
                    "receipt kept for {}: anchored, and checked against the credential\n",
                    kept.credential
                )
            });
        }
        Command::Receipt(ReceiptCommand::Show { credential }) => {
            let kept = wallet
                .get::<ReceiptRecord>(credential)
                .await?
                .ok_or_else(|| {
                    anyhow!("this wallet keeps no receipt for {credential}; fetch it first")
                })?;
            let status = wallet
                .get::<CredentialRecord>(credential)
                .await?
                .ok_or_else(|| anyhow!("this wallet holds no credential {credential}"))?;
            let receipt: corroborate_verifier::anchor::Receipt =
                serde_json::from_value(kept.receipt.clone())?;
            let trust = corroborate_wallet::flows::trust_of(&kept.trust).map_err(|e| anyhow!(e))?;
            corroborate_verifier::anchor::verify_receipt(
                &receipt,
                Some(&status.credential),
                &trust,
                now.timestamp().max(0) as u64,
            )
            .map_err(|e| anyhow!("the kept receipt does not verify: {e}"))?;
            println!("{:#}", kept.receipt);
        }
        Command::Log => {
            let all = wallet.all::<PresentationRecord>().await?;
            emit(cli, &serde_json::to_value(&all)?, || show::log(&all));
        }
        Command::Verify { credential } => {
            let value = match wallet.get::<CredentialRecord>(credential).await? {
                Some(record) => record.credential,
                None => {
                    let text = std::fs::read_to_string(credential).with_context(|| {
                        format!(
                            "{credential} is neither a stored credential's id nor a readable file"
                        )
                    })?;
                    corroborate_verifier::json::parse_str(&text, &Default::default())
                        .map_err(|e| anyhow!("{credential}: {e}"))?
                }
            };
            let offline = Offline::new(wallet.all::<CachedRecord>().await?);
            let mut options =
                corroborate_verifier::verification::VerifyOptions::at(now).with_status(&offline);
            options.require_schema = true;
            let report =
                corroborate_verifier::verification::verify_credential(value, &options, &offline)
                    .await;
            emit(cli, &serde_json::to_value(&report)?, || {
                show::report(&report)
            });
            if !report.is_valid() {
                bail!("the credential does not verify");
            }
        }
        Command::Backup { file } => {
            let bytes = wallet.backup(&mut rng).await?;
            write_new_file(file, &bytes)?;
            emit(cli, &json!({"backup": file, "bytes": bytes.len()}), || {
                format!(
                    "Wrote an encrypted backup to {} ({} bytes). It opens with this wallet's passphrase, or with recovery shares.\n",
                    file.display(),
                    bytes.len()
                )
            });
        }
        Command::Recovery(RecoveryCommand::Split { threshold, shares }) => {
            let made = wallet.split_recovery(*threshold, *shares, &mut rng).await?;
            emit(
                cli,
                &json!({"threshold": threshold, "shares": made}),
                || {
                    let mut out = format!(
                        "Give one share to each of {shares} contacts you trust; any {threshold} of them restore this wallet (with a backup file, or this file), fewer reveal nothing. Earlier shares no longer work.\n\n"
                    );
                    for share in &made {
                        out.push_str(share);
                        out.push('\n');
                    }
                    out
                },
            );
        }
        Command::ChangePassphrase => {
            let new = new_passphrase(cli)?;
            let params = wallet.kdf_params();
            wallet.change_passphrase(&new, params, &mut rng).await?;
            println!("The passphrase is changed.");
        }
        Command::Init { .. } | Command::Restore { .. } | Command::Recovery(_) => {
            unreachable!("handled before the wallet is opened")
        }
    }
    Ok(())
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = new_file(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// A file that did not exist, readable by its owner only.
fn new_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))
}

async fn request(
    cli: &Cli,
    wallet: &Wallet<SqliteStorage>,
    env: &NativeEnv,
    service: &str,
    command: &RequestCommand,
) -> Result<()> {
    let agent = Agent::new(wallet, env, service);
    match command {
        RequestCommand::Create(args) => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            let ask = Ask {
                fact_type: args.fact_type.clone(),
                claims: claims_arg(&args.claims)?,
                addressed_to: args.to.clone(),
                open_link: args.open,
                expires_in_days: args.days,
                note: args.note.clone(),
            };
            let record = agent.request(&me, &ask).await?;
            emit(cli, &serde_json::to_value(&record)?, || {
                show::created_request(&record)
            });
        }
        RequestCommand::List => {
            let all = wallet.all::<RequestRecord>().await?;
            emit(cli, &serde_json::to_value(&all)?, || show::requests(&all));
        }
        RequestCommand::Show { id } => {
            let view = agent.progress(id).await?;
            emit(cli, &view, || show::progress(&view));
        }
        RequestCommand::Collect { id } => {
            let collection = agent.collect(id).await?;
            let value = json!({
                "state": collection.state,
                "stored": collection.stored.iter().map(|c| json!({"id": c.id, "issuer": c.issuer})).collect::<Vec<_>>(),
                "refused": collection.refused.iter().map(|(a, r)| json!({"attester": a, "reason": r.to_string()})).collect::<Vec<_>>(),
                "declined": collection.declined.iter().map(|(a, r)| json!({"attester": a, "reason": r})).collect::<Vec<_>>(),
            });
            emit(cli, &value, || show::collection(&collection));
        }
        RequestCommand::Withdraw { id } => {
            agent.withdraw(id).await?;
            println!("Withdrawn.");
        }
    }
    Ok(())
}

async fn attest(
    cli: &Cli,
    wallet: &Wallet<SqliteStorage>,
    env: &NativeEnv,
    service: &str,
    command: &AttestCommand,
) -> Result<()> {
    let agent = Agent::new(wallet, env, service);
    match command {
        AttestCommand::Inbox => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            let inbox = agent.inbox(&me).await?;
            emit(cli, &Value::Array(inbox.clone()), || show::inbox(&inbox));
        }
        AttestCommand::Show { request } => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            let view = agent.review(&me, &Target::parse(request)).await?;
            emit(cli, &view, || show::review(&view));
        }
        AttestCommand::Sign(args) => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            let target = Target::parse(&args.request);
            let reviewed = if args.yes {
                None
            } else {
                let view = agent.review(&me, &target).await?;
                print!("{}", show::printable(&show::review(&view)));
                if !confirm("Sign this with your key?")? {
                    bail!("not signed");
                }
                Some(view)
            };
            let relation = relation(
                &args.role,
                args.since.as_deref(),
                args.description.as_deref(),
            );
            let given = agent
                .attest_reviewed(&me, &target, reviewed.as_ref(), relation, args.suite.into())
                .await?;
            emit(cli, &serde_json::to_value(&given)?, || {
                format!(
                    "Signed and sent {} about {} (revocable: `attest revoke {}`).\n",
                    given.fact_type, given.subject, given.id
                )
            });
        }
        AttestCommand::Issue(args) => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            let relation = relation(&args.role, args.since.as_deref(), None);
            let (credential, _) = agent
                .issue(
                    &me,
                    &args.subject,
                    &args.fact_type,
                    &claims_arg(&args.claims)?,
                    relation,
                    args.suite.into(),
                )
                .await?;
            println!("{credential:#}");
        }
        AttestCommand::Decline { request, reason } => {
            let me = identity::find(wallet, cli.identity.as_deref()).await?;
            agent
                .decline(&me, &Target::parse(request), reason.as_deref())
                .await?;
            println!("Declined.");
        }
        AttestCommand::Given => {
            let all = wallet.all::<GivenRecord>().await?;
            emit(cli, &serde_json::to_value(&all)?, || show::given(&all));
        }
        AttestCommand::Revoke { id } => {
            let given = agent.revoke(id).await?;
            emit(cli, &serde_json::to_value(&given)?, || {
                format!(
                    "Revoked {} about {}: your re-signed status list is published.\n",
                    given.id, given.subject
                )
            });
        }
    }
    Ok(())
}

async fn present(
    cli: &Cli,
    wallet: &Wallet<SqliteStorage>,
    env: &NativeEnv,
    service: &str,
    command: &PresentCommand,
) -> Result<()> {
    let agent = Agent::new(wallet, env, service);
    let me = identity::find(wallet, cli.identity.as_deref()).await?;
    match command {
        PresentCommand::Show { challenge } => {
            let ask = agent.presentation_request(challenge).await?;
            let policy = agent.policy(&ask).await?;
            let selection = agent.selection(&me, &policy, &[]).await?;
            print!(
                "{}",
                show::printable(&show::consent(&ask, &policy, &selection))
            );
        }
        PresentCommand::Send {
            challenge,
            credentials,
            yes,
        } => {
            let ask = agent.presentation_request(challenge).await?;
            let policy = agent.policy(&ask).await?;
            let selection = agent.selection(&me, &policy, credentials).await?;
            // With --json the consent screen goes to standard error, so it is seen all the same.
            let consent = show::printable(&show::consent(&ask, &policy, &selection));
            if cli.json {
                eprint!("{consent}");
            } else {
                print!("{consent}");
            }
            if !yes && !confirm("Disclose these credentials to this verifier?")? {
                bail!("nothing was presented");
            }
            let presented = agent.present(&me, &ask, &selection).await?;
            let value = json!({
                "decision": presented.decision,
                "status_credential": presented.status.as_ref().map(|s| &s.credential),
            });
            emit(cli, &value, || {
                show::decision(&presented.decision, presented.status.as_ref())
            });
        }
        PresentCommand::Offline {
            verifier,
            challenge,
            credentials,
            out,
            yes,
        } => {
            let consent = show::printable(&format!(
                "To {verifier}, without the network, for the challenge {challenge}:\n{}\n",
                credentials
                    .iter()
                    .map(|id| format!("  {id}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
            eprint!("{consent}");
            if !yes && !confirm("Disclose these credentials to this verifier?")? {
                bail!("nothing was presented");
            }
            // The file first: a presentation signed and logged must not be lost to an existing path.
            let file = out.as_deref().map(new_file).transpose()?;
            let (presentation, _) = agent
                .present_offline(&me, verifier, challenge, credentials)
                .await?;
            let text = serde_json::to_string_pretty(&presentation)?;
            match (file, out) {
                (Some(mut file), Some(path)) => {
                    file.write_all(text.as_bytes())?;
                    file.sync_all()?;
                    eprintln!("The presentation is in {}.", path.display());
                }
                _ => println!("{text}"),
            }
        }
    }
    Ok(())
}

impl From<Suite> for Cryptosuite {
    fn from(suite: Suite) -> Cryptosuite {
        match suite {
            Suite::Rdfc => Cryptosuite::EddsaRdfc2022,
            Suite::Jcs => Cryptosuite::EddsaJcs2022,
        }
    }
}

fn relation(role: &str, since: Option<&str>, description: Option<&str>) -> Value {
    let mut relation = json!({ "role": role });
    if let Some(since) = since {
        relation["since"] = json!(since);
    }
    if let Some(description) = description {
        relation["description"] = json!(description);
    }
    relation
}
