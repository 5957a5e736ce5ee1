//! The harness: the real service in this process, on port 0 with a fresh SQLite database in a
//! temporary folder, and wallets that talk to it over HTTP exactly as the CLI's do (the native
//! transport, the system clock, the OS's randomness). Besides: the calls an administrator and a
//! government verifier make, the claims the tests ask for, and a snapshot of every row a wallet
//! holds, to show that a refused operation wrote nothing.

use chrono::{Duration, Utc};
use corroborate_backend::app::Application;
use corroborate_backend::settings::Settings;
use corroborate_verifier::credential::rfc3339;
use corroborate_wallet::client::{ClientError, Service};
use corroborate_wallet::flows::{Agent, Env, FlowError};
use corroborate_wallet::identity;
use corroborate_wallet::memory::MemoryStorage;
use corroborate_wallet::native::{HttpTransport, OsEntropy, SystemClock};
use corroborate_wallet::platform::{EntropyRng, Storage};
use corroborate_wallet::records::{IdentityRecord, TABLES};
use corroborate_wallet::store::{KdfParams, META_TABLE, Wallet};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const PASSPHRASE: &str = "a passphrase for tests only";
pub const RESIDENCE: &str = "ResidenceAttestation";
pub const BIRTH: &str = "BirthAttestation";
pub const RESIDENCE_POLICY: &str = "be.example.municipality/residence";
pub const BIRTH_POLICY: &str = "be.example.civil-registry/birth";

/// The platform every wallet of a test runs on.
pub type Native = Env<HttpTransport, SystemClock, OsEntropy>;

/// The OS's randomness, as the flows draw it.
pub fn rng() -> EntropyRng<'static, OsEntropy> {
    EntropyRng(&OsEntropy)
}

/// One running service, and the administrator configured for it.
pub struct World {
    pub url: String,
    pub env: Native,
    /// The service's database file, to move a request's expiry into the past.
    database: PathBuf,
    admin_token: String,
    _dir: tempfile::TempDir,
}

/// Someone with a wallet of their own (in memory unless said otherwise) and one identity in it.
pub struct Person<S: Storage = MemoryStorage> {
    pub wallet: Wallet<S>,
    pub id: IdentityRecord,
}

impl Person {
    pub async fn new(label: &str) -> Person {
        Person::in_storage(MemoryStorage::new(), label).await
    }
}

impl<S: Storage> Person<S> {
    /// A new wallet in `storage` (cheap key derivation: these wallets are thrown away).
    pub async fn in_storage(storage: S, label: &str) -> Person<S> {
        let wallet = Wallet::create(
            storage,
            PASSPHRASE,
            KdfParams::INSECURE_FAST,
            &mut rng(),
            Utc::now(),
        )
        .await
        .unwrap();
        let id = identity::create(&wallet, label, &mut rng(), Utc::now())
            .await
            .unwrap();
        Person { wallet, id }
    }
}

/// An organisation's hosted issuer, and the operator who signs in for it.
pub struct Org {
    pub did: String,
    pub operator: Person,
}

