//! The subcommands that sign, verify, present and decide.

use crate::keyfile;
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use corroborate_verifier::credential::{VC_V2_CONTEXT, parse_date_time, rfc3339};
use corroborate_verifier::decision::{self, Outcome};
use corroborate_verifier::did::{LocalResolver, StaticResolver};
use corroborate_verifier::json::{self, Limits};
use corroborate_verifier::policy::Policy;
use corroborate_verifier::presentation::{self, Binding};
use corroborate_verifier::proof::{self, Cryptosuite, ProofOptions};
use corroborate_verifier::registry::FileRegistry;
use corroborate_verifier::status::{self, StaticStatusLists};
use corroborate_verifier::verification::{self, Verdict, VerifyOptions};
use corroborate_verifier::{context, schema};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Suite {
    /// RFC 8785 JSON canonicalization: fast, no JSON-LD processing.
    #[value(name = "eddsa-jcs-2022")]
    EddsaJcs2022,
    /// RDF canonicalization of the JSON-LD meaning: the W3C ecosystem's common suite.
    #[value(name = "eddsa-rdfc-2022")]
    EddsaRdfc2022,
}

impl From<Suite> for Cryptosuite {
    fn from(suite: Suite) -> Self {
        match suite {
            Suite::EddsaJcs2022 => Cryptosuite::EddsaJcs2022,
            Suite::EddsaRdfc2022 => Cryptosuite::EddsaRdfc2022,
        }
    }
}

/// Options shared by the commands that verify.
#[derive(Args, Debug)]
pub struct VerifyCommon {
    /// Verify as of this time (RFC 3339, e.g. 2026-01-31T12:00:00Z) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// A DID document (JSON) to resolve did:web identifiers from, e.g. one fetched earlier.
    /// May be repeated. did:key and did:jwk resolve without one.
    #[arg(long = "did-document", value_name = "FILE")]
    did_documents: Vec<PathBuf>,
    /// A status list credential (JSON) to check `credentialStatus` entries against, e.g. one
    /// fetched earlier, or a folder of them (every `*.json` in it); results hold as of the file's
    /// modification time. May be repeated. Without the list a credential names, its status is not
    /// checked and the verdict is indeterminate.
    #[arg(long = "status-list", value_name = "FILE|DIR")]
    status_lists: Vec<PathBuf>,
    /// Print the documented JSON form instead of text.
    #[arg(long)]
    json: bool,
}

impl VerifyCommon {
    fn at(&self) -> Result<DateTime<Utc>> {
        match &self.at {
            Some(text) => parse_date_time(text).with_context(|| {
                format!(
                    "--at {text:?} is not a date-time with a time zone (e.g. 2026-01-31T12:00:00Z)"
                )
            }),
            None => Ok(Utc::now()),
        }
    }

    fn resolver(&self) -> Result<StaticResolver<LocalResolver>> {
        let mut resolver = StaticResolver::new(LocalResolver);
        for path in &self.did_documents {
            let document = read_json(path)?;
            resolver
                .insert_document(&document)
                .with_context(|| format!("DID document {}", path.display()))?;
        }
        Ok(resolver)
    }

