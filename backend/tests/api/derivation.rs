//! Status derivation end to end, over HTTP only (presentations signed with the verifier library,
//! as a wallet would): the registry set up by an admin; a utility, a bank and a carrier issuing
//! through hosted issuance; neighbours who first establish their own residence (which makes them
//! neighbours) and then sign with their own keys through the attestation exchange; a citizen's
//! presentation decided `established` with a status credential; one neighbour revoking, and the
//! decision re-evaluated to `insufficient` with the status credential's bit set. Also: a replayed
//! and a re-targeted presentation refused, an attester outside its accreditation not counted, a
//! conflicting attestation giving `disputed`, and who may read which decision.

use crate::on_both;
use crate::support::{Dialect, Identity, TestApp, spawn_with};
use chrono::{Duration, Utc};
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::presentation::{Binding, sign_presentation};
use corroborate_verifier::proof::{self, Cryptosuite, ProofOptions};
use corroborate_verifier::status::{BitstringBuilder, StatusPurpose, status_list_credential};
use corroborate_verifier::verification::{VerifyOptions, verify_credential};
use serde_json::{Value, json};

const POLICY: &str = "be.example.municipality/residence";

/// An organisation with a hosted issuer, accredited in a category.
pub(crate) struct Org {
    token: String,
    did: String,
}

/// A person with a did:key, logged in.
pub(crate) struct Person {
    pub(crate) id: Identity,
    pub(crate) token: String,
}

pub(crate) struct Scenario {
    pub(crate) app: TestApp,
    pub(crate) admin: String,
    gov: Person,
    utility: Org,
    bank: Org,
    carrier: Org,
}

pub(crate) fn address(number: &str, postcode: &str) -> Value {
    json!({
        "street": {"fr": "Rue de la Brasserie", "nl": "Brouwerijstraat"},
        "houseNumber": number,
        "postalCode": postcode,
        "municipality": {"fr": "Ixelles", "nl": "Elsene"},
        "country": "BE"
    })
}

fn residence(subject: &str, role: &str, address: &Value) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/corroborate/v1"],
        "type": ["VerifiableCredential", "ResidenceAttestation"],
        "credentialSubject": {
            "id": subject,
            "attesterRelation": {"role": role, "since": "2021-09-01"},
            "residence": {"address": address, "since": "2021-09-01"}
        }
    })
}

impl Scenario {
    async fn new(dialect: Dialect) -> Scenario {
        Self::with(dialect, |_| {}).await
    }

    /// The scenario on a server whose settings `adjust` may change first.
    pub(crate) async fn with(
        dialect: Dialect,
        adjust: impl FnOnce(&mut corroborate_backend::settings::Settings),
    ) -> Scenario {
        let app = spawn_with(dialect, adjust).await;
        let admin = app.admin_token().await;
        let gov_id = Identity::random();
        let gov_token = app.login(&gov_id).await;
        // The municipality: a hosted issuer for its status credentials, and the government
        // accreditation of the civil servant's DID.
        Self::issuer(&app, &admin, "ixelles", "BE0207373429", &gov_id).await;
        Self::accredit(&app, &admin, &gov_id.did, "government", "BE0207373429").await;
        let gov = Person {
            id: gov_id,
            token: gov_token,
        };
        let utility = Self::org(&app, &admin, "sibelga", "utility", "BE0222869673").await;
        let bank = Self::org(&app, &admin, "belfius", "bank", "BE0403201185").await;
        let carrier = Self::org(&app, &admin, "bpost", "carrier", "BE0214596464").await;
        Scenario {
            app,
            admin,
            gov,
            utility,
            bank,
            carrier,
        }
    }

    async fn issuer(
        app: &TestApp,
        admin: &str,
        id: &str,
        entity: &str,
        operator: &Identity,
    ) -> String {
        let body = json!({"id": id, "name": id, "entity": entity, "operators": [operator.did]});
        let issuer = app.post("/issuers", Some(admin), &body).await.expect(201);
        issuer["did"].as_str().unwrap().to_owned()
    }

    async fn accredit(
        app: &TestApp,
        admin: &str,
        did: &str,
        category: &str,
        entity: &str,
    ) -> Value {
        let body = json!({
            "did": did, "category": category, "fact_types": ["ResidenceAttestation"],
            "controller": entity, "jurisdiction": "BE",
            "valid_from": rfc3339(Utc::now() - Duration::days(30)),
        });
        app.post("/registry/accreditations", Some(admin), &body)
            .await
            .expect(201)
    }