impl World {
    /// Starts the service with an administrator whose key lives in a wallet of its own.
    pub async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("service.sqlite");
        let admin = Person::new("administrator").await;
        // Through serde, as the service reads its configuration: no secrecy types needed here.
        let settings: Settings = serde_json::from_value(json!({
            "listen": "127.0.0.1:0",
            "data_dir": dir.path(),
            "database_url": format!("sqlite://{}", database.display()),
            "pool_size": 4,
            "master_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "admins": [{"name": "test administrator", "did": admin.id.did}],
            "rate_limit": {"per_second": 10_000, "burst": 10_000},
            "maintenance_interval_secs": 0,
            // Each status is anchored on the service's log as soon as the batcher looks.
            "anchoring": {"batch_size": 1, "poll_interval_ms": 50},
        }))
        .unwrap();
        let app = Application::build(settings).unwrap();
        let url = app.public_url().to_owned();
        tokio::spawn(app.run_until_stopped());
        let env = Env {
            transport: HttpTransport::new().unwrap(),
            clock: SystemClock,
            entropy: OsEntropy,
        };
        let admin_token = Agent::new(&admin.wallet, &env, &url)
            .sign_in(&admin.id)
            .await
            .unwrap()
            .token;
        World {
            url,
            env,
            database,
            admin_token,
            _dir: dir,
        }
    }

    /// A wallet acting with this service.
    pub fn agent<'a, S: Storage>(
        &'a self,
        wallet: &'a Wallet<S>,
    ) -> Agent<'a, S, HttpTransport, SystemClock, OsEntropy> {
        Agent::new(wallet, &self.env, &self.url)
    }

    pub fn service(&self) -> Service<'_, HttpTransport> {
        Service::new(&self.url, &self.env.transport)
    }

    async fn as_admin(&self, path: &str, body: Value) -> Value {
        self.service()
            .post(path, Some(&self.admin_token), body)
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Accredits `did` in `category` for `fact_types`, in Belgium, since a month; `person` for a
    /// person (then also the controller).
    pub async fn accredit(
        &self,
        did: &str,
        category: &str,
        fact_types: &[&str],
        controller: &str,
        person: Option<&str>,
    ) {
        let mut body = json!({
            "did": did,
            "category": category,
            "fact_types": fact_types,
            "controller": controller,
            "jurisdiction": "BE",
            "valid_from": rfc3339(Utc::now() - Duration::days(30)),
        });
        if let Some(person) = person {
            body["person"] = json!(person);
        }
        self.as_admin("/registry/accreditations", body).await;
    }

    /// Binds a DID to a (pseudonymous) person and household in the registry.
    pub async fn bind_person(&self, did: &str, person: &str, household: &str) {
        let body = json!({"did": did, "person": person, "household": household});
        self.as_admin("/registry/persons", body).await;
    }

    /// A hosted issuer operated by `operator`; its did:web.
    async fn hosted_issuer(&self, id: &str, entity: &str, operator: &str) -> String {
        let body = json!({"id": id, "name": id, "entity": entity, "operators": [operator]});
        let created = self.as_admin("/issuers", body).await;
        created["did"].as_str().unwrap().to_owned()
    }

    /// An organisation with a hosted issuer, accredited in `category` for residence.
    pub async fn org(&self, id: &str, category: &str, entity: &str) -> Org {
        let operator = Person::new(&format!("{id} desk")).await;
        let did = self.hosted_issuer(id, entity, &operator.id.did).await;
        self.accredit(&did, category, &[RESIDENCE], entity, None)
            .await;
        Org { did, operator }
    }

    /// The organisation signs `credential_subject` (a residence attestation) in its name.
    pub async fn issue_hosted(&self, org: &Org, credential_subject: Value) -> Value {
        let token = self
            .agent(&org.operator.wallet)
            .sign_in(&org.operator.id)
            .await
            .unwrap()
            .token;
        let credential = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/corroborate/v1"],
            "type": ["VerifiableCredential", RESIDENCE],
            "issuer": org.did,
            "credentialSubject": credential_subject,
        });
        let issued = self
            .service()
            .post(
                "/credentials/issue",
                Some(&token),
                json!({"credential": credential}),
            )
            .await
            .unwrap();
        issued["verifiableCredential"].clone()
    }

    /// A person accredited as an attester in a category no shipped policy counts: what the
    /// service asks of anyone who keeps a revocation list there (any accreditation but
    /// `government`), without weighing in any decision.
    pub async fn witness(&self, label: &str) -> Person {
        let witness = Person::new(label).await;
        let person = format!("psn-{}", &witness.id.did[8..24]);
        self.accredit(
            &witness.id.did,
            "witness",
            &[RESIDENCE],
            &person,
            Some(&person),
        )
        .await;
        witness
    }

    /// The organisations whose attestations alone establish a residence: a utility (1.5), a bank
    /// (1) and a parcel carrier (0.5), each through hosted issuance.
    pub async fn residence_orgs(&self) -> [(Org, &'static str); 3] {
        [
            (
                self.org("sibelga", "utility", "BE0222869673").await,
                "utility-supplier",
            ),
            (self.org("belfius", "bank", "BE0403201185").await, "bank"),
            (
                self.org("bpost", "carrier", "BE0214596464").await,
                "parcel-carrier",
            ),
        ]
    }

    /// Establishes `resident`'s residence at `number` from the organisations' attestations,
    /// imported and presented by their wallet; the service then accredits them as a neighbour
    /// for the postcode. Returns the decision.
    pub async fn establish_residence(
        &self,
        clerk: &Person,
        orgs: &[(Org, &'static str)],
        resident: &Person,
        number: &str,
    ) -> Value {
        let agent = self.agent(&resident.wallet);
        for (org, role) in orgs {
            let mut subject = residence(number);
            subject["id"] = json!(resident.id.did);
            subject["attesterRelation"] = json!({"role": role});
            let issued = self.issue_hosted(org, subject).await;
            agent.import(&resident.id, &issued).await.unwrap();
        }
        let challenge = self.ask_presentation(clerk, RESIDENCE_POLICY).await;
        let ask = agent.presentation_request(&challenge).await.unwrap();
        let policy = agent.policy(&ask).await.unwrap();
        let chosen = agent.selection(&resident.id, &policy, &[]).await.unwrap();
        let presented = agent.present(&resident.id, &ask, &chosen).await.unwrap();
        assert_eq!(
            presented.decision["outcome"], "established",
            "{:#}",
            presented.decision
        );
        presented.decision
    }

    /// A civil servant: accredited as a government verifier, operating the hosted issuer that
    /// signs the status credentials of its decisions.
    pub async fn government(&self, id: &str, entity: &str) -> Person {
        let clerk = Person::new("clerk").await;
        self.hosted_issuer(id, entity, &clerk.id.did).await;
        self.accredit(
            &clerk.id.did,
            "government",
            &[RESIDENCE, BIRTH],
            entity,
            None,
        )
        .await;
        clerk
    }

    /// The government verifier asks for a presentation under `policy`; the challenge.
    pub async fn ask_presentation(&self, clerk: &Person, policy: &str) -> String {
        let token = self
            .agent(&clerk.wallet)
            .sign_in(&clerk.id)
            .await
            .unwrap()
            .token;
        let asked = self
            .service()
            .post(
                "/presentation-requests",
                Some(&token),
                json!({"policy": policy}),
            )
            .await
            .unwrap();
        asked["challenge"].as_str().unwrap().to_owned()
    }

    /// Moves a request's expiry a minute into the past, as if its days had run out.
    pub fn expire(&self, request_id: &str) {
        let connection = rusqlite::Connection::open(&self.database).unwrap();
        connection
            .busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        let past = (Utc::now() - Duration::minutes(1)).timestamp_millis();
        let changed = connection
            .execute(
                "UPDATE attestation_requests SET expires_at = ?1 WHERE id = ?2",
                rusqlite::params![past, request_id],
            )
            .unwrap();
        assert_eq!(
            changed, 1,
            "no request {request_id} in the service's database"
        );
    }
}

/// A Belgian address at a house number of the Brouwerijstraat.
pub fn address(number: &str) -> Value {
    json!({
        "street": {"fr": "Rue de la Brasserie", "nl": "Brouwerijstraat"},
        "houseNumber": number,
        "postalCode": "1050",
        "municipality": {"fr": "Ixelles", "nl": "Elsene"},
        "country": "BE",
    })
}

/// What a residence attestation states: living at `number` since September 2021.
pub fn residence(number: &str) -> Value {
    json!({"residence": {"address": address(number), "since": "2021-09-01"}})
}

/// The service's problem code of a failed flow, if the service answered with one.
pub fn code(error: &FlowError) -> Option<&str> {
    match error {
        FlowError::Service(e @ ClientError::Problem { .. }) => e.code(),
        _ => None,
    }
}

/// Every row of the wallet's storage, sealed as stored: equal snapshots mean nothing was written.
pub async fn rows<S: Storage>(wallet: &Wallet<S>) -> BTreeMap<(String, String), Vec<u8>> {
    let mut rows = BTreeMap::new();
    for table in std::iter::once(META_TABLE).chain(TABLES.iter().copied()) {
        for (key, value) in wallet.storage().list(table).await.unwrap() {
            rows.insert((table.to_owned(), key), value);
        }
    }
    rows
}

/// Asserts that no row was added, changed or removed, naming those that were.
#[track_caller]
pub fn assert_unchanged(
    before: &BTreeMap<(String, String), Vec<u8>>,
    after: &BTreeMap<(String, String), Vec<u8>>,
    what: &str,
) {
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|(table, key)| format!("{table}/{key}"))
        .collect();
    assert!(
        changed.is_empty(),
        "{what} wrote to the wallet: {changed:?}"
    );
}

/// Each attester's progress on a request, as its citizen sees it.
pub fn progress(view: &Value) -> BTreeMap<String, String> {
    view["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["attester"].as_str().unwrap().to_owned(),
                p["progress"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
