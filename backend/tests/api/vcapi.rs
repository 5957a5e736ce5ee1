//! The VC API verification endpoints: `POST /credentials/verify` and `POST /presentations/verify`,
//! with credentials and presentations signed here by the verifier library, as wallets do.

use crate::on_both;
use crate::support::{Dialect, Identity, TestApp, spawn, spawn_with};
use chrono::{Duration, Utc};
use corroborate_verifier::presentation::{Binding, sign_presentation};
use corroborate_verifier::proof::{Cryptosuite, ProofOptions, add_proof};
use serde_json::{Value, json};

/// A credential of a type no fact schema knows (the examples context defines every term).
fn unsigned(issuer: &Identity, subject: &str) -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2"
        ],
        "id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "type": ["VerifiableCredential", "ExampleMembershipCredential"],
        "issuer": issuer.did,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "memberOf": "The Example Club"}
    })
}

async fn sign_with(issuer: &Identity, credential: &Value, options: ProofOptions) -> Value {
    add_proof(credential, &issuer.key, &options).await.unwrap()
}

async fn sign(issuer: &Identity, credential: &Value, suite: Cryptosuite) -> Value {
    let options =
        ProofOptions::assertion(suite, issuer.vm.clone(), Utc::now() - Duration::minutes(1));
    sign_with(issuer, credential, options).await
}

async fn present(
    holder: &Identity,
    credentials: Vec<Value>,
    challenge: &str,
    domain: &str,
) -> Value {
    sign_presentation(
        &holder.did,
        credentials,
        &holder.key,
        &holder.vm,
        Cryptosuite::EddsaJcs2022,
        &Binding {
            challenge: Some(challenge.to_owned()),
            domain: Some(domain.to_owned()),
            holder_must_be_subject: false,
        },
        Utc::now() - Duration::minutes(1),
    )
    .await
    .unwrap()
}

async fn verify(app: &TestApp, body: &Value) -> crate::support::Reply {
    app.post("/credentials/verify", None, body).await
}