    fn status_lists(&self) -> Result<StaticStatusLists> {
        // A list may be larger than a credential: up to the verifier's own cap on `encodedList`.
        let limits = Limits {
            max_bytes: status::MAX_ENCODED_LIST_CHARS + 64 * 1024,
            ..Limits::default()
        };
        let mut lists = StaticStatusLists::new();
        let mut files = Vec::new();
        for path in &self.status_lists {
            if path.is_dir() {
                let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                    .with_context(|| format!("reading folder {}", path.display()))?
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .collect();
                found.sort();
                files.extend(found);
            } else {
                files.push(path.clone());
            }
        }
        for path in &files {
            let bytes = read_bytes(path)?;
            let list = json::parse(&bytes, &limits)
                .with_context(|| format!("{} is not acceptable JSON", path.display()))?;
            // Whole seconds, rounded down: "as of" never claims a later time than the file's.
            let fetched_at = whole_seconds(DateTime::<Utc>::from(
                std::fs::metadata(path)
                    .and_then(|metadata| metadata.modified())
                    .with_context(|| format!("modification time of {}", path.display()))?,
            ));
            lists
                .insert_credential(list, fetched_at)
                .with_context(|| format!("status list {}", path.display()))?;
        }
        Ok(lists)
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn read_json(path: &Path) -> Result<Value> {
    let bytes = read_bytes(path)?;
    json::parse(&bytes, &Limits::default())
        .with_context(|| format!("{} is not acceptable JSON", path.display()))
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    out!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[derive(Args, Debug)]
pub struct SignArgs {
    /// The signer's key file (see `corroborate key generate`).
    #[arg(long)]
    key: PathBuf,
    /// The Data Integrity cryptosuite.
    #[arg(long, value_enum, default_value = "eddsa-rdfc-2022")]
    suite: Suite,
    /// The proof's creation time and, for a claim file, the credential's `validFrom`
    /// (default: now).
    #[arg(long)]
    created: Option<String>,
    /// A claim file (`{"type": "ResidenceAttestation", "credentialSubject": {...}}`, optionally
    /// with `validFrom`, `validUntil`, `evidence`), or an unsigned credential whose issuer is the
    /// key's DID.
    claims: PathBuf,
}

pub fn sign(args: SignArgs) -> Result<ExitCode> {
    let key = keyfile::read(&args.key)?;
    let created = time_or_now(args.created.as_deref(), "--created")?;
    let input = read_json(&args.claims)?;
    let credential = if input.get("@context").is_some() {
        input
    } else {
        credential_from_claims(input, &key.did, created)?
    };
    let issuer = credential
        .get("issuer")
        .and_then(|i| i.as_str().or_else(|| i.get("id").and_then(Value::as_str)));
    if issuer != Some(key.did.as_str()) {
        bail!(
            "the credential's issuer {} is not the key's DID {}: a verifier would refuse the proof",
            issuer.unwrap_or("(none)"),
            key.did
        );
    }
    // Refuse to sign what we would refuse to verify.
    corroborate_verifier::credential::Credential::from_value(credential.clone())
        .map_err(|failure| anyhow::anyhow!("not a valid credential: {failure}"))?;
    if let Some(fact_type) = credential
        .get("type")
        .and_then(|t| t.as_array())
        .and_then(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "VerifiableCredential")
        })
        && schema::schema_for(fact_type).is_some()
    {
        schema::validate(fact_type, &credential)
            .map_err(|e| anyhow::anyhow!("claims do not match the {fact_type} schema: {e}"))?;
    }
    // Every term must mean something under the shipped contexts, whatever the suite: a JCS
    // signature over undefined terms would sign claims nobody can interpret.
    pollster::block_on(proof::Cryptosuite::EddsaRdfc2022.canonicalize(&credential)).map_err(
        |failure| anyhow::anyhow!("the credential's JSON-LD is not acceptable: {failure}"),
    )?;
    let options =
        ProofOptions::assertion(args.suite.into(), key.verification_method.clone(), created);
    let signed = pollster::block_on(proof::add_proof(&credential, &key.secret, &options))?;
    print_json(&signed)?;
    Ok(ExitCode::SUCCESS)
}

/// `at` in whole seconds, rounded down (proofs and "as of" times are written to the second).
fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    at.with_nanosecond(0).unwrap_or(at)
}

/// The time a `--flag` option gives, or now (to the second) without one.
fn time_or_now(value: Option<&str>, flag: &str) -> Result<DateTime<Utc>> {
    match value {
        Some(text) => parse_date_time(text)
            .with_context(|| format!("{flag} {text:?} is not a date-time with a time zone")),
        None => Ok(whole_seconds(Utc::now())),
    }
}

