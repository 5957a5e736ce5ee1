//! Key files: an Ed25519 secret key with the DID and verification method that name it.
//!
//! A key file is JSON: `did`, `verificationMethod`, `publicKeyMultibase`, `secretKeyMultibase`.
//! It holds the secret in clear, so it is written with mode 0600; the wallet keeps keys encrypted
//! instead. The shipped test keys (`schemas/examples/test-keys/`) say so in their `warning`.

use anyhow::{Context, Result, bail};
use corroborate_verifier::did;
use corroborate_verifier::key::SecretKey;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DidMethod {
    Key,
    Jwk,
}

/// A key read from a key file.
pub struct KeyFile {
    pub secret: SecretKey,
    pub did: String,
    pub verification_method: String,
}

fn describe(secret: &SecretKey, method: DidMethod) -> (String, String) {
    let public = secret.public_key();
    match method {
        DidMethod::Key => {
            let did = did::did_key_from_public_key(&public);
            let fragment = public.to_multibase();
            (did.clone(), format!("{did}#{fragment}"))
        }
        DidMethod::Jwk => {
            let did = did::did_jwk_from_public_key(&public);
            (did.clone(), format!("{did}#0"))
        }
    }
}

fn to_json(secret: &SecretKey, method: DidMethod, warning: &str) -> Value {
    let (did, verification_method) = describe(secret, method);
    json!({
        "warning": warning,
        "did": did,
        "verificationMethod": verification_method,
        "publicKeyMultibase": secret.public_key().to_multibase(),
        "secretKeyMultibase": secret.to_multibase(),
    })
}

pub fn generate(out: Option<PathBuf>, method: DidMethod, seed: Option<String>) -> Result<ExitCode> {
    let (secret, warning) = match seed {
        Some(hex_seed) => {
            let bytes = hex::decode(hex_seed.trim()).context("--seed must be hexadecimal")?;
            let seed: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                anyhow::anyhow!("--seed must be 32 bytes, found {}", b.len())
            })?;
            (
                SecretKey::from_bytes(&seed),
                "TEST KEY derived from a known seed: anyone can sign with it. Never use it for real attestations.",
            )
        }
        None => (
            SecretKey::generate(&mut rand::rngs::OsRng),
            "Secret key: anyone who reads this file can sign in your name. Keep it private.",
        ),
    };
    let text = serde_json::to_string_pretty(&to_json(&secret, method, warning))?;
    match out {
        Some(path) => {
            write_private(&path, &text)?;
            let (did, _) = describe(&secret, method);
            out!("{did}");
            eprintln!("key written to {}", path.display());
        }
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(path: &Path) -> Result<ExitCode> {
    let key = read(path)?;
    let out = json!({
        "did": key.did,
        "verificationMethod": key.verification_method,
        "publicKeyMultibase": key.secret.public_key().to_multibase(),
    });
    out!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

/// Reads a key file and checks that its DID and verification method belong to its secret key.
pub fn read(path: &Path) -> Result<KeyFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("key file {} is not JSON", path.display()))?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("key file {} has no string `{name}`", path.display()))
    };
    let secret = SecretKey::from_multibase(&field("secretKeyMultibase")?)
        .with_context(|| format!("key file {}: `secretKeyMultibase`", path.display()))?;
    let did = field("did")?;
    let method = if did.starts_with("did:jwk:") {
        DidMethod::Jwk
    } else {
        DidMethod::Key
    };
    let (expected_did, expected_method) = describe(&secret, method);
    if did != expected_did {
        bail!(
            "key file {}: `did` {did} is not the DID of its secret key ({expected_did})",
            path.display()
        );
    }
    let verification_method = field("verificationMethod").unwrap_or(expected_method.clone());
    if verification_method != expected_method {
        bail!(
            "key file {}: `verificationMethod` {verification_method} does not name its key ({expected_method})",
            path.display()
        );
    }
    Ok(KeyFile {
        secret,
        did,
        verification_method,
    })
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "creating {} (an existing key file is never overwritten)",
                path.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    if path.exists() {
        bail!(
            "{} exists; an existing key file is never overwritten",
            path.display()
        );
    }
    std::fs::write(path, format!("{text}\n")).with_context(|| format!("writing {}", path.display()))
}
