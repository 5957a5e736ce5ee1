//! `corroborate`: keys, signing, verification and decisions from the command line.
//!
//! This binary is the I/O edge of the verifier library: it reads files and the clock, and passes
//! them in. Exit codes: 0 success (a verification or decision that ran, whatever it found, unless
//! `--fail-on-invalid`/`--fail-unless-established` is given), 1 a problem with the input or the
//! environment (unreadable file, malformed JSON), 2 bad command-line usage (clap's own).

/// `println!` that returns the write error instead of panicking (e.g. on a closed pipe).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// `print!` that returns the write error instead of panicking.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod commands;
mod ethereum;
mod keyfile;
mod receipt;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "corroborate",
    version,
    about = "Civil facts established by independent witnesses: keys, signing, verification and decisions."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Key and DID management.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign a fact credential from a claim file (or an unsigned credential).
    Sign(commands::SignArgs),
    /// Verify one credential: data model, proofs, validity period, fact schema, status.
    Verify(commands::VerifyArgs),
    /// Sign a presentation of credentials, bound to a verifier's challenge and domain.
    Present(commands::PresentArgs),
    /// Verify a presentation and the credentials in it.
    VerifyPresentation(commands::VerifyPresentationArgs),
    /// Decide a bundle of attestations under a policy and print the explained outcome.
    Decide(commands::DecideArgs),
    /// Build and sign a Bitstring Status List credential (revocation or suspension).
    StatusList(commands::StatusListArgs),
    /// Anchoring receipts.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Verify an anchoring receipt offline: the record's fingerprint, the batch's Merkle proof,
    /// the log's inclusion proof and cosigned checkpoint (and, with --rpc, the Ethereum ledger).
    Verify(receipt::VerifyReceiptArgs),
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Generate an Ed25519 key and its did:key (or did:jwk); writes a key file.
    Generate {
        /// Where to write the key file (mode 0600). Without it, the key file is printed.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The DID method for the key's identifier.
        #[arg(long, value_enum, default_value = "key")]
        method: keyfile::DidMethod,
        /// Derive the key from this 32-byte hex seed instead of the system's randomness
        /// (for reproducible test keys only).
        #[arg(long)]
        seed: Option<String>,
    },
    /// Print the public part of a key file: DID, verification method, public key.
    Show { key: PathBuf },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // A closed pipe (`corroborate … | head`) is the reader's choice, not an error.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<std::process::ExitCode> {
    match cli.command {
        Command::Key(KeyCommand::Generate { out, method, seed }) => {
            keyfile::generate(out, method, seed)
        }
        Command::Key(KeyCommand::Show { key }) => keyfile::show(&key),
        Command::Sign(args) => commands::sign(args),
        Command::Verify(args) => commands::verify(args),
        Command::Present(args) => commands::present(args),
        Command::VerifyPresentation(args) => commands::verify_presentation(args),
        Command::Decide(args) => commands::decide(args),
        Command::StatusList(args) => commands::status_list(args),
        Command::Receipt(ReceiptCommand::Verify(args)) => receipt::verify(args),
    }
}