/// Builds a full credential around a claim file.
fn credential_from_claims(claims: Value, issuer: &str, created: DateTime<Utc>) -> Result<Value> {
    let Value::Object(mut claims) = claims else {
        bail!("a claim file must be a JSON object");
    };
    let fact_type = match claims.remove("type") {
        Some(Value::String(t)) => t,
        _ => bail!(
            "a claim file needs a `type`, e.g. \"ResidenceAttestation\" (known: {})",
            schema::FACT_TYPES.join(", ")
        ),
    };
    let subject = claims
        .remove("credentialSubject")
        .context("a claim file needs a `credentialSubject`")?;
    let mut credential = json!({
        "@context": [VC_V2_CONTEXT, context::CORROBORATE_V1],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", fact_type],
        "issuer": issuer,
        "validFrom": rfc3339(created),
        "credentialSubject": subject,
    });
    for (field, value) in claims {
        match field.as_str() {
            "validFrom" | "validUntil" | "evidence" | "credentialSchema" | "id" | "name"
            | "description" => {
                credential[field] = value;
            }
            other => bail!("unexpected field `{other}` in the claim file"),
        }
    }
    Ok(credential)
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    common: VerifyCommon,
    /// Check the proofs only, not that the issuer controls the key (for specification vectors).
    #[arg(long)]
    proof_only: bool,
    /// Exit with status 3 unless the credential is valid.
    #[arg(long)]
    fail_on_invalid: bool,
    credential: PathBuf,
}

pub fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let bytes = read_bytes(&args.credential)?;
    let resolver = args.common.resolver()?;
    let lists = args.common.status_lists()?;
    let mut options = VerifyOptions::at(args.common.at()?).with_status(&lists);
    options.require_issuer_key = !args.proof_only;
    let report = pollster::block_on(verification::verify_credential_bytes(
        &bytes, &options, &resolver,
    ));
    if args.common.json {
        print_json(&report)?;
    } else {
        out!(
            "{}: {}",
            args.credential.display(),
            verdict_text(report.verdict)
        );
        for check in &report.checks {
            out!("  {}", check_line(check));
        }
    }
    Ok(if args.fail_on_invalid && !report.is_valid() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Valid => "VALID",
        Verdict::Invalid => "INVALID",
        Verdict::Indeterminate => "INDETERMINATE (a required check could not run)",
    }
}

fn check_line(check: &verification::CheckResult) -> String {
    use verification::{Check, CheckOutcome};
    let name = match check.check {
        Check::DataModel => "data model",
        Check::Proof => "proof",
        Check::ValidityPeriod => "validity period",
        Check::Schema => "fact schema",
        Check::Status => "revocation status",
    };
    let as_of = check
        .as_of
        .map(|t| format!(" (as of {})", rfc3339(t)))
        .unwrap_or_default();
    match &check.outcome {
        CheckOutcome::Passed => format!("{name}: passed{as_of}"),
        CheckOutcome::Failed { failure } => format!("{name}: FAILED: {failure}{as_of}"),
        CheckOutcome::NotChecked { reason } => format!("{name}: not checked: {reason}{as_of}"),
        CheckOutcome::NotApplicable => format!("{name}: not applicable"),
    }
}

#[derive(Args, Debug)]
pub struct PresentArgs {
    /// The holder's key file; the holder must be the subject of every credential.
    #[arg(long)]
    key: PathBuf,
    /// The verifier's one-time challenge.
    #[arg(long)]
    challenge: String,
    /// The verifier's domain (audience).
    #[arg(long)]
    domain: String,
    #[arg(long, value_enum, default_value = "eddsa-rdfc-2022")]
    suite: Suite,
    #[arg(long)]
    created: Option<String>,
    #[arg(required = true)]
    credentials: Vec<PathBuf>,
}

pub fn present(args: PresentArgs) -> Result<ExitCode> {
    let key = keyfile::read(&args.key)?;
    let created = time_or_now(args.created.as_deref(), "--created")?;
    let credentials = args
        .credentials
        .iter()
        .map(|p| read_json(p))
        .collect::<Result<Vec<_>>>()?;
    for (path, credential) in args.credentials.iter().zip(&credentials) {
        let subject = credential
            .get("credentialSubject")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str);
        if subject != Some(key.did.as_str()) {
            bail!(
                "{} is about {}, not about the holder {}",
                path.display(),
                subject.unwrap_or("(no subject)"),
                key.did
            );
        }
    }
    let binding = Binding::for_decision(&args.challenge, &args.domain);
    let signed = pollster::block_on(presentation::sign_presentation(
        &key.did,
        credentials,
        &key.secret,
        &key.verification_method,
        args.suite.into(),
        &binding,
        created,
    ))?;
    print_json(&signed)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub struct VerifyPresentationArgs {
    #[command(flatten)]
    common: VerifyCommon,
    /// The challenge the proof must carry (the one-time value the verifier issued).
    #[arg(long)]
    challenge: Option<String>,
    /// The domain the proof must name (the verifier's audience).
    #[arg(long)]
    domain: Option<String>,
    /// Accept credentials about others than the holder (by default each must be about the holder,
    /// as deciding a fact about the person presenting requires).
    #[arg(long)]
    any_subject: bool,
    presentation: PathBuf,
}

