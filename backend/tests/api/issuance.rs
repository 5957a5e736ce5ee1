//! Hosted issuance and status lists: issuers, their `did:web` documents and sealed service keys,
//! issuing through the VC API (single, idempotent, bulk), key rotation, revocation and
//! suspension, the status list endpoint's caching headers, and person attesters' published
//! lists. Every issued credential is checked with the verifier library through the service's own
//! resolver and status lists.

use crate::on_both;
use crate::support::{Dialect, Identity, TestApp, spawn};
use chrono::{Duration, Utc};
use corroborate_backend::db::StoreError;
use corroborate_backend::db::schema::{issued_credentials, service_keys, status_entries};
use corroborate_backend::fetch::{Resolver, StatusLists};
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::did::{DidResolver, ProofPurpose};
use corroborate_verifier::failure::Failure;
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::proof::{Cryptosuite, ProofOptions, add_proof};
use corroborate_verifier::status::{
    BitstringBuilder, StatusPurpose, decode_list, encode_list, status_list_credential,
};
use corroborate_verifier::verification::{
    CredentialReport, Verdict, VerifyOptions, verify_credential,
};
use diesel::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const EXAMPLE: &str = include_str!("../../../schemas/examples/residence-utility.json");

/// The utility example as an unsigned credential of `issuer` about `subject`, valid from today.
fn residence(issuer: &str, subject: &str) -> Value {
    let mut credential: Value = serde_json::from_str(EXAMPLE).unwrap();
    let object = credential.as_object_mut().unwrap();
    object.remove("id");
    object.remove("credentialStatus");
    object.remove("proof");
    object.insert("issuer".into(), json!(issuer));
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    object.insert("validFrom".into(), json!(rfc3339(today)));
    credential["credentialSubject"]["id"] = json!(subject);
    credential
}

/// An issuer `id` created by the admin, operated by `operator`; returns the issuer's view.
async fn create_issuer(app: &TestApp, admin: &str, id: &str, operator: &Identity) -> Value {
    app.post(
        "/issuers",
        Some(admin),
        &json!({"id": id, "name": format!("Issuer {id}"), "entity": "BE0123.456.789",
                "operators": [operator.did]}),
    )
    .await
    .expect(201)
}

/// Verifies as any relying party here would: the service's resolver and status lists.
async fn verify(app: &TestApp, credential: &Value) -> CredentialReport {
    let options = VerifyOptions::at(Utc::now()).with_status(StatusLists::new(&app.state));
    verify_credential(credential.clone(), &options, &Resolver::new(&app.state)).await
}

fn revoked_for(report: &CredentialReport) -> Option<String> {
    report.failures().into_iter().find_map(|f| match f {
        Failure::Revoked { purpose } => Some(purpose),
        _ => None,
    })
}

async fn issue(app: &TestApp, token: &str, credential: Value) -> Value {
    app.post(
        "/credentials/issue",
        Some(token),
        &json!({"credential": credential}),
    )
    .await
    .expect(201)["verifiableCredential"]
        .clone()
}

