//! The attestation exchange: a citizen's request, attesters' answers checked against what was
//! asked, the one-time open link, collection, withdrawal, and the purge of personal content.
//! Credentials are signed here as a wallet signs them (`proof::add_proof`, eddsa-jcs-2022).

use crate::on_both;
use crate::support::{Dialect, Identity, TestApp, spawn, spawn_with};
use chrono::{Timelike, Utc};
use corroborate_backend::db::StoreError;
use corroborate_backend::db::schema::{attestation_requests, attestation_responses};
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::proof::{self, Cryptosuite, ProofOptions};
use diesel::prelude::*;
use serde_json::{Value, json};

const EXAMPLE: &str = include_str!("../../../schemas/examples/residence-neighbour.json");

fn example() -> Value {
    serde_json::from_str(EXAMPLE).unwrap()
}

/// The residence the example attests (an address with its register identifier, and a date).
fn residence() -> Value {
    example()["credentialSubject"]["residence"].clone()
}

/// The example credential, unsigned, by `attester` about `subject`, stating `residence`; valid
/// from a second ago and without a status entry.
fn unsigned(attester: &Identity, subject: &str, residence: Value) -> Value {
    let mut credential = example();
    credential["id"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    credential["issuer"] = json!(attester.did);
    credential["validFrom"] = json!(rfc3339(a_second_ago()));
    credential["credentialSubject"]["id"] = json!(subject);
    credential["credentialSubject"]["residence"] = residence;
    credential
        .as_object_mut()
        .unwrap()
        .remove("credentialStatus");
    credential
}

fn a_second_ago() -> chrono::DateTime<Utc> {
    let now = Utc::now() - chrono::Duration::seconds(1);
    now.with_nanosecond(0).unwrap()
}

/// Signs as a wallet does: an assertion proof by `signer`'s did:key.
async fn sign(signer: &Identity, credential: &Value) -> Value {
    let options =
        ProofOptions::assertion(Cryptosuite::EddsaJcs2022, signer.vm.clone(), a_second_ago());
    proof::add_proof(credential, &signer.key, &options)
        .await
        .unwrap()
}

async fn attestation(attester: &Identity, subject: &str, residence: Value) -> Value {
    sign(attester, &unsigned(attester, subject, residence)).await
}

fn request_body(addressed: &[&Identity]) -> Value {
    json!({
        "fact_type": "ResidenceAttestation",
        "claims": {"residence": residence()},
        "addressed_to": addressed.iter().map(|i| i.did.clone()).collect::<Vec<_>>(),
        "note": "For my registration at the municipality",
    })
}

async fn ask(app: &TestApp, token: &str, body: &Value) -> String {
    let created = app
        .post("/attestation-requests", Some(token), body)
        .await
        .expect(201);
    created["id"].as_str().unwrap().to_owned()
}

async fn answer(app: &TestApp, id: &str, token: &str, body: &Value) -> crate::support::Reply {
    app.post(
        &format!("/attestation-requests/{id}/responses"),
        Some(token),
        body,
    )
    .await
}

/// (claims, note, state, keep) of a request row, or `None` when it is gone.
type RequestContent = (Option<String>, Option<String>, String, bool);

async fn request_row(app: &TestApp, id: &str) -> Option<RequestContent> {
    let id = id.to_owned();
    app.state
        .db
        .read(move |conn| {
            Ok(attestation_requests::table
                .filter(attestation_requests::id.eq(id))
                .select((
                    attestation_requests::claims,
                    attestation_requests::note,
                    attestation_requests::state,
                    attestation_requests::keep,
                ))
                .first(conn)
                .optional()?)
        })
        .await
        .unwrap()
}

/// (attester, credential, reason, collected_at) of every answer to a request.
type AnswerContent = (String, Option<String>, Option<String>, Option<i64>);

async fn answer_rows(app: &TestApp, id: &str) -> Vec<AnswerContent> {
    let id = id.to_owned();
    app.state
        .db
        .read(move |conn| {
            Ok(attestation_responses::table
                .filter(attestation_responses::request_id.eq(id))
                .order(attestation_responses::created_at.asc())
                .select((
                    attestation_responses::attester_did,
                    attestation_responses::credential,
                    attestation_responses::reason,
                    attestation_responses::collected_at,
                ))
                .load(conn)?)
        })
        .await
        .unwrap()
}

/// Moves a request's expiry into the past, as if its time had run out.
async fn expire(app: &TestApp, id: &str) {
    let id = id.to_owned();
    let past = Utc::now().timestamp_millis() - 60_000;
    app.state
        .db
        .write::<_, StoreError, _>(move |conn| {
            diesel::update(attestation_requests::table.filter(attestation_requests::id.eq(id)))
                .set(attestation_requests::expires_at.eq(past))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn count_requests(app: &TestApp) -> i64 {
    app.state
        .db
        .read(|conn| Ok(attestation_requests::table.count().get_result(conn)?))
        .await
        .unwrap()
}

async fn addressed_request_round_trip(dialect: Dialect) {
    // Collected answers stay retrievable for a second, then the sweep deletes them.
    let app = spawn_with(dialect, |s| s.exchange.collect_grace_secs = 1).await;
    let (citizen, a, b, stranger) = (
        Identity::random(),
        Identity::random(),
        Identity::random(),
        Identity::random(),
    );
    let (tc, ta, tb, ts) = (
        app.login(&citizen).await,
        app.login(&a).await,
        app.login(&b).await,
        app.login(&stranger).await,
    );
    let created = app
        .post("/attestation-requests", Some(&tc), &request_body(&[&a, &b]))
        .await
        .expect(201);
    assert_eq!(created["state"], "open");
    assert!(created.get("open_token").is_none() && created.get("link").is_none());
    let id = created["id"].as_str().unwrap().to_owned();

    // The attesters find it in their inbox, with exactly what is asked; nobody else does.
    let inbox = app
        .get("/attestation-requests/inbox", Some(&ta))
        .await
        .expect(200);
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox:#}");
    assert_eq!(inbox[0]["id"], id.as_str());
    assert_eq!(inbox[0]["subject"], citizen.did);
    assert_eq!(inbox[0]["fact_type"], "ResidenceAttestation");
    assert_eq!(inbox[0]["claims"], json!({"residence": residence()}));
    assert_eq!(inbox[0]["note"], "For my registration at the municipality");
    assert_eq!(
        inbox[0]["progress"],
        json!([{"attester": a.did, "via": "addressed", "progress": "pending"}])
    );
    for token in [&ts, &tc] {
        let empty = app
            .get("/attestation-requests/inbox", Some(token))
            .await
            .expect(200);
        assert_eq!(empty, json!([]));
    }

    // A signs in their wallet and answers; a second answer is refused.
    let credential = attestation(&a, &citizen.did, residence()).await;
    let receipt = answer(&app, &id, &ta, &json!({"credential": credential}))
        .await
        .expect(201);
    assert_eq!(receipt["progress"], "answered");
    assert_eq!(receipt["request_state"], "answered");
    assert_eq!(receipt["status"], "not_applicable");
    answer(&app, &id, &ta, &json!({"credential": credential}))
        .await
        .expect_problem(409, "conflict");
    let inbox = app
        .get("/attestation-requests/inbox", Some(&ta))
        .await
        .expect(200);
    assert_eq!(inbox, json!([]));

    // The citizen follows the progress per addressee.
    let mine = app
        .get("/attestation-requests", Some(&tc))
        .await
        .expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["state"], "answered");
    assert_eq!(mine[0]["open_link"], "none");
    assert_eq!(mine[0]["keep"], false);
    let progress = &mine[0]["progress"];
    assert_eq!(progress[0]["attester"], a.did);
    assert_eq!(progress[0]["progress"], "answered");
    assert!(progress[0]["answered"].is_string());
    assert_eq!(progress[1]["attester"], b.did);
    assert_eq!(progress[1]["progress"], "pending");

    // B declines, which closes the request; B sees only their own answer.
    let receipt = answer(
        &app,
        &id,
        &tb,
        &json!({"decline": {"reason": "I only moved in last month"}}),
    )
    .await
    .expect(201);
    assert_eq!(receipt["progress"], "declined");
    assert_eq!(receipt["request_state"], "closed");
    let seen = app
        .get(&format!("/attestation-requests/{id}"), Some(&tb))
        .await
        .expect(200);
    assert_eq!(seen["progress"].as_array().unwrap().len(), 1, "{seen:#}");
    assert_eq!(seen["progress"][0]["attester"], b.did);
    assert_eq!(seen["progress"][0]["progress"], "declined");
    assert!(seen.get("open_link").is_none() && seen.get("keep").is_none());

    // The citizen collects; afterwards nothing personal stays in the database.
    let collected = app
        .post(
            &format!("/attestation-requests/{id}/collect"),
            Some(&tc),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(collected["state"], "closed");
    assert_eq!(collected["credentials"].as_array().unwrap().len(), 1);
    assert_eq!(collected["credentials"][0]["attester"], a.did);
    assert_eq!(collected["credentials"][0]["credential"], credential);
    assert_eq!(
        collected["declined"],
        json!([{"attester": b.did, "answered": collected["declined"][0]["answered"],
            "reason": "I only moved in last month"}])
    );
    let (claims, note, state, _) = request_row(&app, &id).await.unwrap();
    assert_eq!((claims, note, state.as_str()), (None, None, "closed"));

    // The answer to a collection may be lost on the way: within the grace period a repeated
    // collection hands over the same items.
    let repeated = app
        .post(
            &format!("/attestation-requests/{id}/collect"),
            Some(&tc),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(repeated["credentials"], collected["credentials"]);
    assert_eq!(repeated["declined"], collected["declined"]);

    // After it, the sweep deletes them: nothing personal stays in the database.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    corroborate_backend::exchange::sweep_expired(&app.state)
        .await
        .unwrap();
    let rows = answer_rows(&app, &id).await;
    assert_eq!(rows.len(), 2);
    for (attester, body, reason, collected_at) in &rows {
        assert!(
            body.is_none() && reason.is_none(),
            "{attester} still holds content"
        );
        assert!(collected_at.is_some());
    }

    // A later collection has nothing left; the progress says what happened.
    let again = app
        .post(
            &format!("/attestation-requests/{id}/collect"),
            Some(&tc),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(again["credentials"], json!([]));
    assert_eq!(again["declined"], json!([]));
    let seen = app
        .get(&format!("/attestation-requests/{id}"), Some(&tc))
        .await
        .expect(200);
    assert_eq!(seen["progress"][0]["progress"], "collected");
    assert_eq!(seen["progress"][1]["progress"], "declined");
    assert_eq!(seen["claims"], Value::Null);

    // Every endpoint is described.
    let api = app.get("/openapi.json", None).await.expect(200);
    for (path, method) in [
        ("/attestation-requests", "post"),
        ("/attestation-requests", "get"),
        ("/attestation-requests/inbox", "get"),
        ("/attestation-requests/{id}", "get"),
        ("/attestation-requests/{id}", "delete"),
        ("/attestation-requests/{id}/responses", "post"),
        ("/attestation-requests/{id}/collect", "post"),
        ("/attestation-requests/open/{token}", "get"),
        ("/attestation-requests/open/{token}/responses", "post"),
    ] {
        assert!(api["paths"][path][method].is_object(), "{method} {path}");
    }
}
on_both!(addressed_request_round_trip);

async fn open_link_is_one_time(dialect: Dialect) {
    let app = spawn(dialect).await;
    let (citizen, a, b) = (Identity::random(), Identity::random(), Identity::random());
    let (tc, ta, tb) = (
        app.login(&citizen).await,
        app.login(&a).await,
        app.login(&b).await,
    );
    let body = json!({
        "fact_type": "ResidenceAttestation",
        "claims": {"residence": residence()},
        "open": true,
        "expires_in_days": 3,
    });
    let created = app
        .post_once("/attestation-requests", &tc, "open-link-1", &body)
        .await
        .expect(201);
    let token = created["open_token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["link"],
        format!("{}/attestation-requests/open/{token}", app.url)
    );

    // A retry with the same key answers the same request and the same token, and creates
    // nothing; the token is stored only as its hash, nowhere in clear.
    let replay = app
        .post_once("/attestation-requests", &tc, "open-link-1", &body)
        .await
        .expect(201);
    assert_eq!(replay, created);
    assert_eq!(count_requests(&app).await, 1);
    let other = json!({"fact_type": "ResidenceAttestation", "claims": {"residence": residence()},
        "open": true});
    app.post_once("/attestation-requests", &tc, "open-link-1", &other)
        .await
        .expect_problem(409, "idempotency_key_reused");
    let stored_token = token.clone();
    let (hash, leaks): (Option<String>, i64) = app
        .state
        .db
        .read(move |conn| {
            use corroborate_backend::db::schema::idempotency_keys;
            let hash = attestation_requests::table
                .select(attestation_requests::open_token_hash)
                .first(conn)?;
            let leaks = idempotency_keys::table
                .filter(idempotency_keys::response.like(format!("%{stored_token}%")))
                .count()
                .get_result(conn)?;
            Ok((hash, leaks))
        })
        .await
        .unwrap();
    assert_eq!(hash, Some(corroborate_backend::auth::token_hash(&token)));
    assert_eq!(leaks, 0);

    // A reviews exactly what is asked, then answers through the link.
    let link = format!("/attestation-requests/open/{token}");
    let seen = app.get(&link, Some(&ta)).await.expect(200);
    assert_eq!(seen["id"], id.as_str());
    assert_eq!(seen["subject"], citizen.did);
    assert_eq!(seen["claims"], json!({"residence": residence()}));
    assert_eq!(
        seen["progress"],
        json!([{"attester": a.did, "via": "open_link", "progress": "pending"}])
    );
    let credential = attestation(&a, &citizen.did, residence()).await;
    let link_answers = format!("{link}/responses");
    // The citizen cannot answer their own link.
    let own = attestation(&citizen, &citizen.did, residence()).await;
    app.post(&link_answers, Some(&tc), &json!({"credential": own}))
        .await
        .expect_problem(403, "forbidden");
    let receipt = app
        .post(&link_answers, Some(&ta), &json!({"credential": credential}))
        .await
        .expect(201);
    assert_eq!(receipt["request_state"], "closed");

    // The link is used up: another attester can neither read nor answer through it.
    app.get(&link, Some(&tb))
        .await
        .expect_problem(409, "conflict");
    let late = attestation(&b, &citizen.did, residence()).await;
    app.post(&link_answers, Some(&tb), &json!({"credential": late}))
        .await
        .expect_problem(409, "conflict");
    app.post(&link_answers, Some(&ta), &json!({"credential": credential}))
        .await
        .expect_problem(409, "conflict");
    app.get("/attestation-requests/open/not-a-token", Some(&ta))
        .await
        .expect_problem(404, "not_found");
    app.get(&link, None)
        .await
        .expect_problem(401, "unauthenticated");

    // The citizen sees who answered through the link; A may read the request they answered.
    let mine = app
        .get(&format!("/attestation-requests/{id}"), Some(&tc))
        .await
        .expect(200);
    assert_eq!(mine["open_link"], "used");
    assert_eq!(mine["progress"][0]["attester"], a.did, "{mine:#}");
    assert_eq!(mine["progress"][0]["via"], "open_link");
    app.get(&format!("/attestation-requests/{id}"), Some(&ta))
        .await
        .expect(200);
    app.get(&format!("/attestation-requests/{id}"), Some(&tb))
        .await
        .expect_problem(404, "not_found");

    // An addressee who follows the link answers as an addressee, and the link stays for
    // someone else.
    let mut both = request_body(&[&a]);
    both["open"] = json!(true);
    let created = app
        .post("/attestation-requests", Some(&tc), &both)
        .await
        .expect(201);
    let token = created["open_token"].as_str().unwrap();
    let credential = attestation(&a, &citizen.did, residence()).await;
    let receipt = app
        .post(
            &format!("/attestation-requests/open/{token}/responses"),
            Some(&ta),
            &json!({"credential": credential}),
        )
        .await
        .expect(201);
    assert_eq!(receipt["request_state"], "answered");
    let mine = app
        .get(
            &format!("/attestation-requests/{}", created["id"].as_str().unwrap()),
            Some(&tc),
        )
        .await
        .expect(200);
    assert_eq!(mine["open_link"], "unused");
    assert_eq!(
        mine["progress"],
        json!([{"attester": a.did, "via": "addressed", "progress": "answered",
            "answered": mine["progress"][0]["answered"]}])
    );
    let receipt = app
        .post(
            &format!("/attestation-requests/open/{token}/responses"),
            Some(&tb),
            &json!({"decline": {}}),
        )
        .await
        .expect(201);
    assert_eq!(receipt["request_state"], "closed");
}
on_both!(open_link_is_one_time);

async fn answers_must_be_what_was_asked(dialect: Dialect) {
    let app = spawn(dialect).await;
    let (citizen, a, d, someone_else) = (
        Identity::random(),
        Identity::random(),
        Identity::random(),
        Identity::random(),
    );
    let (tc, ta, td) = (
        app.login(&citizen).await,
        app.login(&a).await,
        app.login(&d).await,
    );
    // The request asks for a street written in NFC with single spaces.
    let mut asked = residence();
    asked["address"]["street"] = json!({"fr": "Rue de l'\u{C9}glise"});
    let id = ask(
        &app,
        &tc,
        &json!({"fact_type": "ResidenceAttestation", "claims": {"residence": asked},
            "addressed_to": [a.did, d.did]}),
    )
    .await;
    let refused = |credential: Value| {
        let app = &app;
        let id = id.clone();
        let ta = ta.clone();
        async move { answer(app, &id, &ta, &json!({"credential": credential})).await }
    };

    // Tampered after signing: the proof no longer verifies.
    let mut tampered = attestation(&a, &citizen.did, asked.clone()).await;
    tampered["credentialSubject"]["attesterRelation"]["since"] = json!("2010-01-01");
    let problem = refused(tampered)
        .await
        .expect_problem(422, "verification_failed");
    assert_eq!(problem["report"]["verdict"], "invalid", "{problem:#}");

    // About someone else.
    let elsewhere = attestation(&a, &someone_else.did, asked.clone()).await;
    let problem = refused(elsewhere)
        .await
        .expect_problem(422, "verification_failed");
    assert_eq!(problem["differs"], json!(["credentialSubject.id"]));

    // Signed by someone other than the caller.
    let foreign = attestation(&someone_else, &citizen.did, asked.clone()).await;
    let problem = refused(foreign)
        .await
        .expect_problem(422, "verification_failed");
    assert_eq!(problem["differs"], json!(["issuer"]));

    // Claims that differ from the request, named by path.
    let mut later = asked.clone();
    later["since"] = json!("2021-10-01");
    later["address"]["houseNumber"] = json!("29");
    let differing = attestation(&a, &citizen.did, later).await;
    let problem = refused(differing)
        .await
        .expect_problem(422, "verification_failed");
    assert_eq!(
        problem["differs"],
        json!(["/residence/address/houseNumber", "/residence/since"])
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("/residence/since"),
        "{problem:#}"
    );

    // Another fact type.
    let mut other_type = unsigned(&a, &citizen.did, asked.clone());
    other_type["type"] = json!(["VerifiableCredential", "BirthAttestation"]);
    let problem = refused(sign(&a, &other_type).await)
        .await
        .expect_problem(422, "verification_failed");
    assert_eq!(problem["differs"], json!(["type"]));

    // Not a credential at all, or one the fact schema refuses.
    refused(json!("a credential"))
        .await
        .expect_problem(400, "invalid_credential");
    refused(json!({"issuer": a.did}))
        .await
        .expect_problem(400, "invalid_credential");
    let mut extra = unsigned(&a, &citizen.did, asked.clone());
    extra["credentialSubject"]["shoeSize"] = json!(44);
    refused(sign(&a, &extra).await)
        .await
        .expect_problem(400, "invalid_credential");

    // Malformed answers.
    let good = attestation(&a, &citizen.did, asked.clone()).await;
    for body in [
        json!({}),
        json!({"credential": good, "decline": {}}),
        json!({"credential": good, "signature": "x"}),
        json!({"decline": {"reason": "x".repeat(501)}}),
    ] {
        answer(&app, &id, &ta, &body)
            .await
            .expect_problem(400, "invalid_body");
    }
    assert!(
        answer_rows(&app, &id).await.is_empty(),
        "a refusal stored something"
    );

    // The same claims written otherwise (NFD, padded, doubled spaces) are what was asked.
    let mut respelled = asked.clone();
    respelled["address"]["street"] =
        json!({"fr": "  Rue  de l'E\u{301}glise ", "nl": "Kerkstraat"});
    let receipt = answer(
        &app,
        &id,
        &ta,
        &json!({"credential": attestation(&a, &citizen.did, respelled).await}),
    )
    .await
    .expect(201);
    assert_eq!(receipt["status"], "not_applicable");

    // A status list that cannot be read yet: accepted, and the receipt says so.
    let mut listed = unsigned(&d, &citizen.did, asked.clone());
    listed["credentialStatus"] = json!({
        "id": "https://127.0.0.1/lists/person-d#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://127.0.0.1/lists/person-d",
    });
    let receipt = answer(
        &app,
        &id,
        &td,
        &json!({"credential": sign(&d, &listed).await}),
    )
    .await
    .expect(201);
    assert_eq!(receipt["status"], "not_yet_checkable");
    assert_eq!(receipt["request_state"], "closed");
    assert_eq!(answer_rows(&app, &id).await.len(), 2);
}
on_both!(answers_must_be_what_was_asked);

async fn expired_requests_take_no_answer(dialect: Dialect) {
    let app = spawn(dialect).await;
    let (citizen, a) = (Identity::random(), Identity::random());
    let (tc, ta) = (app.login(&citizen).await, app.login(&a).await);
    let id = ask(&app, &tc, &request_body(&[&a])).await;
    expire(&app, &id).await;
    let credential = attestation(&a, &citizen.did, residence()).await;
    answer(&app, &id, &ta, &json!({"credential": credential}))
        .await
        .expect_problem(410, "expired");
    answer(&app, &id, &ta, &json!({"decline": {}}))
        .await
        .expect_problem(410, "expired");
    let inbox = app
        .get("/attestation-requests/inbox", Some(&ta))
        .await
        .expect(200);
    assert_eq!(inbox, json!([]));
    let seen = app
        .get(&format!("/attestation-requests/{id}"), Some(&tc))
        .await
        .expect(200);
    assert_eq!(seen["state"], "expired");
    assert!(answer_rows(&app, &id).await.is_empty());
}
on_both!(expired_requests_take_no_answer);

async fn strangers_can_neither_read_nor_answer(dialect: Dialect) {
    let app = spawn(dialect).await;
    let (citizen, a, stranger) = (Identity::random(), Identity::random(), Identity::random());
    let (tc, ta, ts) = (
        app.login(&citizen).await,
        app.login(&a).await,
        app.login(&stranger).await,
    );
    let id = ask(&app, &tc, &request_body(&[&a])).await;
    let path = format!("/attestation-requests/{id}");

    let theirs = attestation(&stranger, &citizen.did, residence()).await;
    app.get(&path, Some(&ts))
        .await
        .expect_problem(404, "not_found");
    answer(&app, &id, &ts, &json!({"credential": theirs}))
        .await
        .expect_problem(404, "not_found");
    app.post(&format!("{path}/collect"), Some(&ts), &json!({}))
        .await
        .expect_problem(404, "not_found");
    app.delete(&path, Some(&ts))
        .await
        .expect_problem(404, "not_found");
    let theirs = app
        .get("/attestation-requests", Some(&ts))
        .await
        .expect(200);
    assert_eq!(theirs, json!([]));

    // The addressed attester may read and answer, not collect or withdraw.
    app.post(&format!("{path}/collect"), Some(&ta), &json!({}))
        .await
        .expect_problem(403, "forbidden");
    app.delete(&path, Some(&ta))
        .await
        .expect_problem(403, "forbidden");
    // The citizen may not answer their own request.
    let own = attestation(&citizen, &citizen.did, residence()).await;
    answer(&app, &id, &tc, &json!({"credential": own}))
        .await
        .expect_problem(403, "forbidden");
    app.get("/attestation-requests", None)
        .await
        .expect_problem(401, "unauthenticated");
    app.get("/attestation-requests/no-such-id", Some(&tc))
        .await
        .expect_problem(404, "not_found");

    // Nothing of that changed the request.
    assert!(answer_rows(&app, &id).await.is_empty());
    let seen = app.get(&path, Some(&tc)).await.expect(200);
    assert_eq!(seen["state"], "open");
    assert!(seen["claims"].is_object());
}
on_both!(strangers_can_neither_read_nor_answer);

async fn withdrawing_deletes_the_request_and_its_answers(dialect: Dialect) {
    let app = spawn(dialect).await;
    let (citizen, a, b) = (Identity::random(), Identity::random(), Identity::random());
    let (tc, ta, tb) = (
        app.login(&citizen).await,
        app.login(&a).await,
        app.login(&b).await,
    );
    let id = ask(&app, &tc, &request_body(&[&a, &b])).await;
    let kept = ask(&app, &tc, &request_body(&[&a])).await;
    let credential = attestation(&a, &citizen.did, residence()).await;
    answer(&app, &id, &ta, &json!({"credential": credential}))
        .await
        .expect(201);

    let path = format!("/attestation-requests/{id}");
    app.delete(&path, Some(&tc)).await.expect(204);
    assert!(request_row(&app, &id).await.is_none());
    assert!(answer_rows(&app, &id).await.is_empty());
    app.get(&path, Some(&tc))
        .await
        .expect_problem(404, "not_found");
    answer(&app, &id, &tb, &json!({"decline": {}}))
        .await
        .expect_problem(404, "not_found");
    app.delete(&path, Some(&tc))
        .await
        .expect_problem(404, "not_found");
    // The citizen's other request is untouched.
    assert!(request_row(&app, &kept).await.is_some());
    assert_eq!(count_requests(&app).await, 1);
}
on_both!(withdrawing_deletes_the_request_and_its_answers);

async fn sweep_purges_expired_content_unless_kept(dialect: Dialect) {
    // No background maintenance: the test runs the sweep itself.
    let app = spawn_with(dialect, |s| {
        s.maintenance_interval_secs = 0;
        s.exchange.collect_grace_secs = 0;
    })
    .await;
    // Addressed to two attesters, of whom one answers: the requests still take answers.
    let (citizen, a, b) = (Identity::random(), Identity::random(), Identity::random());
    let (tc, ta) = (app.login(&citizen).await, app.login(&a).await);
    let purged_id = ask(&app, &tc, &request_body(&[&a, &b])).await;
    let mut keep = request_body(&[&a, &b]);
    keep["keep"] = json!(true);
    let kept_id = ask(&app, &tc, &keep).await;
    let current_id = ask(&app, &tc, &request_body(&[&a, &b])).await;
    // One whose claims are already gone while an answer still holds a credential: an answer
    // committed just after the citizen's collection purged the request.
    let raced_id = ask(&app, &tc, &request_body(&[&a, &b])).await;
    for id in [&purged_id, &kept_id, &current_id, &raced_id] {
        let credential = attestation(&a, &citizen.did, residence()).await;
        answer(&app, id, &ta, &json!({"credential": credential}))
            .await
            .expect(201);
    }
    expire(&app, &purged_id).await;
    expire(&app, &kept_id).await;
    expire(&app, &raced_id).await;
    let raced = raced_id.clone();
    app.state
        .db
        .write::<_, StoreError, _>(move |conn| {
            diesel::update(attestation_requests::table.filter(attestation_requests::id.eq(raced)))
                .set((
                    attestation_requests::claims.eq(None::<String>),
                    attestation_requests::note.eq(None::<String>),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();

    let purged = corroborate_backend::exchange::sweep_expired(&app.state)
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert!(answer_rows(&app, &raced_id).await[0].1.is_none());
    let (claims, note, state, keep) = request_row(&app, &purged_id).await.unwrap();
    assert_eq!(
        (claims, note, state.as_str(), keep),
        (None, None, "expired", false)
    );
    let rows = answer_rows(&app, &purged_id).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1.is_none(), "an expired credential was kept");

    let (claims, note, state, keep) = request_row(&app, &kept_id).await.unwrap();
    assert!(claims.is_some() && note.is_some() && keep);
    assert_eq!(state, "expired");
    assert!(answer_rows(&app, &kept_id).await[0].1.is_some());

    let (claims, _, state, _) = request_row(&app, &current_id).await.unwrap();
    assert!(claims.is_some());
    assert_eq!(state, "answered");
    assert!(answer_rows(&app, &current_id).await[0].1.is_some());

    // Nothing left to purge.
    assert_eq!(
        corroborate_backend::exchange::sweep_expired(&app.state)
            .await
            .unwrap(),
        0
    );

    // The kept credential can still be collected after expiry; once collected (and the grace
    // period, here none, is over) the sweep deletes it, the claims stay as asked. The purged one
    // has nothing left to hand over.
    let collected = app
        .post(
            &format!("/attestation-requests/{kept_id}/collect"),
            Some(&tc),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(collected["state"], "expired");
    assert_eq!(collected["credentials"].as_array().unwrap().len(), 1);
    corroborate_backend::exchange::sweep_expired(&app.state)
        .await
        .unwrap();
    assert!(answer_rows(&app, &kept_id).await[0].1.is_none());
    assert!(request_row(&app, &kept_id).await.unwrap().0.is_some());
    let nothing = app
        .post(
            &format!("/attestation-requests/{purged_id}/collect"),
            Some(&tc),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(nothing["credentials"], json!([]));
}
on_both!(sweep_purges_expired_content_unless_kept);

async fn new_requests_are_checked(dialect: Dialect) {
    let app = spawn_with(dialect, |s| s.exchange.max_request_days = 20).await;
    let (citizen, a) = (Identity::random(), Identity::random());
    let tc = app.login(&citizen).await;
    let good = request_body(&[&a]);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        change(&mut body);
        body
    };
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "unknown fact type",
            with(&|b| b["fact_type"] = json!("MarriageAttestation")),
            400,
            "invalid_body",
        ),
        (
            "claims missing a required member",
            with(&|b| {
                b["claims"]["residence"]
                    .as_object_mut()
                    .unwrap()
                    .remove("since");
            }),
            400,
            "invalid_credential",
        ),
        (
            "claims setting the attester's relation",
            with(&|b| b["claims"]["attesterRelation"] = json!({"role": "neighbour"})),
            400,
            "invalid_credential",
        ),
        (
            "claims not an object",
            with(&|b| b["claims"] = json!("I live here")),
            400,
            "invalid_credential",
        ),
        (
            "too many addressees",
            with(&|b| {
                b["addressed_to"] =
                    json!((0..21).map(|_| Identity::random().did).collect::<Vec<_>>())
            }),
            400,
            "too_many_items",
        ),
        (
            "an addressee twice",
            with(&|b| b["addressed_to"] = json!([a.did, a.did])),
            400,
            "invalid_body",
        ),
        (
            "addressed to oneself",
            with(&|b| b["addressed_to"] = json!([citizen.did])),
            400,
            "invalid_body",
        ),
        (
            "not a DID",
            with(&|b| b["addressed_to"] = json!(["my neighbour"])),
            400,
            "invalid_body",
        ),
        (
            "nobody to ask",
            with(&|b| b["addressed_to"] = json!([])),
            400,
            "invalid_body",
        ),
        (
            "no days",
            with(&|b| b["expires_in_days"] = json!(0)),
            400,
            "invalid_body",
        ),
        (
            "more days than allowed",
            with(&|b| b["expires_in_days"] = json!(21)),
            400,
            "invalid_body",
        ),
        (
            "a long note",
            with(&|b| b["note"] = json!("x".repeat(501))),
            400,
            "invalid_body",
        ),
        (
            "an unknown field",
            with(&|b| b["deadline"] = json!("tomorrow")),
            400,
            "invalid_body",
        ),
    ];
    for (what, body, status, code) in cases {
        let reply = app.post("/attestation-requests", Some(&tc), &body).await;
        assert_eq!(reply.status.as_u16(), status, "{what}: {:#}", reply.body);
        reply.expect_problem(status, code);
    }
    app.post("/attestation-requests", None, &good)
        .await
        .expect_problem(401, "unauthenticated");
    assert_eq!(count_requests(&app).await, 0);

    // The default expiry is 14 days, the maximum 20 here.
    let created = app
        .post("/attestation-requests", Some(&tc), &good)
        .await
        .expect(201);
    let expires =
        corroborate_verifier::credential::parse_date_time(created["expires"].as_str().unwrap())
            .unwrap();
    let days = (expires - Utc::now()).num_hours() as f64 / 24.0;
    assert!((13.9..=14.0).contains(&days), "{days}");
    app.post(
        "/attestation-requests",
        Some(&tc),
        &with(&|b| b["expires_in_days"] = json!(20)),
    )
    .await
    .expect(201);
    app.get("/attestation-requests?limit=0", Some(&tc))
        .await
        .expect_problem(400, "invalid_parameter");
    let listed = app
        .get("/attestation-requests?limit=1", Some(&tc))
        .await
        .expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}
on_both!(new_requests_are_checked);
