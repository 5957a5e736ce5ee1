//! Load benchmark: status derivations per second through the service, on SQLite and on
//! PostgreSQL, against the verifier's in-process decision rate on the same presentations in the
//! same run. Not a test: it prints figures for `docs/performance.md`.
//!
//! `cargo bench -p corroborate-backend --bench derivation_load [-- N CONCURRENCY]` (defaults:
//! 300 derivations, 8 at a time). The server runs in this process on loopback; each derivation is
//! a `POST /presentation-requests/{challenge}/presentations` with a presentation of three
//! attestations (utility, bank, carrier, signed by hosted issuers) that the service verifies
//! (holder proof, three credential proofs, three status lists), decides, records, and answers
//! with a signed status credential. Requests and presentations are prepared before timing.
//! PostgreSQL is taken from `CORROBORATE_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); it is skipped with a note when unreachable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::field_reassign_with_default)]

use chrono::{Duration, Utc};
use corroborate_backend::app::Application;
use corroborate_backend::settings::{Admin, Settings};
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::decision::{self, Input};
use corroborate_verifier::did::{StaticResolver, did_key_from_public_key};
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::policy::Policy;
use corroborate_verifier::presentation::{Binding, sign_presentation, verify_presentation};
use corroborate_verifier::proof::Cryptosuite;
use corroborate_verifier::registry::FileRegistry;
use corroborate_verifier::status::StaticStatusLists;
use corroborate_verifier::verification::VerifyOptions;
use diesel::{Connection, RunQueryDsl};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::time::Instant;

const POLICY: &str = "be.example.municipality/residence";

struct Who {
    key: SecretKey,
    did: String,
    vm: String,
}