    async fn org(app: &TestApp, admin: &str, id: &str, category: &str, entity: &str) -> Org {
        let operator = Identity::random();
        let did = Self::issuer(app, admin, id, entity, &operator).await;
        Self::accredit(app, admin, &did, category, entity).await;
        let token = app.login(&operator).await;
        Org { token, did }
    }

    async fn person(&self, household: &str) -> Person {
        let id = Identity::random();
        let body = json!({"did": id.did, "person": format!("person-{}", &id.did[8..24]), "household": household});
        self.app
            .post("/registry/persons", Some(&self.admin), &body)
            .await
            .expect(201);
        let token = self.app.login(&id).await;
        Person { id, token }
    }

    /// The government verifier's token.
    pub(crate) fn gov_token(&self) -> &str {
        &self.gov.token
    }

    /// A hosted issuer signs a residence attestation about `subject`.
    async fn issue(&self, org: &Org, subject: &str, role: &str, address: &Value) -> Value {
        let mut credential = residence(subject, role, address);
        credential["issuer"] = json!(org.did);
        self.app
            .post(
                "/credentials/issue",
                Some(&org.token),
                &json!({"credential": credential}),
            )
            .await
            .expect(201)["verifiableCredential"]
            .clone()
    }

    /// The government verifier asks; `holder` presents `credentials`; the reply to the submission.
    async fn present(
        &self,
        holder: &Identity,
        credentials: Vec<Value>,
    ) -> (Value, crate::support::Reply) {
        let request = self
            .app
            .post(
                "/presentation-requests",
                Some(&self.gov.token),
                &json!({"policy": POLICY}),
            )
            .await
            .expect(201);
        let presentation = sign_vp(holder, credentials, &request).await;
        let reply = self
            .app
            .post(
                &format!(
                    "/presentation-requests/{}/presentations",
                    request["challenge"].as_str().unwrap()
                ),
                None,
                &json!({"presentation": presentation}),
            )
            .await;
        (presentation, reply)
    }

    /// A neighbour: a person whose own residence at `address` is established from the three
    /// organisations' attestations, which grants them the neighbour category for its postcode.
    async fn neighbour(&self, address: &Value) -> Person {
        self.established(address).await.0
    }

    /// A person whose residence at `address` is established from the three organisations'
    /// attestations; with the submission's result (decision and status credential).
    pub(crate) async fn established(&self, address: &Value) -> (Person, Value) {
        let person = self
            .person(&format!("household-{}", rand::random::<u32>()))
            .await;
        let mut credentials = Vec::new();
        for (org, role) in [
            (&self.utility, "utility-supplier"),
            (&self.bank, "bank"),
            (&self.carrier, "parcel-carrier"),
        ] {
            credentials.push(self.issue(org, &person.id.did, role, address).await);
        }
        let (_, reply) = self.present(&person.id, credentials).await;
        let result = reply.expect(201);
        assert_eq!(
            result["decision"]["outcome"], "established",
            "{:#}",
            result["decision"]
        );
        (person, result)
    }
}

async fn sign_vp(holder: &Identity, credentials: Vec<Value>, request: &Value) -> Value {
    sign_presentation(
        &holder.did,
        credentials,
        &holder.key,
        &holder.vm,
        Cryptosuite::EddsaJcs2022,
        &Binding::for_decision(
            request["challenge"].as_str().unwrap(),
            request["domain"].as_str().unwrap(),
        ),
        Utc::now(),
    )
    .await
    .unwrap()
}

/// A person attester's own revocation list, published through the service.
struct PersonalList {
    id: String,
    url: String,
    bits: BitstringBuilder,
}

impl PersonalList {
    async fn create(app: &TestApp, owner: &Person) -> PersonalList {
        let created = app
            .post(
                "/status-lists",
                Some(&owner.token),
                &json!({"purpose": "revocation"}),
            )
            .await
            .expect(201);
        let list = PersonalList {
            id: created["id"].as_str().unwrap().to_owned(),
            url: created["url"].as_str().unwrap().to_owned(),
            bits: BitstringBuilder::minimum(),
        };
        list.publish(app, owner).await;
        list
    }

    async fn publish(&self, app: &TestApp, owner: &Person) {
        let unsigned = status_list_credential(
            &owner.id.did,
            &self.url,
            StatusPurpose::Revocation,
            &self.bits,
            Utc::now() - Duration::seconds(1),
        );
        let signed = proof::add_proof(
            &unsigned,
            &owner.id.key,
            &ProofOptions::assertion(Cryptosuite::EddsaJcs2022, owner.id.vm.clone(), Utc::now()),
        )
        .await
        .unwrap();
        app.put(
            &format!("/status-lists/{}", self.id),
            Some(&owner.token),
            &signed,
        )
        .await
        .expect(200);
    }