/// The entry of `purpose` in an issued credential's `credentialStatus`.
fn entry(credential: &Value, purpose: &str) -> Value {
    credential["credentialStatus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["statusPurpose"] == purpose)
        .unwrap()
        .clone()
}

/// Reads the bit of a status entry from the served list.
async fn bit(app: &TestApp, entry: &Value) -> bool {
    let url = entry["statusListCredential"].as_str().unwrap();
    let path = url.strip_prefix(&app.url).unwrap();
    let list = app.get(path, None).await.expect(200);
    let encoded = list["credentialSubject"]["encodedList"].as_str().unwrap();
    let index: u64 = entry["statusListIndex"].as_str().unwrap().parse().unwrap();
    decode_list(encoded).unwrap().get(index).unwrap()
}

async fn count_issued(app: &TestApp) -> i64 {
    app.state
        .db
        .read(|conn| Ok::<_, StoreError>(issued_credentials::table.count().get_result(conn)?))
        .await
        .unwrap()
}

async fn issuers_and_their_did_documents(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let stranger = Identity::random();
    let issuer = create_issuer(&app, &admin, "utility-a", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    assert!(did.starts_with("did:web:127.0.0.1%3A"), "{did}");
    assert!(did.ends_with(":issuers:utility-a"), "{did}");
    assert_eq!(issuer["operators"], json!([operator.did]));
    assert_eq!(issuer["keys"][0]["id"], format!("{did}#key-1"));
    assert!(issuer["keys"][0].get("retired").is_none());

    // Refusals: bad slug, duplicate, non-admin, unknown fields.
    for bad in ["A", "x", "has space", "under_score"] {
        app.post(
            "/issuers",
            Some(&admin),
            &json!({"id": bad, "name": "n", "entity": "e", "operators": []}),
        )
        .await
        .expect_problem(400, "invalid_body");
    }
    app.post(
        "/issuers",
        Some(&admin),
        &json!({"id": "utility-b", "name": "n", "entity": "e", "operators": ["not a did"]}),
    )
    .await
    .expect_problem(400, "invalid_body");
    app.post(
        "/issuers",
        Some(&admin),
        &json!({"id": "utility-a", "name": "n", "entity": "e"}),
    )
    .await
    .expect_problem(409, "conflict");
    let operator_token = app.login(&operator).await;
    let stranger_token = app.login(&stranger).await;
    app.post(
        "/issuers",
        Some(&operator_token),
        &json!({"id": "mine", "name": "n", "entity": "e"}),
    )
    .await
    .expect_problem(403, "forbidden");

    // Who sees what.
    let listed = app.get("/issuers", Some(&operator_token)).await.expect(200);
    assert_eq!(listed["issuers"].as_array().unwrap().len(), 1);
    let listed = app.get("/issuers", Some(&stranger_token)).await.expect(200);
    assert_eq!(listed["issuers"], json!([]));
    app.get("/issuers/utility-a", Some(&operator_token))
        .await
        .expect(200);
    app.get("/issuers/utility-a", Some(&stranger_token))
        .await
        .expect_problem(403, "forbidden");
    app.get("/issuers/nobody", Some(&admin))
        .await
        .expect_problem(404, "not_found");

    // Operators are added by admins only.
    app.post(
        "/issuers/utility-a/operators",
        Some(&operator_token),
        &json!({"did": stranger.did}),
    )
    .await
    .expect_problem(403, "forbidden");
    let updated = app
        .post(
            "/issuers/utility-a/operators",
            Some(&admin),
            &json!({"did": stranger.did}),
        )
        .await
        .expect(201);
    assert_eq!(updated["operators"].as_array().unwrap().len(), 2);
    app.post(
        "/issuers/utility-a/operators",
        Some(&admin),
        &json!({"did": stranger.did}),
    )
    .await
    .expect_problem(409, "conflict");

    // The DID document: public, cached, and what the service's resolver reads.
    let reply = app.get("/issuers/utility-a/did.json", None).await;
    assert_eq!(
        reply.headers["cache-control"].to_str().unwrap(),
        "public, max-age=300"
    );
    let document = reply.expect(200);
    assert_eq!(document["id"], did);
    assert_eq!(document["assertionMethod"], json!([format!("{did}#key-1")]));
    let resolved = Resolver::new(&app.state).resolve(&did).await.unwrap();
    let method = resolved.verification_methods()[0].clone();
    assert_eq!(method.id, format!("{did}#key-1"));
    assert!(resolved.is_authorized(&method.id, ProofPurpose::AssertionMethod));
    assert_eq!(
        method.key.to_multibase(),
        issuer["keys"][0]["publicKeyMultibase"].as_str().unwrap()
    );
    app.get("/issuers/nobody/did.json", None)
        .await
        .expect_problem(404, "not_found");

    // The secret half is stored sealed: the row does not contain the seed.
    let (key_id, public, sealed): (String, String, Vec<u8>) = app
        .state
        .db
        .read(|conn| {
            Ok::<_, StoreError>(
                service_keys::table
                    .select((
                        service_keys::id,
                        service_keys::public_key,
                        service_keys::sealed_secret,
                    ))
                    .first(conn)?,
            )
        })
        .await
        .unwrap();
    let seed = app.state.sealer.open(&key_id, &sealed).unwrap();
    let seed: [u8; 32] = seed.as_slice().try_into().unwrap();
    assert!(!sealed.windows(32).any(|w| w == seed));
    assert_eq!(
        SecretKey::from_bytes(&seed).public_key().to_multibase(),
        public
    );
    assert!(app.state.sealer.open("another-key-id", &sealed).is_err());

    // The endpoints are described.
    let api = app.get("/openapi.json", None).await.expect(200);
    for (path, method) in [
        ("/issuers", "post"),
        ("/issuers/{id}/did.json", "get"),
        ("/issuers/{id}/keys/rotate", "post"),
        ("/issuers/{id}/credentials/bulk", "post"),
        ("/credentials/issue", "post"),
        ("/credentials/status", "post"),
        ("/status-lists", "post"),
        ("/status-lists/{id}", "get"),
        ("/status-lists/{id}", "put"),
        ("/status-lists/{id}/entries", "post"),
    ] {
        assert!(api["paths"][path][method].is_object(), "{method} {path}");
    }

    // Administrative acts are in the audit log.
    let audit = app.get("/admin/audit", Some(&admin)).await.expect(200);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"issuer.create"), "{actions:?}");
    assert!(actions.contains(&"issuer.add_operator"), "{actions:?}");
}
on_both!(issuers_and_their_did_documents);