fn who() -> Who {
    let key = SecretKey::generate(&mut rand::rngs::OsRng);
    let did = did_key_from_public_key(&key.public_key());
    let vm = format!("{did}#{}", did.trim_start_matches("did:key:"));
    Who { key, did, vm }
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value, expect: u16) -> Value {
        let (status, reply) = self
            .call(reqwest::Method::POST, path, token, Some(body))
            .await;
        assert_eq!(status, expect, "POST {path}: {reply:#}");
        reply
    }

    async fn get(&self, path: &str) -> Value {
        let (status, reply) = self.call(reqwest::Method::GET, path, None, None).await;
        assert_eq!(status, 200, "GET {path}: {reply:#}");
        reply
    }

    async fn login(&self, who: &Who) -> String {
        let challenge = self
            .post("/auth/challenges", None, &json!({"did": who.did}), 201)
            .await;
        let vp = sign_presentation(
            &who.did,
            Vec::new(),
            &who.key,
            &who.vm,
            Cryptosuite::EddsaJcs2022,
            &Binding {
                challenge: challenge["challenge"].as_str().map(str::to_owned),
                domain: challenge["domain"].as_str().map(str::to_owned),
                holder_must_be_subject: false,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        self.post("/auth/tokens", None, &json!({"presentation": vp}), 201)
            .await["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

fn database_url(dialect: &str, dir: &std::path::Path) -> Option<String> {
    match dialect {
        "sqlite" => Some(format!("sqlite://{}", dir.join("bench.sqlite").display())),
        _ => {
            let admin = std::env::var("CORROBORATE_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let mut conn = diesel::PgConnection::establish(&admin).ok()?;
            let name = format!("corroborate_t_bench_{}", rand::random::<u32>());
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .ok()?;
            Some(format!("{}/{name}", admin.rsplit_once('/')?.0))
        }
    }
}

struct Figures {
    dialect: &'static str,
    count: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    in_process_per_s: f64,
}

async fn run(dialect: &'static str, count: usize, concurrency: usize) -> Option<Figures> {
    let dir = std::env::temp_dir().join(format!("corroborate-bench-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some(url) = database_url(dialect, &dir) else {
        eprintln!("{dialect}: database not reachable, skipped");
        return None;
    };
    let admin = who();
    let mut settings = Settings::default();
    settings.listen = "127.0.0.1:0".into();
    settings.data_dir = dir.clone();
    settings.database_url = SecretString::from(url);
    settings.pool_size = 8;
    settings.master_key = Some(SecretString::from(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    ));
    settings.admins = vec![Admin {
        name: "bench".into(),
        did: admin.did.clone(),
    }];
    settings.rate_limit.per_second = 1_000_000;
    settings.rate_limit.burst = 1_000_000;
    settings.maintenance_interval_secs = 0;
    let app = Application::build(settings).unwrap();
    let client = Client {
        http: reqwest::Client::new(),
        url: app.public_url().to_owned(),
    };
    tokio::spawn(app.run_until_stopped());

    // The registry, the municipality and three organisations.
    let admin_token = client.login(&admin).await;
    let gov = who();
    let gov_token = client.login(&gov).await;
    let since = rfc3339(Utc::now() - Duration::days(30));
    let accredit = |did: String, category: &'static str, entity: &'static str| {
        json!({"did": did, "category": category, "fact_types": ["ResidenceAttestation"],
               "controller": entity, "jurisdiction": "BE", "valid_from": since})
    };
    client.post("/issuers", Some(&admin_token), &json!({"id": "ixelles", "name": "Ixelles", "entity": "BE0207373429", "operators": [gov.did]}), 201).await;
    client
        .post(
            "/registry/accreditations",
            Some(&admin_token),
            &accredit(gov.did.clone(), "government", "BE0207373429"),
            201,
        )
        .await;
    let mut orgs = Vec::new();
    for (id, category, entity, role) in [
        ("sibelga", "utility", "BE0222869673", "utility-supplier"),
        ("belfius", "bank", "BE0403201185", "bank"),
        ("bpost", "carrier", "BE0214596464", "parcel-carrier"),
    ] {
        let operator = who();
        let issuer = client
            .post(
                "/issuers",
                Some(&admin_token),
                &json!({"id": id, "name": id, "entity": entity, "operators": [operator.did]}),
                201,
            )
            .await;
        let did = issuer["did"].as_str().unwrap().to_owned();
        client
            .post(
                "/registry/accreditations",
                Some(&admin_token),
                &accredit(did.clone(), category, entity),
                201,
            )
            .await;
        let token = client.login(&operator).await;
        orgs.push((did, token, role));
    }

    // Citizens, their attestations, and one prepared presentation each (untimed).
    let mut prepared = Vec::with_capacity(count);
    for n in 0..count {
        let citizen = who();
        let address = json!({"street": {"nl": "Brouwerijstraat"}, "houseNumber": (n + 1).to_string(),
            "postalCode": "1050", "municipality": {"nl": "Elsene"}, "country": "BE"});
        let mut credentials = Vec::new();
        for (did, token, role) in &orgs {
            let credential = json!({
                "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/corroborate/v1"],
                "type": ["VerifiableCredential", "ResidenceAttestation"],
                "issuer": did,
                "credentialSubject": {"id": citizen.did, "attesterRelation": {"role": role},
                    "residence": {"address": address, "since": "2021-09-01"}}
            });
            let issued = client
                .post(
                    "/credentials/issue",
                    Some(token),
                    &json!({"credential": credential}),
                    201,
                )
                .await;
            credentials.push(issued["verifiableCredential"].clone());
        }
        let request = client
            .post(
                "/presentation-requests",
                Some(&gov_token),
                &json!({"policy": POLICY}),
                201,
            )
            .await;
        let challenge = request["challenge"].as_str().unwrap().to_owned();
        let domain = request["domain"].as_str().unwrap().to_owned();
        let vp = sign_presentation(
            &citizen.did,
            credentials,
            &citizen.key,
            &citizen.vm,
            Cryptosuite::EddsaJcs2022,
            &Binding::for_decision(&challenge, &domain),
            Utc::now(),
        )
        .await
        .unwrap();
        prepared.push((challenge, domain, vp));
    }

    // The in-process rate: the same presentations verified and decided by the library, with the
    // DID documents and status lists pre-fetched and the registry as a file registry.
    let mut resolver = StaticResolver::new(corroborate_verifier::did::LocalResolver);
    let mut lists = StaticStatusLists::new();
    for (did, _, _) in &orgs {
        let path = did.rsplit(':').next().unwrap();
        resolver
            .insert_document(&client.get(&format!("/issuers/{path}/did.json")).await)
            .unwrap();
    }
    for credential in prepared[0].2["verifiableCredential"].as_array().unwrap() {
        for entry in credential["credentialStatus"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let url = entry["statusListCredential"].as_str().unwrap().to_owned();
            let path = url.trim_start_matches(&client.url).to_owned();
            lists.insert(url, client.get(&path).await, Utc::now());
        }
    }
    let registry = FileRegistry::from_json(&client.get("/registry").await).unwrap();
    let policy = Policy::from_json(
        &client
            .get("/policies")
            .await
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == POLICY)
            .unwrap()
            .clone(),
    )
    .unwrap();
    // As many threads as the service has cores, so the two rates compare like for like.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let chunk = count.div_ceil(threads);
    let started = Instant::now();
    let established: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .chunks(chunk)
            .map(|part| {
                let (resolver, lists, registry, policy) = (&resolver, &lists, &registry, &policy);
                scope.spawn(move || {
                    let mut established = 0;
                    for (challenge, domain, vp) in part {
                        let mut options = VerifyOptions::at(Utc::now()).with_status(lists);
                        options.require_schema = true;
                        let binding = Binding::for_decision(challenge, domain);
                        let report = pollster::block_on(verify_presentation(
                            vp.clone(),
                            &binding,
                            &options,
                            resolver,
                        ));
                        let inputs: Vec<Input> = report
                            .credentials
                            .into_iter()
                            .map(|r| Input {
                                failures: r.failures(),
                                credential: r.credential,
                            })
                            .collect();
                        let context = decision::Context {
                            at: Utc::now(),
                            subject: report.holder,
                            bundle_failures: report.failures,
                        };
                        let (decision, _) =
                            decision::decide_with_evidence(policy, registry, &inputs, &context);
                        established +=
                            usize::from(decision.outcome == decision::Outcome::Established);
                    }
                    established
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let in_process_per_s = count as f64 / started.elapsed().as_secs_f64();
    assert_eq!(
        established, count,
        "every prepared presentation must be established in process"
    );

    // The service under concurrent load.
    let started = Instant::now();
    let client = std::sync::Arc::new(client);
    let queue = std::sync::Arc::new(std::sync::Mutex::new(prepared));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let queue = queue.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((challenge, _, vp)) = next else {
                    break;
                };
                let t = Instant::now();
                let reply = client
                    .post(
                        &format!("/presentation-requests/{challenge}/presentations"),
                        None,
                        &json!({"presentation": vp}),
                        201,
                    )
                    .await;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(reply["decision"]["outcome"], "established");
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    let _ = std::fs::remove_dir_all(&dir);
    Some(Figures {
        dialect,
        count,
        seconds,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        in_process_per_s,
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(300);
    let concurrency: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    println!(
        "status derivations: {count} per database, {concurrency} concurrent clients, one process on loopback"
    );
    println!(
        "| database | derivations/s | p50 ms | p99 ms | in-process decisions/s | service / in-process |"
    );
    println!("|---|---|---|---|---|---|");
    for dialect in ["sqlite", "postgres"] {
        if let Some(f) = run(dialect, count, concurrency).await {
            let rate = f.count as f64 / f.seconds;
            println!(
                "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} |",
                f.dialect,
                rate,
                f.p50_ms,
                f.p99_ms,
                f.in_process_per_s,
                rate / f.in_process_per_s
            );
        }
    }
}