pub fn verify_presentation(args: VerifyPresentationArgs) -> Result<ExitCode> {
    let bytes = read_bytes(&args.presentation)?;
    let resolver = args.common.resolver()?;
    let lists = args.common.status_lists()?;
    let options = VerifyOptions::at(args.common.at()?).with_status(&lists);
    let binding = Binding {
        challenge: args.challenge,
        domain: args.domain,
        holder_must_be_subject: !args.any_subject,
    };
    let report = pollster::block_on(presentation::verify_presentation_bytes(
        &bytes, &binding, &options, &resolver,
    ));
    if args.common.json {
        print_json(&report)?;
    } else {
        let holder = report.holder.as_deref().unwrap_or("(unknown holder)");
        out!(
            "presentation by {holder}: {}",
            if report.is_valid() {
                "VALID"
            } else {
                "REFUSED"
            }
        );
        for failure in &report.failures {
            out!("  {failure}");
        }
        for (index, credential) in report.credentials.iter().enumerate() {
            out!("  credential {index}: {}", verdict_text(credential.verdict));
            for check in &credential.checks {
                out!("    {}", check_line(check));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub struct DecideArgs {
    #[command(flatten)]
    common: VerifyCommon,
    /// The policy file (see schemas/policies/).
    #[arg(long)]
    policy: PathBuf,
    /// The accreditations file (see schemas/registries/).
    #[arg(long)]
    registry: PathBuf,
    /// Decide a presentation instead of loose credentials (needs --challenge and --domain).
    #[arg(long, conflicts_with = "credentials", requires_all = ["challenge", "domain"])]
    presentation: Option<PathBuf>,
    #[arg(long)]
    challenge: Option<String>,
    #[arg(long)]
    domain: Option<String>,
    /// Exit with status 3 unless the outcome is `established`.
    #[arg(long)]
    fail_unless_established: bool,
    /// The attestations (credential files).
    credentials: Vec<PathBuf>,
}

pub fn decide(args: DecideArgs) -> Result<ExitCode> {
    let limits = Limits::default();
    let policy = Policy::from_json(&read_json(&args.policy)?)
        .with_context(|| format!("policy {}", args.policy.display()))?;
    let registry = FileRegistry::from_json(&read_json(&args.registry)?)
        .with_context(|| format!("registry {}", args.registry.display()))?;
    let resolver = args.common.resolver()?;
    let lists = args.common.status_lists()?;
    let at = args.common.at()?;
    let mut options = VerifyOptions::at(at).with_status(&lists);
    options.require_schema = true;

    let (reports, subject, bundle_failures) = match &args.presentation {
        Some(path) => {
            let bytes = read_bytes(path)?;
            let binding = Binding::for_decision(
                args.challenge.as_deref().unwrap_or_default(),
                args.domain.as_deref().unwrap_or_default(),
            );
            let report = pollster::block_on(presentation::verify_presentation_bytes(
                &bytes, &binding, &options, &resolver,
            ));
            let mut failures = report.failures.clone();
            if !proof::all_passed(&report.proofs) && failures.is_empty() {
                failures.push(corroborate_verifier::failure::Failure::NoProof);
            }
            (report.credentials, report.holder, failures)
        }
        None => {
            if args.credentials.is_empty() {
                bail!("give the attestations to decide (credential files), or --presentation");
            }
            if args.credentials.len() > limits.max_credentials {
                bail!(
                    "{} credentials, more than the limit of {}",
                    args.credentials.len(),
                    limits.max_credentials
                );
            }
            let mut reports = Vec::with_capacity(args.credentials.len());
            for path in &args.credentials {
                let bytes = read_bytes(path)?;
                reports.push(pollster::block_on(verification::verify_credential_bytes(
                    &bytes, &options, &resolver,
                )));
            }
            (reports, None, Vec::new())
        }
    };
    let inputs: Vec<decision::Input> = reports
        .into_iter()
        .map(|report| decision::Input {
            failures: report.failures(),
            credential: report.credential,
        })
        .collect();
    let context = decision::Context {
        at,
        subject,
        bundle_failures,
    };
    let decision = decision::decide(&policy, &registry, &inputs, &context);
    if args.common.json {
        print_json(&decision)?;
    } else {
        out_raw!("{}", decision.render_text());
    }
    Ok(
        if args.fail_unless_established && decision.outcome != Outcome::Established {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        },
    )
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Purpose {
    Revocation,
    Suspension,
}

#[derive(Args, Debug)]
pub struct StatusListArgs {
    /// The issuer's key file: a list is signed by the issuer of the credentials it covers.
    #[arg(long)]
    key: PathBuf,
    /// The URL the list is published at (its `id`, which credentials name).
    #[arg(long)]
    id: String,
    #[arg(long, value_enum, default_value = "revocation")]
    purpose: Purpose,
    /// Indexes whose bit is set (revoked or suspended). May be repeated.
    #[arg(long = "set", value_name = "INDEX")]
    set: Vec<u64>,
    /// Length in bits: at least 131072, the specification's minimum for herd privacy.
    #[arg(long, default_value_t = 131_072)]
    bits: u64,
    /// The list's `validFrom` and proof creation time (default: now).
    #[arg(long)]
    valid_from: Option<String>,
    /// The list's `validUntil`: verifiers stop trusting a copy after it, which limits replay.
    #[arg(long)]
    valid_until: Option<String>,
    #[arg(long, value_enum, default_value = "eddsa-rdfc-2022")]
    suite: Suite,
}

/// Builds and signs a Bitstring Status List credential.
pub fn status_list(args: StatusListArgs) -> Result<ExitCode> {
    use corroborate_verifier::status::{BitstringBuilder, StatusPurpose, status_list_credential};
    let key = keyfile::read(&args.key)?;
    let valid_from = time_or_now(args.valid_from.as_deref(), "--valid-from")?;
    let mut bits = BitstringBuilder::new(args.bits)
        .map_err(|e| anyhow::anyhow!("--bits {}: {e}", args.bits))?;
    for index in &args.set {
        bits.set(*index)
            .map_err(|e| anyhow::anyhow!("--set {index}: {e}"))?;
    }
    let purpose = match args.purpose {
        Purpose::Revocation => StatusPurpose::Revocation,
        Purpose::Suspension => StatusPurpose::Suspension,
    };
    let mut list = status_list_credential(&key.did, &args.id, purpose, &bits, valid_from);
    if let Some(text) = &args.valid_until {
        let until = parse_date_time(text).with_context(|| {
            format!("--valid-until {text:?} is not a date-time with a time zone")
        })?;
        list["validUntil"] = Value::from(rfc3339(until));
    }
    corroborate_verifier::credential::Credential::from_value(list.clone())
        .map_err(|failure| anyhow::anyhow!("not a valid status list credential: {failure}"))?;
    // Every term must mean something under the shipped contexts, whatever the suite: a JCS
    // signature over undefined terms would sign claims nobody can interpret.
    pollster::block_on(proof::Cryptosuite::EddsaRdfc2022.canonicalize(&list))
        .map_err(|failure| anyhow::anyhow!("the list's JSON-LD is not acceptable: {failure}"))?;
    let options = ProofOptions::assertion(
        args.suite.into(),
        key.verification_method.clone(),
        valid_from,
    );
    let signed = pollster::block_on(proof::add_proof(&list, &key.secret, &options))?;
    print_json(&signed)?;
    Ok(ExitCode::SUCCESS)
}