    async fn entry(&self, app: &TestApp, owner: &Person) -> Value {
        let reserved = app
            .post(
                &format!("/status-lists/{}/entries", self.id),
                Some(&owner.token),
                &json!({}),
            )
            .await
            .expect(201);
        let index = reserved["index"].as_u64().unwrap();
        json!({
            "id": format!("{}#{index}", self.url),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": index.to_string(),
            "statusListCredential": self.url,
        })
    }
}

/// A neighbour signs, in their own wallet, an attestation of `address` for `subject`, with an
/// entry on their own revocation list.
async fn neighbour_signs(subject: &str, signer: &Person, address: &Value, entry: Value) -> Value {
    let mut credential = residence(subject, "neighbour", address);
    credential["issuer"] = json!(signer.id.did);
    credential["id"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    credential["validFrom"] = json!(rfc3339(Utc::now()));
    credential["credentialStatus"] = entry;
    proof::add_proof(
        &credential,
        &signer.id.key,
        &ProofOptions::assertion(Cryptosuite::EddsaRdfc2022, signer.id.vm.clone(), Utc::now()),
    )
    .await
    .unwrap()
}

/// Verifies a credential as any relying party would, with the service's own resolvers.
async fn verify(
    app: &TestApp,
    credential: &Value,
) -> corroborate_verifier::verification::CredentialReport {
    let resolver = corroborate_backend::fetch::Resolver::new(&app.state);
    let lists = corroborate_backend::fetch::StatusLists::new(&app.state);
    let options = VerifyOptions::at(Utc::now()).with_status(&lists);
    verify_credential(credential.clone(), &options, &resolver).await
}

async fn residence_established_then_revoked(dialect: Dialect) {
    let world = Scenario::new(dialect).await;
    let app = &world.app;
    let home = address("27", "1050");
    let n1 = world.neighbour(&address("25", "1050")).await;
    let n2 = world.neighbour(&address("29", "1050")).await;
    let citizen = world.person("household-citizen").await;

    // The utility issues through hosted issuance.
    let from_utility = world
        .issue(&world.utility, &citizen.id.did, "utility-supplier", &home)
        .await;

    // The citizen asks both neighbours through the exchange; they sign in their own wallets.
    let request = app
        .post(
            "/attestation-requests",
            Some(&citizen.token),
            &json!({
                "fact_type": "ResidenceAttestation",
                "claims": {"residence": {"address": home, "since": "2021-09-01"}},
                "addressed_to": [n1.id.did, n2.id.did],
            }),
        )
        .await
        .expect(201);
    let request_id = request["id"].as_str().unwrap();
    let list1 = PersonalList::create(app, &n1).await;
    let list2 = PersonalList::create(app, &n2).await;
    let mut lists = vec![(list1, &n1), (list2, &n2)];
    let mut n1_entry = Value::Null;
    for (list, neighbour) in &mut lists {
        let inbox = app
            .get("/attestation-requests/inbox", Some(&neighbour.token))
            .await
            .expect(200);
        assert!(inbox.to_string().contains(request_id), "{inbox:#}");
        let entry = list.entry(app, neighbour).await;
        if neighbour.id.did == n1.id.did {
            n1_entry = entry.clone();
        }
        let signed = neighbour_signs(&citizen.id.did, neighbour, &home, entry).await;
        app.post(
            &format!("/attestation-requests/{request_id}/responses"),
            Some(&neighbour.token),
            &json!({"credential": signed}),
        )
        .await
        .expect(201);
    }
    let collected = app
        .post(
            &format!("/attestation-requests/{request_id}/collect"),
            Some(&citizen.token),
            &json!({}),
        )
        .await
        .expect(200);
    let from_neighbours: Vec<Value> = collected["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|answer| answer["credential"].clone())
        .collect();
    assert_eq!(from_neighbours.len(), 2, "{collected:#}");

    // The citizen presents; the municipality decides.
    let mut bundle = vec![from_utility.clone()];
    bundle.extend(from_neighbours.iter().cloned());
    let (presentation, reply) = world.present(&citizen.id, bundle).await;
    let result = reply.expect(201);
    let decision = &result["decision"];
    assert_eq!(decision["outcome"], "established", "{decision:#}");
    assert_eq!(decision["holds"], true);
    assert_eq!(
        decision["explanation"]["totals"]["weight"], "3.500",
        "{decision:#}"
    );
    assert!(
        decision["explanation"]["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["counted"] == true)
    );
    assert!(
        decision["explanation"]["inputs"][0].get("claims").is_none(),
        "claims are not kept"
    );
    let status_credential = result["status_credential"].clone();
    assert_eq!(status_credential["credentialSubject"]["id"], citizen.id.did);
    assert_eq!(
        status_credential["credentialSubject"]["derivedStatus"]["policy"],
        POLICY
    );
    assert_eq!(
        status_credential["credentialSubject"]["established"]["residence"]["address"]["postalCode"],
        "1050"
    );
    let report = verify(app, &status_credential).await;
    assert!(report.is_valid(), "{report:#?}");

    // A replay of the same presentation: the challenge is used.
    let challenge = presentation["proof"]["challenge"].as_str().unwrap();
    app.post(
        &format!("/presentation-requests/{challenge}/presentations"),
        None,
        &json!({"presentation": presentation}),
    )
    .await
    .expect_problem(409, "challenge_refused");

    // The verifier and the citizen can read the decision; someone else cannot.
    let id = decision["id"].as_str().unwrap();
    app.get(&format!("/decisions/{id}"), Some(&world.gov.token))
        .await
        .expect(200);
    app.get(&format!("/decisions/{id}"), Some(&citizen.token))
        .await
        .expect(200);
    app.get(&format!("/decisions/{id}"), Some(&n2.token))
        .await
        .expect_problem(404, "not_found");
    let mine = app
        .get("/me/decisions", Some(&citizen.token))
        .await
        .expect(200);
    assert_eq!(mine["total"], 1);
    let listed = app
        .get(
            "/decisions?outcome=established&holds=true",
            Some(&world.gov.token),
        )
        .await
        .expect(200);
    assert_eq!(listed["total"], 3, "two neighbours' and the citizen's");
    // The dashboard follows the decision on the request it made by the request's challenge.
    let followed = app
        .get(
            &format!("/decisions?challenge={challenge}"),
            Some(&world.gov.token),
        )
        .await
        .expect(200);
    assert_eq!(followed["total"], 1, "{followed:#}");
    assert_eq!(followed["decisions"][0]["id"], decision["id"]);
    let unknown = app
        .get(
            "/decisions?challenge=no-such-challenge",
            Some(&world.gov.token),
        )
        .await
        .expect(200);
    assert_eq!(unknown["total"], 0, "{unknown:#}");
    app.get("/decisions", Some(&citizen.token))
        .await
        .expect_problem(403, "forbidden");
    app.get("/decisions?outcome=maybe", Some(&world.gov.token))
        .await
        .expect_problem(400, "invalid_parameter");

    // The municipality's operator revokes the status credential by hand first (through the VC
    // API); the re-evaluation below must still withdraw the decision.
    app.post(
        "/credentials/status",
        Some(&world.gov.token),
        &json!({
            "credentialId": status_credential["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": true,
        }),
    )
    .await
    .expect(200);

    // Neighbour 1 revokes their attestation: their wallet re-signs their list, the service
    // publishes it and re-evaluates: 1.5 + 1 = 2.5 < 3, insufficient; the status is revoked.
    let (list1, _) = &mut lists[0];
    let index: u64 = n1_entry["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    list1.bits.set(index).unwrap();
    list1.publish(app, &n1).await;
    let after = app
        .get(&format!("/decisions/{id}"), Some(&world.gov.token))
        .await
        .expect(200);
    assert_eq!(after["holds"], false, "{after:#}");
    assert_eq!(
        after["reevaluation"]["outcome"], "insufficient",
        "{after:#}"
    );
    assert_eq!(
        after["reevaluation"]["totals"]["weight"], "2.500",
        "{after:#}"
    );
    let report = verify(app, &status_credential).await;
    assert!(
        !report.is_valid(),
        "the status credential must now be revoked: {report:#?}"
    );
    assert!(
        report
            .failures()
            .iter()
            .any(|f| matches!(f, corroborate_verifier::failure::Failure::Revoked { .. })),
        "{:?}",
        report.failures()
    );
}
on_both!(residence_established_then_revoked);

async fn refusals_and_disputes(dialect: Dialect) {
    let world = Scenario::new(dialect).await;
    let app = &world.app;
    let home = address("27", "1050");
    let elsewhere = address("80", "3000");
    let citizen = world.person("household-citizen").await;

    // A presentation made for one verifier, sent to another's request: refused, and the
    // request stays usable.
    let other_gov = Identity::random();
    Scenario::issuer(app, &world.admin, "leuven", "BE0207521925", &other_gov).await;
    Scenario::accredit(
        app,
        &world.admin,
        &other_gov.did,
        "government",
        "BE0207521925",
    )
    .await;
    let other_token = app.login(&other_gov).await;
    let theirs = app
        .post(
            "/presentation-requests",
            Some(&other_token),
            &json!({"policy": POLICY}),
        )
        .await
        .expect(201);
    let ours = app
        .post(
            "/presentation-requests",
            Some(&world.gov.token),
            &json!({"policy": POLICY}),
        )
        .await
        .expect(201);
    let utility = world
        .issue(&world.utility, &citizen.id.did, "utility-supplier", &home)
        .await;
    let for_them = sign_vp(&citizen.id, vec![utility.clone()], &theirs).await;
    let ours_path = format!(
        "/presentation-requests/{}/presentations",
        ours["challenge"].as_str().unwrap()
    );
    let refused = app
        .post(&ours_path, None, &json!({"presentation": for_them}))
        .await
        .expect_problem(422, "verification_failed");
    assert!(refused["failures"].is_array(), "{refused:#}");
    app.get(
        &format!(
            "/presentation-requests/{}",
            ours["challenge"].as_str().unwrap()
        ),
        None,
    )
    .await
    .expect(200);

    // An unknown request, and a policy that does not exist.
    app.get("/presentation-requests/nope", None)
        .await
        .expect_problem(404, "not_found");
    app.post(
        "/presentation-requests",
        Some(&world.gov.token),
        &json!({"policy": "no/such"}),
    )
    .await
    .expect_problem(404, "unknown_policy");
    // Only government verifiers ask.
    app.post(
        "/presentation-requests",
        Some(&citizen.token),
        &json!({"policy": POLICY}),
    )
    .await
    .expect_problem(403, "forbidden");

    // An attester outside its accreditation: a stranger's did:key and a neighbour from another
    // postcode do not count; the utility alone is insufficient.
    let far = world.neighbour(&address("12", "3000")).await;
    let stranger = Person {
        id: Identity::random(),
        token: String::new(),
    };
    let from_stranger = resign(unsigned_from(&citizen.id.did, &stranger, &home), &stranger).await;
    let from_far = resign(unsigned_from(&citizen.id.did, &far, &home), &far).await;
    let (_, reply) = world
        .present(&citizen.id, vec![utility.clone(), from_stranger, from_far])
        .await;
    let decision = reply.expect(201)["decision"].clone();
    assert_eq!(decision["outcome"], "insufficient", "{decision:#}");
    let inputs = decision["explanation"]["inputs"].as_array().unwrap();
    assert_eq!(inputs[0]["counted"], true);
    for input in &inputs[1..] {
        // Neither is accredited for this address: the stranger not at all, the far neighbour
        // only for their own postcode.
        assert_eq!(input["counted"], false, "{input:#}");
        assert_eq!(input["reasons"][0]["code"], "no_accreditation", "{input:#}");
    }
    assert_eq!(decision["status_credential_id"], Value::Null);

    // A contradiction: the carrier says the citizen lives elsewhere; the bank and a neighbour
    // agree with each other. Neither carrier nor bank overrides: disputed.
    let n1 = world.neighbour(&address("25", "1050")).await;
    let bank = world
        .issue(&world.bank, &citizen.id.did, "bank", &home)
        .await;
    let carrier = world
        .issue(
            &world.carrier,
            &citizen.id.did,
            "parcel-carrier",
            &elsewhere,
        )
        .await;
    let from_n1 = resign(unsigned_from(&citizen.id.did, &n1, &home), &n1).await;
    let (_, reply) = world
        .present(&citizen.id, vec![bank, from_n1, carrier])
        .await;
    let decision = reply.expect(201)["decision"].clone();
    assert_eq!(decision["outcome"], "disputed", "{decision:#}");
    assert_eq!(decision["holds"], false);
}
on_both!(refusals_and_disputes);

/// A neighbour's attestation of `address` for `subject`, without a status entry, unsigned.
fn unsigned_from(subject: &str, signer: &Person, address: &Value) -> Value {
    let mut credential = residence(subject, "neighbour", address);
    credential["issuer"] = json!(signer.id.did);
    credential["validFrom"] = json!(rfc3339(Utc::now()));
    credential
}

async fn resign(credential: Value, signer: &Person) -> Value {
    proof::add_proof(
        &credential,
        &signer.id.key,
        &ProofOptions::assertion(Cryptosuite::EddsaJcs2022, signer.id.vm.clone(), Utc::now()),
    )
    .await
    .unwrap()
}