async fn issued_credentials_verify(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "bank", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    let token = app.login(&operator).await;
    let subject = Identity::random();

    for (suite, name) in [
        (None, "eddsa-rdfc-2022"),
        (Some("eddsa-jcs-2022"), "eddsa-jcs-2022"),
    ] {
        let mut body = json!({"credential": residence(&did, &subject.did)});
        if let Some(suite) = suite {
            body["options"] = json!({"cryptosuite": suite});
        }
        let vc = app
            .post("/credentials/issue", Some(&token), &body)
            .await
            .expect(201)["verifiableCredential"]
            .clone();
        assert_eq!(vc["proof"]["cryptosuite"], name);
        assert_eq!(vc["proof"]["verificationMethod"], format!("{did}#key-1"));
        assert!(vc["id"].as_str().unwrap().starts_with("urn:uuid:"));
        let statuses = vc["credentialStatus"].as_array().unwrap();
        assert_eq!(statuses.len(), 2);
        assert_eq!(statuses[0]["statusPurpose"], "revocation");
        assert_eq!(statuses[1]["statusPurpose"], "suspension");
        for status in statuses {
            let list = status["statusListCredential"].as_str().unwrap();
            assert!(list.starts_with(&format!("{}/status-lists/", app.url)));
            assert_eq!(
                status["id"],
                format!("{list}#{}", status["statusListIndex"].as_str().unwrap())
            );
        }
        let report = verify(&app, &vc).await;
        assert_eq!(report.verdict, Verdict::Valid, "{name}: {report:#?}");
    }
    // `issuer` as an object, an explicit id, and credentialId.
    let mut credential = residence(&did, &subject.did);
    credential["issuer"] = json!({"id": did, "name": "Banque Exemple"});
    let vc = app
        .post(
            "/credentials/issue",
            Some(&token),
            &json!({"credential": credential, "options": {"credentialId": "urn:example:bank:1"}}),
        )
        .await
        .expect(201)["verifiableCredential"]
        .clone();
    assert_eq!(vc["id"], "urn:example:bank:1");
    assert_eq!(verify(&app, &vc).await.verdict, Verdict::Valid);
    // The same id again is refused rather than issued twice.
    app.post(
        "/credentials/issue",
        Some(&token),
        &json!({"credential": residence(&did, &subject.did), "options": {"credentialId": "urn:example:bank:1"}}),
    )
    .await
    .expect_problem(409, "conflict");

    // What is kept: metadata, listed for the issuer's operators.
    let page = app
        .get("/issuers/bank/credentials", Some(&token))
        .await
        .expect(200);
    assert_eq!(page["total"], 3);
    let first = &page["credentials"][0];
    assert_eq!(first["type"], "ResidenceAttestation");
    assert_eq!(first["subject"], subject.did);
    assert_eq!(first["keyId"], format!("{did}#key-1"));
    assert_eq!(first["suspended"], false);
    assert_eq!(first["fingerprint"].as_str().unwrap().len(), 64);
    let page = app
        .get("/issuers/bank/credentials?limit=1&offset=1", Some(&token))
        .await
        .expect(200);
    assert_eq!(page["credentials"].as_array().unwrap().len(), 1);
    app.get("/issuers/bank/credentials?limit=0", Some(&token))
        .await
        .expect_problem(400, "invalid_parameter");

    // Bad credentials: the reason is given and nothing is kept.
    let mut bad_schema = residence(&did, &subject.did);
    bad_schema["credentialSubject"]["residence"]["address"]["country"] = json!("Belgium");
    // No fact schema for this type, so only JSON-LD expansion can refuse the undefined term.
    let undefined_term = |did: &str| {
        json!({"@context": ["https://www.w3.org/ns/credentials/v2"],
               "type": ["VerifiableCredential"], "issuer": did,
               "credentialSubject": {"id": subject.did, "favouriteColour": "blue"}})
    };
    let mut with_status = residence(&did, &subject.did);
    with_status["credentialStatus"] = json!({"type": "BitstringStatusListEntry"});
    let mut expired = residence(&did, &subject.did);
    expired["validUntil"] = json!("2020-01-01T00:00:00Z");
    let mut no_context = residence(&did, &subject.did);
    no_context.as_object_mut().unwrap().remove("@context");
    for (bad, reason) in [
        (bad_schema, "schema"),
        (undefined_term(&did), "JSON-LD"),
        (with_status, "credentialStatus"),
        (expired, "validUntil"),
        (no_context, "not a valid credential"),
        (json!("a string"), "issuer"),
    ] {
        let problem = app
            .post(
                "/credentials/issue",
                Some(&token),
                &json!({"credential": bad}),
            )
            .await
            .expect_problem(400, "invalid_credential");
        assert!(
            problem["detail"].as_str().unwrap().contains(reason),
            "{problem}"
        );
    }
    let problem = app
        .post(
            "/credentials/issue",
            Some(&token),
            &json!({"credential": undefined_term(&did), "options": {"cryptosuite": "eddsa-jcs-2022"}}),
        )
        .await
        .expect_problem(400, "invalid_credential");
    assert!(
        problem["detail"].as_str().unwrap().contains("JSON-LD"),
        "{problem}"
    );
    app.post(
        "/credentials/issue",
        Some(&token),
        &json!({"credential": residence(&did, &subject.did), "options": {"cryptosuite": "bbs-2023"}}),
    )
    .await
    .expect_problem(400, "invalid_body");
    app.post(
        "/credentials/issue",
        Some(&token),
        &json!({"credential": residence(&did, &subject.did), "extra": 1}),
    )
    .await
    .expect_problem(400, "invalid_body");
    assert_eq!(count_issued(&app).await, 3);

    // Only operators of the named issuer: a stranger, and an operator of another issuer.
    let stranger = Identity::random();
    let stranger_token = app.login(&stranger).await;
    app.post(
        "/credentials/issue",
        Some(&stranger_token),
        &json!({"credential": residence(&did, &subject.did)}),
    )
    .await
    .expect_problem(403, "forbidden");
    let other = Identity::random();
    create_issuer(&app, &admin, "carrier", &other).await;
    let other_token = app.login(&other).await;
    app.post(
        "/credentials/issue",
        Some(&other_token),
        &json!({"credential": residence(&did, &subject.did)}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get("/issuers/bank/credentials", Some(&other_token))
        .await
        .expect_problem(403, "forbidden");
    app.post(
        "/credentials/issue",
        None,
        &json!({"credential": residence(&did, &subject.did)}),
    )
    .await
    .expect_problem(401, "unauthenticated");
    assert_eq!(count_issued(&app).await, 3);
}
on_both!(issued_credentials_verify);

async fn issuance_is_idempotent_and_bulk_keeps_going(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "carrier", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    let token = app.login(&operator).await;
    let subject = Identity::random();

    let body = json!({"credential": residence(&did, &subject.did)});
    let first = app
        .post_once("/credentials/issue", &token, "key-1", &body)
        .await
        .expect(201);
    let again = app
        .post_once("/credentials/issue", &token, "key-1", &body)
        .await
        .expect(201);
    assert_eq!(first, again);
    assert_eq!(count_issued(&app).await, 1);
    let mut other = residence(&did, &subject.did);
    other["credentialSubject"]["residence"]["since"] = json!("2022-01-01");
    app.post_once(
        "/credentials/issue",
        &token,
        "key-1",
        &json!({"credential": other}),
    )
    .await
    .expect_problem(409, "idempotency_key_reused");
    assert_eq!(count_issued(&app).await, 1);

    // Bulk: the bad row is reported, the others are issued; the issuer may be left out.
    let mut without_issuer = residence(&did, &subject.did);
    without_issuer.as_object_mut().unwrap().remove("issuer");
    let mut bad = residence(&did, &subject.did);
    bad["credentialSubject"]["residence"]
        .as_object_mut()
        .unwrap()
        .remove("address");
    let bulk = json!({"credentials": [residence(&did, &subject.did), bad, without_issuer,
                                      residence("did:web:elsewhere.example", &subject.did)]});
    let answer = app
        .post_once("/issuers/carrier/credentials/bulk", &token, "bulk-1", &bulk)
        .await
        .expect(200);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for ok in [0, 2] {
        assert_eq!(results[ok]["index"], ok);
        let vc = &results[ok]["verifiableCredential"];
        assert_eq!(verify(&app, vc).await.verdict, Verdict::Valid, "{vc:#}");
    }
    for failed in [1, 3] {
        assert_eq!(results[failed]["index"], failed);
        assert!(results[failed].get("verifiableCredential").is_none());
        assert_eq!(results[failed]["problem"]["code"], "invalid_credential");
    }
    assert_eq!(count_issued(&app).await, 3);
    // The bulk's key covers the whole answer.
    let replay = app
        .post_once("/issuers/carrier/credentials/bulk", &token, "bulk-1", &bulk)
        .await
        .expect(200);
    assert_eq!(replay, answer);
    assert_eq!(count_issued(&app).await, 3);
    // The failed items left no status entries behind: two per issued credential.
    let entries: i64 = app
        .state
        .db
        .read(|conn| Ok::<_, StoreError>(status_entries::table.count().get_result(conn)?))
        .await
        .unwrap();
    assert_eq!(entries, 6);

    // Limits and who may.
    let too_many: Vec<Value> = (0..=app.state.settings.limits.bulk_items)
        .map(|_| json!({}))
        .collect();
    app.post(
        "/issuers/carrier/credentials/bulk",
        Some(&token),
        &json!({"credentials": too_many}),
    )
    .await
    .expect_problem(400, "too_many_items");
    let stranger_token = app.login(&Identity::random()).await;
    app.post(
        "/issuers/carrier/credentials/bulk",
        Some(&stranger_token),
        &json!({"credentials": [residence(&did, &subject.did)]}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        "/issuers/nobody/credentials/bulk",
        Some(&token),
        &json!({"credentials": []}),
    )
    .await
    .expect_problem(404, "not_found");
}
on_both!(issuance_is_idempotent_and_bulk_keeps_going);

async fn rotation_keeps_old_credentials_valid(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "hospital", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    let token = app.login(&operator).await;
    let subject = Identity::random();

    let before = issue(&app, &token, residence(&did, &subject.did)).await;
    let stranger_token = app.login(&Identity::random()).await;
    app.post(
        "/issuers/hospital/keys/rotate",
        Some(&stranger_token),
        &json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
    let rotated = app
        .post("/issuers/hospital/keys/rotate", Some(&token), &json!({}))
        .await
        .expect(201);
    assert_eq!(rotated["key"]["id"], format!("{did}#key-2"));
    assert_eq!(rotated["retired"], format!("{did}#key-1"));
    // An admin may rotate too.
    let again = app
        .post("/issuers/hospital/keys/rotate", Some(&admin), &json!({}))
        .await
        .expect(201);
    assert_eq!(again["key"]["id"], format!("{did}#key-3"));

    let after = issue(&app, &token, residence(&did, &subject.did)).await;
    assert_eq!(
        before["proof"]["verificationMethod"],
        format!("{did}#key-1")
    );
    assert_eq!(after["proof"]["verificationMethod"], format!("{did}#key-3"));
    for vc in [&before, &after] {
        let report = verify(&app, vc).await;
        assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    }
    let document = app
        .get("/issuers/hospital/did.json", None)
        .await
        .expect(200);
    assert_eq!(document["verificationMethod"].as_array().unwrap().len(), 3);
    assert_eq!(document["assertionMethod"].as_array().unwrap().len(), 3);
    let view = app.get("/issuers/hospital", Some(&token)).await.expect(200);
    let keys = view["keys"].as_array().unwrap();
    assert!(keys[0]["retired"].is_string() && keys[1]["retired"].is_string());
    assert!(keys[2].get("retired").is_none());
    // Revoking a credential signed before the rotation re-signs its list with the new key.
    let revocation = entry(&before, "revocation");
    app.post(
        "/credentials/status",
        Some(&token),
        &json!({"credentialId": before["id"], "status": true,
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
    )
    .await
    .expect(200);
    let url = revocation["statusListCredential"].as_str().unwrap();
    let list = app
        .get(url.strip_prefix(&app.url).unwrap(), None)
        .await
        .expect(200);
    assert_eq!(list["proof"]["verificationMethod"], format!("{did}#key-3"));
    assert_eq!(
        revoked_for(&verify(&app, &before).await).as_deref(),
        Some("revocation")
    );
    assert_eq!(verify(&app, &after).await.verdict, Verdict::Valid);

    let audit = app.get("/admin/audit", Some(&admin)).await.expect(200);
    let rotations = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "issuer.rotate_key")
        .count();
    assert_eq!(rotations, 2);
}
on_both!(rotation_keeps_old_credentials_valid);

async fn revocation_and_suspension(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "utility", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    let token = app.login(&operator).await;
    let subject = Identity::random();
    let vc = issue(&app, &token, residence(&did, &subject.did)).await;
    let id = vc["id"].as_str().unwrap().to_owned();
    let revocation = entry(&vc, "revocation");
    let suspension = entry(&vc, "suspension");
    let update = |purpose: &str, status: bool| {
        json!({"credentialId": id, "status": status,
               "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose}})
    };

    // Another issuer's operator, and a stranger, cannot touch it.
    let other = Identity::random();
    create_issuer(&app, &admin, "other", &other).await;
    let other_token = app.login(&other).await;
    app.post(
        "/credentials/status",
        Some(&other_token),
        &update("revocation", true),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        "/credentials/status",
        Some(&token),
        &json!({"credentialId": "urn:uuid:unknown", "status": true,
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
    )
    .await
    .expect_problem(404, "not_found");
    // Bad requests.
    app.post(
        "/credentials/status",
        Some(&token),
        &json!({"credentialId": id, "status": true,
                "credentialStatus": {"type": "StatusList2021Entry", "statusPurpose": "revocation"}}),
    )
    .await
    .expect_problem(400, "invalid_body");
    app.post(
        "/credentials/status",
        Some(&token),
        &update("refresh", true),
    )
    .await
    .expect_problem(400, "invalid_body");
    let mut wrong_index = update("revocation", true);
    wrong_index["credentialStatus"]["statusListIndex"] = json!("999999");
    app.post("/credentials/status", Some(&token), &wrong_index)
        .await
        .expect_problem(400, "invalid_body");
    assert!(!bit(&app, &revocation).await);

    // Suspension comes and goes.
    let answer = app
        .post(
            "/credentials/status",
            Some(&token),
            &update("suspension", true),
        )
        .await
        .expect(200);
    assert_eq!(answer["changed"], true);
    assert_eq!(answer["credentialStatus"], suspension);
    assert!(bit(&app, &suspension).await);
    assert_eq!(
        revoked_for(&verify(&app, &vc).await).as_deref(),
        Some("suspension")
    );
    let again = app
        .post(
            "/credentials/status",
            Some(&token),
            &update("suspension", true),
        )
        .await
        .expect(200);
    assert_eq!(again["changed"], false);
    app.post(
        "/credentials/status",
        Some(&token),
        &update("suspension", false),
    )
    .await
    .expect(200);
    assert!(!bit(&app, &suspension).await);
    assert_eq!(verify(&app, &vc).await.verdict, Verdict::Valid);

    // Revocation is final.
    let mut exact = update("revocation", true);
    exact["credentialStatus"] = revocation.clone();
    let answer = app
        .post("/credentials/status", Some(&token), &exact)
        .await
        .expect(200);
    assert_eq!(answer["changed"], true);
    assert!(bit(&app, &revocation).await);
    let report = verify(&app, &vc).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(revoked_for(&report).as_deref(), Some("revocation"));
    app.post(
        "/credentials/status",
        Some(&token),
        &update("revocation", true),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        "/credentials/status",
        Some(&token),
        &update("revocation", false),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        "/credentials/status",
        Some(&token),
        &update("suspension", true),
    )
    .await
    .expect_problem(409, "conflict");
    let revoked_at: Option<i64> = {
        let id = id.clone();
        app.state
            .db
            .read(move |conn| {
                Ok::<_, StoreError>(
                    issued_credentials::table
                        .filter(issued_credentials::id.eq(id))
                        .select(issued_credentials::revoked_at)
                        .first(conn)?,
                )
            })
            .await
            .unwrap()
    };
    assert!(revoked_at.is_some());
    let page = app
        .get("/issuers/utility/credentials", Some(&token))
        .await
        .expect(200);
    assert!(page["credentials"][0]["revoked"].is_string());
}
on_both!(revocation_and_suspension);

async fn status_lists_are_served_with_cache_headers(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "cache", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    let token = app.login(&operator).await;
    let vc = issue(&app, &token, residence(&did, &Identity::random().did)).await;
    let revocation = entry(&vc, "revocation");
    let url = revocation["statusListCredential"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = url.strip_prefix(&app.url).unwrap().to_owned();

    let reply = app.get(&path, None).await;
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(
        reply.headers["cache-control"].to_str().unwrap(),
        "public, max-age=60"
    );
    let etag = reply.headers["etag"].to_str().unwrap().to_owned();
    let list = reply.expect(200);
    assert_eq!(list["id"], url);
    assert_eq!(list["issuer"], did);
    assert_eq!(list["credentialSubject"]["statusPurpose"], "revocation");
    assert_eq!(
        decode_list(list["credentialSubject"]["encodedList"].as_str().unwrap())
            .unwrap()
            .len_bits(),
        131_072
    );

    let send = |headers: Vec<(&'static str, String)>| {
        let mut request = app.client.get(format!("{}{path}", app.url));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        app.send(request)
    };
    let typed = send(vec![("Accept", "application/vc+ld+json".into())]).await;
    assert_eq!(typed.content_type, "application/vc+ld+json");
    let unchanged = send(vec![("If-None-Match", etag.clone())]).await;
    assert_eq!(unchanged.status.as_u16(), 304);
    assert_eq!(unchanged.headers["etag"].to_str().unwrap(), etag);
    assert!(unchanged.headers.contains_key("cache-control"));
    let other_tag = send(vec![("If-None-Match", "\"something-else\"".into())]).await;
    assert_eq!(other_tag.status.as_u16(), 200);

    // A change makes a new version: the old tag no longer matches.
    app.post(
        "/credentials/status",
        Some(&token),
        &json!({"credentialId": vc["id"], "status": true,
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
    )
    .await
    .expect(200);
    let changed = send(vec![("If-None-Match", etag.clone())]).await;
    assert_eq!(changed.status.as_u16(), 200);
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);

    app.get("/status-lists/000000000000ffffffffffffffff", None)
        .await
        .expect_problem(404, "not_found");
}
on_both!(status_lists_are_served_with_cache_headers);

async fn random_indexes_are_distinct(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "many", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    let token = app.login(&operator).await;
    let n = 60;
    let credentials: Vec<Value> = (0..n)
        .map(|_| residence(&did, &Identity::random().did))
        .collect();
    let answer = app
        .post(
            "/issuers/many/credentials/bulk",
            Some(&token),
            &json!({"credentials": credentials, "options": {"cryptosuite": "eddsa-jcs-2022"}}),
        )
        .await
        .expect(200);
    let mut lists = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for result in answer["results"].as_array().unwrap() {
        let vc = &result["verifiableCredential"];
        for purpose in ["revocation", "suspension"] {
            let status = entry(vc, purpose);
            lists.insert(status["statusListCredential"].as_str().unwrap().to_owned());
            let index: u64 = status["statusListIndex"].as_str().unwrap().parse().unwrap();
            indexes.insert((purpose, index));
        }
    }
    // One list per purpose; every index distinct within it; spread over the whole list rather
    // than counting up from zero.
    assert_eq!(lists.len(), 2);
    assert_eq!(indexes.len(), 2 * n);
    let revocation: Vec<u64> = indexes
        .iter()
        .filter(|(p, _)| *p == "revocation")
        .map(|(_, i)| *i)
        .collect();
    assert!(revocation.iter().any(|i| *i > 1_000), "{revocation:?}");
    assert!(revocation.iter().all(|i| *i < 131_072));
}
on_both!(random_indexes_are_distinct);

async fn person_lists_are_published_by_their_owner(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let person = Identity::random();
    // An accredited attester (any category but government gives the attester role).
    app.post(
        "/registry/accreditations",
        Some(&admin),
        &json!({"did": person.did, "category": "utility",
                "fact_types": ["ResidenceAttestation"], "controller": "BE0999.000.101",
                "jurisdiction": "BE", "valid_from": "2024-01-01T00:00:00Z"}),
    )
    .await
    .expect(201);
    let token = app.login(&person).await;
    let citizen_token = app.login(&Identity::random()).await;
    app.post(
        "/status-lists",
        Some(&citizen_token),
        &json!({"purpose": "revocation"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        "/status-lists",
        Some(&token),
        &json!({"purpose": "message"}),
    )
    .await
    .expect_problem(400, "invalid_body");
    let created = app
        .post(
            "/status-lists",
            Some(&token),
            &json!({"purpose": "revocation"}),
        )
        .await
        .expect(201);
    let url = created["url"].as_str().unwrap().to_owned();
    let path = url.strip_prefix(&app.url).unwrap().to_owned();
    app.get(&path, None).await.expect_problem(404, "not_found");

    // Reserving indexes: owner only; a retry with the same key gets the same index.
    let entries = format!("{path}/entries");
    app.post(&entries, Some(&citizen_token), &json!({}))
        .await
        .expect_problem(403, "forbidden");
    let reserved = app
        .post_once(&entries, &token, "reserve-1", &json!({}))
        .await
        .expect(201);
    let retried = app
        .post_once(&entries, &token, "reserve-1", &json!({}))
        .await
        .expect(201);
    assert_eq!(reserved, retried);
    let second = app
        .post(&entries, Some(&token), &json!({}))
        .await
        .expect(201);
    assert_ne!(second["index"], reserved["index"]);
    let index = reserved["index"].as_u64().unwrap();
    assert_eq!(reserved["statusListCredential"], url);
    assert_eq!(
        reserved["credentialStatus"]["statusListIndex"],
        index.to_string()
    );

    // The person signs a credential naming that entry.
    let subject = Identity::random();
    let mut credential = residence(&person.did, &subject.did);
    credential["id"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    credential["credentialStatus"] = reserved["credentialStatus"].clone();
    let now = Utc::now();
    let signed = add_proof(
        &credential,
        &person.key,
        &ProofOptions::assertion(Cryptosuite::EddsaJcs2022, person.vm.clone(), now),
    )
    .await
    .unwrap();
    // Unpublished: its status cannot be checked.
    assert_eq!(verify(&app, &signed).await.verdict, Verdict::Indeterminate);

    let list = |signer: &Identity, issuer: &str, id: &str, bits: &BitstringBuilder| {
        let unsigned = status_list_credential(
            issuer,
            id,
            StatusPurpose::Revocation,
            bits,
            now - Duration::minutes(1),
        );
        let options = ProofOptions::assertion(Cryptosuite::EddsaRdfc2022, signer.vm.clone(), now);
        let key = signer.key.clone();
        async move { add_proof(&unsigned, &key, &options).await.unwrap() }
    };
    let empty = BitstringBuilder::minimum();
    let v1 = list(&person, &person.did, &url, &empty).await;
    let published = app.put(&path, Some(&token), &v1).await.expect(200);
    assert_eq!(published["version"], 1);
    assert_eq!(published["newlySet"], 0);
    assert_eq!(app.get(&path, None).await.expect(200), v1);
    assert_eq!(verify(&app, &signed).await.verdict, Verdict::Valid);

    // Refusals: another caller, another signer, another issuer, another URL, too short.
    let mut revoked = BitstringBuilder::minimum();
    revoked.set(index).unwrap();
    let v2 = list(&person, &person.did, &url, &revoked).await;
    app.put(&path, Some(&citizen_token), &v2)
        .await
        .expect_problem(403, "forbidden");
    let impostor = Identity::random();
    let forged = list(&impostor, &person.did, &url, &revoked).await;
    app.put(&path, Some(&token), &forged)
        .await
        .expect_problem(422, "verification_failed");
    let foreign = list(&impostor, &impostor.did, &url, &revoked).await;
    app.put(&path, Some(&token), &foreign)
        .await
        .expect_problem(400, "invalid_credential");
    let elsewhere = list(
        &person,
        &person.did,
        "https://elsewhere.example/list",
        &revoked,
    )
    .await;
    app.put(&path, Some(&token), &elsewhere)
        .await
        .expect_problem(400, "invalid_credential");
    let mut short = status_list_credential(
        &person.did,
        &url,
        StatusPurpose::Revocation,
        &revoked,
        now - Duration::minutes(1),
    );
    short["credentialSubject"]["encodedList"] = json!(encode_list(&[0u8; 1024]));
    let short = add_proof(
        &short,
        &person.key,
        &ProofOptions::assertion(Cryptosuite::EddsaJcs2022, person.vm.clone(), now),
    )
    .await
    .unwrap();
    app.put(&path, Some(&token), &short)
        .await
        .expect_problem(400, "invalid_credential");
    assert_eq!(app.get(&path, None).await.expect(200), v1);

    // The revocation is published: the credential is revoked.
    let published = app.put(&path, Some(&token), &v2).await.expect(200);
    assert_eq!(published["version"], 2);
    assert_eq!(published["newlySet"], 1);
    let report = verify(&app, &signed).await;
    assert_eq!(revoked_for(&report).as_deref(), Some("revocation"));
    // ... and cannot be taken back.
    let v3 = list(&person, &person.did, &url, &empty).await;
    app.put(&path, Some(&token), &v3)
        .await
        .expect_problem(409, "conflict");

    // Hosted lists are not the owner's to upload.
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "hosted", &operator).await;
    let operator_token = app.login(&operator).await;
    let vc = issue(
        &app,
        &operator_token,
        residence(issuer["did"].as_str().unwrap(), &subject.did),
    )
    .await;
    let hosted = entry(&vc, "revocation")["statusListCredential"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.url)
        .unwrap()
        .to_owned();
    app.put(&hosted, Some(&operator_token), &v2)
        .await
        .expect_problem(403, "forbidden");
    app.post(
        &format!("{hosted}/entries"),
        Some(&operator_token),
        &json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
}
on_both!(person_lists_are_published_by_their_owner);

/// Shrinks every list to `bits` usable indexes, so that filling one takes a few requests (a
/// real list has 131,072).
async fn shrink_lists(app: &TestApp, bits: i64) {
    use corroborate_backend::db::schema::status_lists;
    app.state
        .db
        .write::<_, StoreError, _>(move |conn| {
            diesel::update(status_lists::table)
                .set(status_lists::size_bits.eq(bits))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn full_lists_roll_over_or_refuse(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = create_issuer(&app, &admin, "small", &operator).await;
    let did = issuer["did"].as_str().unwrap().to_owned();
    let token = app.login(&operator).await;

    // Hosted: when the open list is full, the next credential opens a new one.
    let first = issue(&app, &token, residence(&did, &Identity::random().did)).await;
    // Two usable indexes: the first credential holds one of them only if it drew 0 or 1.
    shrink_lists(&app, 2).await;
    let list_of = |vc: &Value| entry(vc, "revocation")["statusListCredential"].clone();
    let index_of = |vc: &Value| -> u64 {
        entry(vc, "revocation")["statusListIndex"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let free = if index_of(&first) < 2 { 1 } else { 2 };
    let mut vcs = vec![first];
    for _ in 0..3 {
        vcs.push(issue(&app, &token, residence(&did, &Identity::random().did)).await);
    }
    assert_eq!(list_of(&vcs[0]), list_of(&vcs[free]));
    assert_ne!(list_of(&vcs[0]), list_of(&vcs[free + 1]));
    let mut first_list: Vec<u64> = vcs[..=free]
        .iter()
        .map(index_of)
        .filter(|i| *i < 2)
        .collect();
    first_list.sort();
    assert_eq!(first_list, vec![0, 1]);
    for vc in &vcs {
        assert_eq!(verify(&app, vc).await.verdict, Verdict::Valid);
    }

    // Published: every index reserved, then a refusal.
    let person = Identity::random();
    app.post(
        "/issuers/small/operators",
        Some(&admin),
        &json!({"did": person.did}),
    )
    .await
    .expect(201);
    let person_token = app.login(&person).await;
    let created = app
        .post(
            "/status-lists",
            Some(&person_token),
            &json!({"purpose": "suspension"}),
        )
        .await
        .expect(201);
    shrink_lists(&app, 4).await;
    let entries = format!("/status-lists/{}/entries", created["id"].as_str().unwrap());
    let mut reserved = BTreeSet::new();
    for _ in 0..4 {
        let answer = app
            .post(&entries, Some(&person_token), &json!({}))
            .await
            .expect(201);
        reserved.insert(answer["index"].as_u64().unwrap());
    }
    assert_eq!(reserved, BTreeSet::from([0, 1, 2, 3]));
    app.post(&entries, Some(&person_token), &json!({}))
        .await
        .expect_problem(409, "conflict");
}
on_both!(full_lists_roll_over_or_refuse);