/// The problem `type`s of a verification result, in order.
fn problem_types(result: &Value) -> Vec<String> {
    result["problemDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_signed_credential_verifies(dialect: Dialect) {
    let app = spawn(dialect).await;
    let issuer = Identity::random();
    let subject = Identity::random();
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let credential = sign(&issuer, &unsigned(&issuer, &subject.did), suite).await;
        // The VC API verifier test suite sends `checks: ["proof"]`.
        let result = verify(
            &app,
            &json!({"verifiableCredential": credential, "options": {"checks": ["proof"]}}),
        )
        .await
        .expect(200);
        assert_eq!(result["verified"], true, "{suite}: {result:#}");
        assert_eq!(result["problemDetails"], json!([]));
        assert_eq!(result["results"]["verdict"], "valid");
        // Every required check ran; the schema does not apply to a type without one.
        let checks: Vec<(String, String)> = result["results"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["check"].as_str().unwrap().to_owned(),
                    c["result"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = [
            ("data_model", "passed"),
            ("proof", "passed"),
            ("validity_period", "passed"),
            ("schema", "not_applicable"),
            ("status", "not_applicable"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        assert_eq!(checks, expected);
        assert!(result.get("credential").is_none(), "returned unasked");
    }
    // Asked for, the credential comes back as sent.
    let credential = sign(
        &issuer,
        &unsigned(&issuer, &subject.did),
        Cryptosuite::EddsaJcs2022,
    )
    .await;
    let result = verify(
        &app,
        &json!({"verifiableCredential": credential, "options": {"returnCredential": true}}),
    )
    .await
    .expect(200);
    assert_eq!(result["credential"], credential);
}
on_both!(a_signed_credential_verifies);

async fn a_tampered_credential_does_not_verify(dialect: Dialect) {
    let app = spawn(dialect).await;
    let issuer = Identity::random();
    let mut credential = sign(
        &issuer,
        &unsigned(&issuer, &Identity::random().did),
        Cryptosuite::EddsaRdfc2022,
    )
    .await;
    credential["credentialSubject"]["memberOf"] = json!("Another Club");
    let result = verify(&app, &json!({"verifiableCredential": credential}))
        .await
        .expect(400);
    assert_eq!(result["verified"], false);
    assert_eq!(result["results"]["verdict"], "invalid");
    let problem = &result["problemDetails"][0];
    assert_eq!(
        problem["type"],
        "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
    );
    assert_eq!(problem["code"], -17);
    assert_eq!(problem["title"], "PROOF_VERIFICATION_ERROR");
    assert_eq!(problem["check"], "proof");
    assert_eq!(problem["failure"]["code"], "bad_signature");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("signature does not verify"),
        "{problem:#}"
    );
    assert_eq!(result["problemDetails"].as_array().unwrap().len(), 1);

    // Signed by a key the issuer does not control.
    let impostor = Identity::random();
    let options = ProofOptions::assertion(
        Cryptosuite::EddsaJcs2022,
        impostor.vm.clone(),
        Utc::now() - Duration::minutes(1),
    );
    let forged = sign_with(&impostor, &unsigned(&issuer, &impostor.did), options).await;
    let result = verify(&app, &json!({"verifiableCredential": forged}))
        .await
        .expect(400);
    assert_eq!(
        result["problemDetails"][0]["failure"]["code"],
        "key_not_controlled_by"
    );
}
on_both!(a_tampered_credential_does_not_verify);

async fn credentials_that_break_the_data_model_do_not_verify(dialect: Dialect) {
    let app = spawn(dialect).await;
    let issuer = Identity::random();
    let signed = sign(
        &issuer,
        &unsigned(&issuer, &Identity::random().did),
        Cryptosuite::EddsaJcs2022,
    )
    .await;
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    for member in ["@context", "type", "issuer", "credentialSubject"] {
        let mut broken = signed.clone();
        broken.as_object_mut().unwrap().remove(member);
        cases.push((
            member,
            broken,
            "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
        ));
    }
    let mut no_proof = signed.clone();
    no_proof.as_object_mut().unwrap().remove("proof");
    cases.push((
        "proof",
        no_proof,
        "https://w3id.org/security#PROOF_VERIFICATION_ERROR",
    ));
    let mut expired = unsigned(&issuer, &Identity::random().did);
    expired["validUntil"] = json!("2024-06-01T00:00:00Z");
    let expired = sign(&issuer, &expired, Cryptosuite::EddsaJcs2022).await;
    cases.push((
        "validUntil",
        expired,
        "https://w3id.org/corroborate/failures#expired",
    ));
    for (what, credential, kind) in cases {
        let result = verify(&app, &json!({"verifiableCredential": credential}))
            .await
            .expect(400);
        assert_eq!(result["verified"], false, "{what}");
        assert_eq!(
            problem_types(&result),
            vec![kind.to_owned()],
            "{what}: {result:#}"
        );
    }
}
on_both!(credentials_that_break_the_data_model_do_not_verify);

async fn options_bind_the_proofs(dialect: Dialect) {
    let app = spawn(dialect).await;
    let issuer = Identity::random();
    let mut options = ProofOptions::assertion(
        Cryptosuite::EddsaJcs2022,
        issuer.vm.clone(),
        Utc::now() - Duration::minutes(1),
    );
    options.challenge = Some("nonce-1".into());
    options.domain = Some("https://verifier.example".into());
    let credential = sign_with(&issuer, &unsigned(&issuer, &issuer.did), options).await;
    let with = |options: Value| json!({"verifiableCredential": credential, "options": options});

    let result = verify(
        &app,
        &with(json!({"challenge": "nonce-1", "domain": "https://verifier.example"})),
    )
    .await
    .expect(200);
    assert_eq!(result["verified"], true);

    let result = verify(&app, &with(json!({"challenge": "nonce-2"})))
        .await
        .expect(400);
    assert_eq!(
        problem_types(&result),
        vec!["https://w3id.org/security#INVALID_CHALLENGE_ERROR"]
    );
    let result = verify(&app, &with(json!({"domain": "https://elsewhere.example"})))
        .await
        .expect(400);
    assert_eq!(
        problem_types(&result),
        vec!["https://w3id.org/security#INVALID_DOMAIN_ERROR"]
    );
    let result = verify(
        &app,
        &with(json!({"expectedProofPurpose": "authentication"})),
    )
    .await
    .expect(400);
    assert_eq!(
        result["problemDetails"][0]["failure"]["code"],
        "wrong_proof_purpose"
    );
    verify(
        &app,
        &with(json!({"expectedProofPurpose": "assertionMethod"})),
    )
    .await
    .expect(200);

    // Options not understood are refused, as the VC API requires.
    for options in [
        json!({"expectedProofPurpose": "capabilityInvocation"}),
        json!({"checks": ["telepathy"]}),
        json!({"unknownOption": true}),
        json!({"challenge": 7}),
    ] {
        verify(&app, &with(options.clone()))
            .await
            .expect_problem(400, "invalid_body");
    }
}
on_both!(options_bind_the_proofs);

async fn an_unreachable_status_list_is_never_verified(dialect: Dialect) {
    let app = spawn(dialect).await;
    let issuer = Identity::random();
    let mut credential = unsigned(&issuer, &Identity::random().did);
    // A literal loopback address: the fetcher refuses it without any network traffic.
    credential["credentialStatus"] = json!({
        "id": "https://127.0.0.1:9/lists/1#17",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "17",
        "statusListCredential": "https://127.0.0.1:9/lists/1"
    });
    let credential = sign(&issuer, &credential, Cryptosuite::EddsaRdfc2022).await;
    let result = verify(&app, &json!({"verifiableCredential": credential}))
        .await
        .expect(400);
    assert_eq!(result["verified"], false);
    assert_eq!(result["results"]["verdict"], "indeterminate");
    assert_eq!(
        problem_types(&result),
        vec!["https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR"]
    );
    assert_eq!(result["problemDetails"][0]["code"], -128);
    assert_eq!(result["problemDetails"][0]["check"], "status");
}
on_both!(an_unreachable_status_list_is_never_verified);

async fn bad_requests_are_problems(dialect: Dialect) {
    let app = spawn_with(dialect, |s| s.limits.body_bytes = 8192).await;
    for path in ["/credentials/verify", "/presentations/verify"] {
        for body in [
            b"{".to_vec(),
            b"[]".to_vec(),
            b"{}".to_vec(),
            br#"{"verifiableCredential": {}, "verifiableCredential": {}}"#.to_vec(),
            br#"{"verifiablePresentation": {}, "verifiablePresentation": {}}"#.to_vec(),
            br#"{"presentation": {}}"#.to_vec(),
            br#"{"verifiableCredential": {}, "options": null}"#.to_vec(),
        ] {
            let reply = app
                .post_raw(path, None, "application/json", body.clone())
                .await;
            assert_eq!(
                reply.status.as_u16(),
                400,
                "{path} {}: {:#}",
                String::from_utf8_lossy(&body),
                reply.body
            );
            reply.expect_problem(400, "invalid_body");
        }
        let mut large = br#"{"verifiableCredential": {"pad": ""#.to_vec();
        large.extend(vec![b'a'; 9000]);
        large.extend(br#""}}"#);
        app.post_raw(path, None, "application/json", large)
            .await
            .expect_problem(413, "body_too_large");
    }
}
on_both!(bad_requests_are_problems);

async fn a_bound_presentation_verifies_with_its_credentials(dialect: Dialect) {
    let app = spawn(dialect).await;
    let issuer = Identity::random();
    let holder = Identity::random();
    let credential = sign(
        &issuer,
        &unsigned(&issuer, &holder.did),
        Cryptosuite::EddsaRdfc2022,
    )
    .await;
    let presentation = present(
        &holder,
        vec![credential.clone()],
        "nonce-7",
        "https://verifier.example",
    )
    .await;
    let body = |challenge: &str, domain: &str| {
        json!({
            "verifiablePresentation": presentation,
            "options": {"challenge": challenge, "domain": domain}
        })
    };

    let result = app
        .post(
            "/presentations/verify",
            None,
            &body("nonce-7", "https://verifier.example"),
        )
        .await
        .expect(200);
    assert_eq!(result["verified"], true, "{result:#}");
    assert_eq!(result["problemDetails"], json!([]));
    assert_eq!(
        result["results"]["challenge"],
        json!({"valid": true, "input": "nonce-7"})
    );
    assert_eq!(
        result["results"]["domain"],
        json!({"valid": true, "input": "https://verifier.example"})
    );
    assert_eq!(
        result["results"]["holder"],
        json!({"valid": true, "input": holder.did})
    );
    assert_eq!(result["results"]["proof"][0]["valid"], true);
    assert_eq!(
        result["results"]["proof"][0]["input"],
        presentation["proof"]
    );
    assert_eq!(result["credentialResults"].as_array().unwrap().len(), 1);
    assert_eq!(result["credentialResults"][0]["verified"], true);
    assert!(result.get("verifiablePresentation").is_none());

    // Another challenge: not verified (still 200: the verification itself ran).
    let result = app
        .post(
            "/presentations/verify",
            None,
            &body("nonce-8", "https://verifier.example"),
        )
        .await
        .expect(200);
    assert_eq!(result["verified"], false);
    assert_eq!(result["results"]["challenge"]["valid"], false);
    assert_eq!(
        problem_types(&result),
        vec!["https://w3id.org/security#INVALID_CHALLENGE_ERROR"]
    );
    // Another domain: not verified.
    let result = app
        .post(
            "/presentations/verify",
            None,
            &body("nonce-7", "https://elsewhere.example"),
        )
        .await
        .expect(200);
    assert_eq!(result["verified"], false);
    assert_eq!(result["results"]["domain"]["valid"], false);
    assert_eq!(
        problem_types(&result),
        vec!["https://w3id.org/security#INVALID_DOMAIN_ERROR"]
    );
    // A changed holder: the proof no longer verifies.
    let mut tampered = presentation.clone();
    tampered["holder"] = json!(issuer.did);
    let result = app
        .post(
            "/presentations/verify",
            None,
            &json!({"verifiablePresentation": tampered, "options": {"challenge": "nonce-7", "domain": "https://verifier.example", "returnPresentation": true}}),
        )
        .await
        .expect(200);
    assert_eq!(result["verified"], false);
    assert_eq!(result["results"]["holder"]["valid"], false);
    assert_eq!(result["results"]["proof"][0]["valid"], false);
    assert_eq!(result["verifiablePresentation"], tampered);
}
on_both!(a_bound_presentation_verifies_with_its_credentials);

async fn a_bad_credential_fails_its_presentation(dialect: Dialect) {
    let app = spawn(dialect).await;
    let issuer = Identity::random();
    let holder = Identity::random();
    let good = sign(
        &issuer,
        &unsigned(&issuer, &holder.did),
        Cryptosuite::EddsaJcs2022,
    )
    .await;
    let mut bad = sign(
        &issuer,
        &unsigned(&issuer, &holder.did),
        Cryptosuite::EddsaJcs2022,
    )
    .await;
    bad["credentialSubject"]["memberOf"] = json!("Forged Club");
    let presentation = present(&holder, vec![good, bad], "n", "d.example").await;
    let result = app
        .post(
            "/presentations/verify",
            None,
            &json!({"verifiablePresentation": presentation, "options": {"challenge": "n", "domain": "d.example"}}),
        )
        .await
        .expect(200);
    assert_eq!(result["verified"], false);
    // The presentation itself is fine; its second credential is not.
    assert_eq!(result["results"]["proof"][0]["valid"], true);
    assert_eq!(result["credentialResults"][0]["verified"], true);
    assert_eq!(result["credentialResults"][1]["verified"], false);
    let problem = &result["problemDetails"][0];
    assert_eq!(result["problemDetails"].as_array().unwrap().len(), 1);
    assert_eq!(problem["credentialIndex"], 1);
    assert_eq!(problem["failure"]["code"], "bad_signature");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("credential 1: ")
    );
}
on_both!(a_bad_credential_fails_its_presentation);

async fn hosted_credentials_verify_until_revoked(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let operator = Identity::random();
    let issuer = app
        .post(
            "/issuers",
            Some(&admin),
            &json!({"id": "utility", "name": "Utility", "entity": "BE0123.456.789",
                    "operators": [operator.did]}),
        )
        .await
        .expect(201);
    let token = app.login(&operator).await;
    // A fact with a schema, issued with status entries on this service's own lists.
    let mut credential: Value = serde_json::from_str(include_str!(
        "../../../schemas/examples/residence-utility.json"
    ))
    .unwrap();
    for member in ["id", "credentialStatus", "proof"] {
        credential.as_object_mut().unwrap().remove(member);
    }
    credential["issuer"] = issuer["did"].clone();
    credential["validFrom"] = json!("2024-01-01T00:00:00Z");
    credential["credentialSubject"]["id"] = json!(Identity::random().did);
    let issued = app
        .post(
            "/credentials/issue",
            Some(&token),
            &json!({"credential": credential}),
        )
        .await
        .expect(201)["verifiableCredential"]
        .clone();

    let result = verify(&app, &json!({"verifiableCredential": issued}))
        .await
        .expect(200);
    assert_eq!(result["verified"], true, "{result:#}");
    let outcome = |check: &str| {
        result["results"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check)
            .unwrap()["result"]
            .clone()
    };
    assert_eq!(outcome("schema"), "passed");
    assert_eq!(outcome("status"), "passed");

    app.post(
        "/credentials/status",
        Some(&token),
        &json!({"credentialId": issued["id"], "status": true,
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}),
    )
    .await
    .expect(200);
    let result = verify(&app, &json!({"verifiableCredential": issued}))
        .await
        .expect(400);
    assert_eq!(result["verified"], false);
    assert_eq!(
        problem_types(&result),
        vec!["https://w3id.org/corroborate/failures#revoked"]
    );
    assert_eq!(
        result["problemDetails"][0]["failure"]["purpose"],
        "revocation"
    );
}
on_both!(hosted_credentials_verify_until_revoked);

async fn verification_is_rate_limited(dialect: Dialect) {
    let app = spawn_with(dialect, |s| {
        s.rate_limit.per_second = 1;
        s.rate_limit.burst = 2;
    })
    .await;
    let mut limited = None;
    for _ in 0..5 {
        let reply = app
            .post(
                "/credentials/verify",
                None,
                &json!({"verifiableCredential": {}}),
            )
            .await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
    }
    limited
        .expect("no 429 after the burst")
        .expect_problem(429, "rate_limited");
}
on_both!(verification_is_rate_limited);
