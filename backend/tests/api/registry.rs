//! The trust registry: granting, reading, suspending and revoking accreditations, binding
//! persons, the public export as it was at a time (read back with the verifier's
//! `FileRegistry`), the automatic neighbour accreditations and the audit trail of every act.

use crate::on_both;
use crate::support::{Dialect, Identity, TestApp, spawn};
use chrono::{DateTime, Utc};
use corroborate_backend::db::StoreError;
use corroborate_backend::registry::{grant_neighbour_in, snapshot_in, withdraw_neighbour_in};
use corroborate_verifier::credential::{parse_date_time, rfc3339};
use corroborate_verifier::registry::{FileRegistry, Registry};
use serde_json::{Value, json};

fn utility(did: &str) -> Value {
    json!({
        "did": did,
        "category": "utility",
        "fact_types": ["ResidenceAttestation"],
        "controller": "BE0999.000.101",
        "jurisdiction": "BE",
        "valid_from": "2024-01-01T00:00:00Z",
        "basis": "electricity supplier"
    })
}

async fn grant(app: &TestApp, admin: &str, body: &Value) -> Value {
    app.post("/registry/accreditations", Some(admin), body)
        .await
        .expect(201)
}

/// A moment strictly between what happened before and what happens after (times are stored
/// in milliseconds).
async fn moment() -> DateTime<Utc> {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let at = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    at
}

fn ids(page: &Value) -> Vec<String> {
    page["accreditations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn accreditations_are_granted_listed_and_read(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let (a, b, c) = (Identity::random(), Identity::random(), Identity::random());

    let first = grant(&app, &admin, &utility(&a.did)).await;
    let id = first["id"].as_str().unwrap();
    assert!(id.starts_with("acc-"), "{first}");
    assert_eq!(first["did"], a.did);
    assert_eq!(first["category"], "utility");
    assert_eq!(first["fact_types"], json!(["ResidenceAttestation"]));
    assert_eq!(first["valid_from"], "2024-01-01T00:00:00Z");
    assert_eq!(first["valid_until"], Value::Null);
    assert_eq!(first["granted_by"], "admin:alice");
    assert_eq!(first["revocation"], Value::Null);
    assert_eq!(first["suspensions"], json!([]));
    assert_eq!(
        app.get(&format!("/registry/accreditations/{id}"), Some(&admin))
            .await
            .expect(200),
        first
    );

    let mut bank = utility(&b.did);
    bank["category"] = json!("bank");
    bank["valid_until"] = json!("2025-01-01T00:00:00+01:00");
    let second = grant(&app, &admin, &bank).await;
    assert_eq!(second["valid_until"], "2024-12-31T23:00:00Z");
    let mut person = utility(&c.did);
    person["category"] = json!("physician");
    person["fact_types"] = json!(["BirthAttestation", "ParentageAttestation"]);
    person["person"] = json!("psn:doctor");
    person["household"] = json!("hh:doctor");
    person["controller"] = json!("psn:doctor");
    let third = grant(&app, &admin, &person).await;
    let (id2, id3) = (
        second["id"].as_str().unwrap(),
        third["id"].as_str().unwrap(),
    );

    // Newest first, with filters and pages.
    let all = app
        .get("/registry/accreditations", Some(&admin))
        .await
        .expect(200);
    assert_eq!(ids(&all), vec![id3, id2, id]);
    assert_eq!(all["next"], Value::Null);
    let page = app
        .get("/registry/accreditations?limit=2", Some(&admin))
        .await
        .expect(200);
    assert_eq!(ids(&page), vec![id3, id2]);
    let next = page["next"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/registry/accreditations?limit=2&after={next}"),
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(ids(&rest), vec![id]);
    assert_eq!(rest["next"], Value::Null);
    let by_did = app
        .get(
            &format!("/registry/accreditations?did={}", b.did),
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(ids(&by_did), vec![id2]);
    let by_category = app
        .get("/registry/accreditations?category=physician", Some(&admin))
        .await
        .expect(200);
    assert_eq!(ids(&by_category), vec![id3]);
    // In 2026 the bank's term is over.
    let active = app
        .get(
            "/registry/accreditations?active_at=2026-01-01T00:00:00Z",
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(ids(&active), vec![id3, id]);
    let before = app
        .get(
            "/registry/accreditations?active_at=2023-01-01T00:00:00Z",
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(ids(&before), Vec::<String>::new());

    // A retry with the same idempotency key gets the same accreditation, and no second one.
    let d = Identity::random();
    let once = app
        .post_once(
            "/registry/accreditations",
            &admin,
            "grant-d",
            &utility(&d.did),
        )
        .await
        .expect(201);
    let again = app
        .post_once(
            "/registry/accreditations",
            &admin,
            "grant-d",
            &utility(&d.did),
        )
        .await
        .expect(201);
    assert_eq!(once, again);
    let of_d = app
        .get(
            &format!("/registry/accreditations?did={}", d.did),
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(ids(&of_d).len(), 1);
    app.post_once(
        "/registry/accreditations",
        &admin,
        "grant-d",
        &utility(&a.did),
    )
    .await
    .expect_problem(409, "idempotency_key_reused");
}
on_both!(accreditations_are_granted_listed_and_read);

async fn bad_input_is_refused_with_its_reason(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let did = Identity::random().did;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("did", json!("not-a-did"), "`did`"),
        ("did", json!("did:web:example.com#key-1"), "`did`"),
        ("category", json!("Utility"), "`category`"),
        ("category", json!(""), "`category`"),
        ("category", json!("neighbour"), "granted automatically"),
        ("fact_types", json!([]), "at least one"),
        (
            "fact_types",
            json!(["MarriageAttestation"]),
            "unknown fact type",
        ),
        (
            "fact_types",
            json!(["ResidenceAttestation", "ResidenceAttestation"]),
            "twice",
        ),
        (
            "controller",
            json!("   "),
            "`controller`: must not be empty",
        ),
        ("jurisdiction", json!(""), "`jurisdiction`"),
        ("household", json!("hh:1"), "give `person` too"),
        ("valid_from", json!("2024-01-01"), "RFC 3339"),
        (
            "valid_until",
            json!("2023-06-01T00:00:00Z"),
            "after `valid_from`",
        ),
        (
            "valid_until",
            json!("2024-01-01T00:00:00Z"),
            "after `valid_from`",
        ),
        ("colour", json!("red"), "unknown field `colour`"),
    ];
    for (field, value, wanted) in cases {
        let mut body = utility(&did);
        body[field] = value;
        let problem = app
            .post("/registry/accreditations", Some(&admin), &body)
            .await
            .expect_problem(400, "invalid_body");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(wanted), "{field}: {detail}");
    }
    let mut missing = utility(&did);
    missing.as_object_mut().unwrap().remove("jurisdiction");
    app.post("/registry/accreditations", Some(&admin), &missing)
        .await
        .expect_problem(400, "invalid_body");
    // Nothing of the refused requests was stored.
    let all = app
        .get("/registry/accreditations", Some(&admin))
        .await
        .expect(200);
    assert_eq!(ids(&all), Vec::<String>::new());

    for query in [
        "limit=0",
        "limit=501",
        "active_at=yesterday",
        "category=Bank",
        "after=acc-unknown",
        "colour=red",
    ] {
        app.get(&format!("/registry/accreditations?{query}"), Some(&admin))
            .await
            .expect_problem(400, "invalid_parameter");
    }
    app.get("/registry/accreditations/acc-unknown", Some(&admin))
        .await
        .expect_problem(404, "not_found");
    for query in ["at=2024-01-01", "at=2999-01-01T00:00:00Z", "did=nope"] {
        app.get(&format!("/registry?{query}"), None)
            .await
            .expect_problem(400, "invalid_parameter");
    }
    let many: Vec<String> = (0..101).map(|i| format!("did:example:{i}")).collect();
    app.get(&format!("/registry?did={}", many.join(",")), None)
        .await
        .expect_problem(400, "too_many_items");

    let id = grant(&app, &admin, &utility(&did)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let suspensions = format!("/registry/accreditations/{id}/suspensions");
    for (body, wanted) in [
        (json!({"reason": " "}), "`reason`"),
        (json!({"reason": "audit", "from": "soon"}), "`from`"),
        (
            json!({"reason": "audit", "from": "2025-01-01T00:00:00Z", "until": "2024-01-01T00:00:00Z"}),
            "after `from`",
        ),
        (json!({"reason": "audit", "colour": "red"}), "colour"),
    ] {
        let problem = app
            .post(&suspensions, Some(&admin), &body)
            .await
            .expect_problem(400, "invalid_body");
        assert!(problem["detail"].as_str().unwrap().contains(wanted));
    }
    for body in [
        json!({"reason": "", "for_cause": false}),
        json!({"reason": "fraud"}),
        json!({"reason": "fraud", "for_cause": true, "at": "2025"}),
    ] {
        app.post(
            &format!("/registry/accreditations/{id}/revocation"),
            Some(&admin),
            &body,
        )
        .await
        .expect_problem(400, "invalid_body");
    }
    for body in [
        json!({"did": "nope", "person": "psn:1"}),
        json!({"did": "urn:uuid:not-a-uuid", "person": "psn:1"}),
        json!({"did": did, "person": ""}),
        json!({"did": did, "person": "psn:1", "household": " "}),
    ] {
        app.post("/registry/persons", Some(&admin), &body)
            .await
            .expect_problem(400, "invalid_body");
    }
}
on_both!(bad_input_is_refused_with_its_reason);

async fn only_admins_write_and_government_reads(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let citizen = Identity::random();
    let citizen_token = app.login(&citizen).await;
    let government = Identity::random();

    let mut body = utility(&government.did);
    body["category"] = json!("government");
    body["controller"] = json!("BE0200.000.001");
    let accreditation = grant(&app, &admin, &body).await;
    let id = accreditation["id"].as_str().unwrap();
    let government_token = app.login(&government).await;
    let me = app
        .get("/auth/me", Some(&government_token))
        .await
        .expect(200);
    assert_eq!(me["roles"], json!(["government", "citizen"]));
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": citizen.did, "person": "psn:citizen"}),
    )
    .await
    .expect(201);

    // Government verifiers read the records...
    app.get("/registry/accreditations", Some(&government_token))
        .await
        .expect(200);
    app.get(
        &format!("/registry/accreditations/{id}"),
        Some(&government_token),
    )
    .await
    .expect(200);
    app.get(
        &format!("/registry/persons/{}", citizen.did),
        Some(&government_token),
    )
    .await
    .expect(200);
    // ...but neither they nor citizens change them, and citizens do not read them.
    for token in [&government_token, &citizen_token] {
        app.post(
            "/registry/accreditations",
            Some(token),
            &utility(&citizen.did),
        )
        .await
        .expect_problem(403, "forbidden");
        app.post(
            &format!("/registry/accreditations/{id}/suspensions"),
            Some(token),
            &json!({"reason": "mine now"}),
        )
        .await
        .expect_problem(403, "forbidden");
        app.post(
            &format!("/registry/accreditations/{id}/revocation"),
            Some(token),
            &json!({"reason": "mine now", "for_cause": true}),
        )
        .await
        .expect_problem(403, "forbidden");
        app.post(
            "/registry/persons",
            Some(token),
            &json!({"did": Identity::random().did, "person": "psn:x"}),
        )
        .await
        .expect_problem(403, "forbidden");
    }
    app.get("/registry/accreditations", Some(&citizen_token))
        .await
        .expect_problem(403, "forbidden");
    app.get(
        &format!("/registry/accreditations/{id}"),
        Some(&citizen_token),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get(
        &format!("/registry/persons/{}", citizen.did),
        Some(&citizen_token),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get("/registry/accreditations", None)
        .await
        .expect_problem(401, "unauthenticated");
    // The refused acts left the accreditation as it was.
    assert_eq!(
        app.get(&format!("/registry/accreditations/{id}"), Some(&admin))
            .await
            .expect(200),
        accreditation
    );

    // A suspension takes the government role away at once; its end gives it back.
    let suspension = app
        .post(
            &format!("/registry/accreditations/{id}/suspensions"),
            Some(&admin),
            &json!({"reason": "key compromise under investigation"}),
        )
        .await
        .expect(201);
    let me = app
        .get("/auth/me", Some(&government_token))
        .await
        .expect(200);
    assert_eq!(me["roles"], json!(["citizen"]));
    app.get("/registry/accreditations", Some(&government_token))
        .await
        .expect_problem(403, "forbidden");
    app.post(
        &format!(
            "/registry/accreditations/{id}/suspensions/{}/end",
            suspension["id"].as_str().unwrap()
        ),
        Some(&admin),
        &json!({}),
    )
    .await
    .expect(200);
    let me = app
        .get("/auth/me", Some(&government_token))
        .await
        .expect(200);
    assert_eq!(me["roles"], json!(["government", "citizen"]));

    // The public export needs no token.
    app.get("/registry", None).await.expect(200);
}
on_both!(only_admins_write_and_government_reads);

async fn suspensions_and_revocations_keep_their_history(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let did = Identity::random().did;
    let id = grant(&app, &admin, &utility(&did)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/registry/accreditations/{id}");

    let open = app
        .post(
            &format!("{base}/suspensions"),
            Some(&admin),
            &json!({"reason": "billing dispute", "from": "2024-03-01T00:00:00Z"}),
        )
        .await
        .expect(201);
    let sid = open["id"].as_str().unwrap();
    assert!(sid.starts_with("sus-"));
    assert_eq!(open["until"], Value::Null);
    assert_eq!(open["suspended_by"], "admin:alice");
    let end = format!("{base}/suspensions/{sid}/end");
    app.post(&end, Some(&admin), &json!({"at": "2024-03-01T00:00:00Z"}))
        .await
        .expect_problem(400, "invalid_body");
    let ended = app
        .post(&end, Some(&admin), &json!({"at": "2024-04-01T00:00:00Z"}))
        .await
        .expect(200);
    assert_eq!(ended["until"], "2024-04-01T00:00:00Z");
    assert_eq!(ended["ended_by"], "admin:alice");
    assert!(ended["end_recorded_at"].is_string());
    app.post(&end, Some(&admin), &json!({}))
        .await
        .expect_problem(409, "conflict");
    let planned = app
        .post(
            &format!("{base}/suspensions"),
            Some(&admin),
            &json!({"reason": "maintenance", "from": "2024-06-01T00:00:00Z",
                    "until": "2024-06-02T00:00:00Z"}),
        )
        .await
        .expect(201);
    // A suspension with a planned end already has one.
    app.post(
        &format!("{base}/suspensions/{}/end", planned["id"].as_str().unwrap()),
        Some(&admin),
        &json!({}),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        &format!("{base}/suspensions/sus-unknown/end"),
        Some(&admin),
        &json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    // A suspension belongs to its accreditation only.
    let other = grant(&app, &admin, &utility(&Identity::random().did)).await;
    app.post(
        &format!(
            "/registry/accreditations/{}/suspensions/{}/end",
            other["id"].as_str().unwrap(),
            planned["id"].as_str().unwrap()
        ),
        Some(&admin),
        &json!({}),
    )
    .await
    .expect_problem(404, "not_found");

    let revoked = app
        .post(
            &format!("{base}/revocation"),
            Some(&admin),
            &json!({"reason": "contract ended", "for_cause": false,
                    "at": "2025-01-01T00:00:00Z"}),
        )
        .await
        .expect(200);
    assert_eq!(
        revoked["revocation"]["at"], "2025-01-01T00:00:00Z",
        "{revoked}"
    );
    assert_eq!(revoked["revocation"]["for_cause"], false);
    assert_eq!(revoked["revocation"]["revoked_by"], "admin:alice");
    app.post(
        &format!("{base}/revocation"),
        Some(&admin),
        &json!({"reason": "fraud", "for_cause": true}),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        &format!("{base}/suspensions"),
        Some(&admin),
        &json!({"reason": "late"}),
    )
    .await
    .expect_problem(409, "conflict");
    for (path, body) in [
        ("suspensions", json!({"reason": "x"})),
        ("revocation", json!({"reason": "x", "for_cause": false})),
    ] {
        app.post(
            &format!("/registry/accreditations/acc-unknown/{path}"),
            Some(&admin),
            &body,
        )
        .await
        .expect_problem(404, "not_found");
    }

    // Everything is still there: both suspensions, the end, the first revocation.
    let record = app.get(&base, Some(&admin)).await.expect(200);
    assert_eq!(record["revocation"]["reason"], "contract ended");
    let suspensions = record["suspensions"].as_array().unwrap();
    assert_eq!(suspensions.len(), 2, "{record}");
    assert_eq!(suspensions[0]["reason"], "billing dispute");
    assert_eq!(suspensions[0]["until"], "2024-04-01T00:00:00Z");
    assert_eq!(suspensions[1]["reason"], "maintenance");
    assert_eq!(suspensions[1]["until"], "2024-06-02T00:00:00Z");
    assert_eq!(suspensions[1]["end_recorded_at"], Value::Null);

    // The registry file carries the same history, and the verifier reads it.
    let file = app
        .get(&format!("/registry?did={did}"), Some(&admin))
        .await
        .expect(200);
    let registry = FileRegistry::from_json(&file).unwrap();
    let accreditations = registry.accreditations(&did);
    assert_eq!(accreditations.len(), 1);
    let a = &accreditations[0];
    assert_eq!(a.suspensions.len(), 2);
    assert_eq!(
        a.revoked.as_ref().map(|r| r.at),
        parse_date_time("2025-01-01T00:00:00Z")
    );
    let at = |t: &str| parse_date_time(t).unwrap();
    let now = Utc::now();
    assert!(
        a.counts_for("ResidenceAttestation", at("2024-02-01T00:00:00Z"), now)
            .is_ok()
    );
    assert!(
        a.counts_for("ResidenceAttestation", at("2024-03-15T00:00:00Z"), now)
            .is_err()
    );
    assert!(
        a.counts_for("ResidenceAttestation", at("2025-02-01T00:00:00Z"), now)
            .is_err()
    );
}
on_both!(suspensions_and_revocations_keep_their_history);

async fn persons_are_bound_once(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let who = Identity::random();
    let bound = app
        .post(
            "/registry/persons",
            Some(&admin),
            &json!({"did": who.did, "person": " psn:1 ", "household": "hh:1"}),
        )
        .await
        .expect(201);
    assert_eq!(bound["person"], "psn:1");
    assert_eq!(bound["bound_by"], "admin:alice");
    assert_eq!(
        app.get(&format!("/registry/persons/{}", who.did), Some(&admin))
            .await
            .expect(200),
        bound
    );
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": who.did, "person": "psn:1"}),
    )
    .await
    .expect_problem(409, "conflict");
    // An accreditation of that DID must name the same person.
    let mut named = utility(&who.did);
    named["category"] = json!("parent");
    named["fact_types"] = json!(["ParentageAttestation"]);
    named["person"] = json!("psn:2");
    app.post("/registry/accreditations", Some(&admin), &named)
        .await
        .expect_problem(409, "conflict");
    named["person"] = json!("psn:1");
    grant(&app, &admin, &named).await;
    // And a binding must name the person the DID's accreditations name.
    let other = Identity::random();
    named["did"] = json!(other.did);
    grant(&app, &admin, &named).await;
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": other.did, "person": "psn:3"}),
    )
    .await
    .expect_problem(409, "conflict");

    // Subjects without a DID yet, and did:web identifiers with a port, percent-encoded.
    let child = "urn:uuid:ff45d0a9-b01b-432c-a8a6-b5292c886807";
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": child, "person": "psn:child", "household": "hh:1"}),
    )
    .await
    .expect(201);
    app.get(&format!("/registry/persons/{child}"), Some(&admin))
        .await
        .expect(200);
    let web = "did:web:localhost%3A8443:people:x";
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": web, "person": "psn:web"}),
    )
    .await
    .expect(201);
    let encoded = "did%3Aweb%3Alocalhost%253A8443%3Apeople%3Ax";
    let found = app
        .get(&format!("/registry/persons/{encoded}"), Some(&admin))
        .await
        .expect(200);
    assert_eq!(found["did"], web);
    app.get(
        &format!("/registry/persons/{}", Identity::random().did),
        Some(&admin),
    )
    .await
    .expect_problem(404, "not_found");
}
on_both!(persons_are_bound_once);

async fn the_export_is_the_registry_as_it_was(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let (a, b, s) = (Identity::random(), Identity::random(), Identity::random());
    let first = grant(&app, &admin, &utility(&a.did)).await;
    let id = first["id"].as_str().unwrap();
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": s.did, "person": "psn:s", "household": "hh:s"}),
    )
    .await
    .expect(201);
    let suspension = app
        .post(
            &format!("/registry/accreditations/{id}/suspensions"),
            Some(&admin),
            &json!({"reason": "audit", "from": "2024-05-01T00:00:00Z"}),
        )
        .await
        .expect(201);
    let then = moment().await;

    // After `then`: a new accreditation, a new person, the suspension's end and a revocation
    // dated before `then` (recorded after it).
    let mut bank = utility(&b.did);
    bank["category"] = json!("bank");
    grant(&app, &admin, &bank).await;
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": Identity::random().did, "person": "psn:t"}),
    )
    .await
    .expect(201);
    app.post(
        &format!(
            "/registry/accreditations/{id}/suspensions/{}/end",
            suspension["id"].as_str().unwrap()
        ),
        Some(&admin),
        &json!({"at": "2024-06-01T00:00:00Z"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/registry/accreditations/{id}/revocation"),
        Some(&admin),
        &json!({"reason": "fraud", "for_cause": true, "at": "2024-09-01T00:00:00Z"}),
    )
    .await
    .expect(200);

    let past = app
        .get(&format!("/registry?at={}", rfc3339(then)), Some(&admin))
        .await
        .expect(200);
    assert_eq!(
        past["accreditations"].as_array().unwrap().len(),
        1,
        "{past}"
    );
    assert_eq!(past["persons"].as_array().unwrap().len(), 1, "{past}");
    let old = FileRegistry::from_json(&past).unwrap();
    assert_eq!(old.accreditations(&b.did), Vec::new());
    let was = &old.accreditations(&a.did)[0];
    assert_eq!(was.revoked, None);
    assert_eq!(was.suspensions.len(), 1);
    assert_eq!(was.suspensions[0].until, None, "the end was not known then");
    assert_eq!(
        old.person(&s.did).map(|p| (p.person, p.household)),
        Some(("psn:s".to_owned(), Some("hh:s".to_owned())))
    );

    // Anyone gets the organisations' part only: no person's accreditation, no binding.
    let public = app.get("/registry", None).await.expect(200);
    assert!(
        public["accreditations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a.get("person").is_none()),
        "{public:#}"
    );
    assert_eq!(public["persons"], json!([]));
    FileRegistry::from_json(&public).unwrap();

    let current = app.get("/registry", Some(&admin)).await.expect(200);
    assert_eq!(current["accreditations"].as_array().unwrap().len(), 2);
    assert_eq!(current["persons"].as_array().unwrap().len(), 2);
    let now = FileRegistry::from_json(&current).unwrap();
    assert_eq!(now.accreditations(&b.did).len(), 1);
    let is = &now.accreditations(&a.did)[0];
    assert!(is.revoked.as_ref().is_some_and(|r| r.for_cause));
    assert_eq!(
        is.suspensions[0].until,
        parse_date_time("2024-06-01T00:00:00Z")
    );

    // Limited to some DIDs; before anything was granted, empty.
    let some = app
        .get(&format!("/registry?did={},{}", b.did, s.did), Some(&admin))
        .await
        .expect(200);
    let some = FileRegistry::from_json(&some).unwrap();
    assert_eq!(some.accreditations(&a.did), Vec::new());
    assert_eq!(some.accreditations(&b.did).len(), 1);
    assert!(some.person(&s.did).is_some());
    let empty = app
        .get("/registry?at=2020-01-01T00:00:00Z", Some(&admin))
        .await
        .expect(200);
    assert_eq!(empty["accreditations"], json!([]));
    assert_eq!(empty["persons"], json!([]));
    FileRegistry::from_json(&empty).unwrap();
}
on_both!(the_export_is_the_registry_as_it_was);

async fn neighbours_are_granted_from_decisions_and_withdrawn(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let (bound, unknown) = (Identity::random(), Identity::random());
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": bound.did, "person": "psn:n", "household": "hh:n"}),
    )
    .await
    .expect(201);
    let granted_at = Utc::now();
    let db = app.state.db.clone();
    let (did1, did2) = (bound.did.clone(), unknown.did.clone());
    db.write::<_, StoreError, _>(move |conn| {
        grant_neighbour_in(conn, granted_at, &did1, "dec-1", "1050", "BE")?;
        // One per decision: a repeat changes nothing.
        grant_neighbour_in(conn, granted_at, &did1, "dec-1", "1050", "BE")?;
        grant_neighbour_in(conn, granted_at, &did2, "dec-2", "9000", "BE")
    })
    .await
    .unwrap();

    let list = app
        .get("/registry/accreditations?category=neighbour", Some(&admin))
        .await
        .expect(200);
    assert_eq!(ids(&list).len(), 2, "{list}");
    let of_bound = app
        .get(
            &format!("/registry/accreditations?did={}", bound.did),
            Some(&admin),
        )
        .await
        .expect(200);
    let neighbour = &of_bound["accreditations"][0];
    assert_eq!(neighbour["category"], "neighbour");
    assert_eq!(neighbour["fact_types"], json!(["ResidenceAttestation"]));
    assert_eq!(neighbour["controller"], "psn:n");
    assert_eq!(neighbour["person"], "psn:n");
    assert_eq!(neighbour["household"], "hh:n");
    assert_eq!(neighbour["area"], "1050");
    assert_eq!(neighbour["jurisdiction"], "BE");
    assert_eq!(neighbour["granted_by"], "system");
    assert_eq!(neighbour["source_decision"], "dec-1");
    assert_eq!(
        neighbour["basis"],
        "residence established by decision dec-1"
    );
    let of_unknown = app
        .get(
            &format!("/registry/accreditations?did={}", unknown.did),
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(of_unknown["accreditations"][0]["controller"], unknown.did);
    assert_eq!(of_unknown["accreditations"][0]["person"], Value::Null);

    // A decision's snapshot keeps neighbours of its own area only.
    let dids = vec![bound.did.clone(), unknown.did.clone()];
    let now = Utc::now();
    let (near, anywhere, before) = app
        .state
        .db
        .read(move |conn| {
            Ok((
                snapshot_in(conn, &dids, Some("1050"), now)?,
                snapshot_in(conn, &dids, None, now)?,
                snapshot_in(conn, &dids, None, granted_at - chrono::Duration::seconds(1))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(near.accreditations(&bound.did).len(), 1);
    assert_eq!(near.accreditations(&unknown.did), Vec::new());
    assert_eq!(anywhere.accreditations(&unknown.did).len(), 1);
    assert_eq!(
        near.person(&bound.did).map(|p| p.person),
        Some("psn:n".to_owned())
    );
    assert_eq!(before.accreditations(&bound.did), Vec::new());
    assert!(
        near.accreditations(&bound.did)[0]
            .counts_for("ResidenceAttestation", now, now)
            .is_ok()
    );
    // The snapshot moves to another thread (Send) and reads as a registry file.
    let file = tokio::task::spawn_blocking(move || near.to_json("test"))
        .await
        .unwrap();
    FileRegistry::from_json(&file).unwrap();

    // The public export filters the same way.
    let export = app
        .get(
            &format!("/registry?did={},{}&area=9000", bound.did, unknown.did),
            Some(&admin),
        )
        .await
        .expect(200);
    let export = FileRegistry::from_json(&export).unwrap();
    assert_eq!(export.accreditations(&bound.did), Vec::new());
    assert_eq!(export.accreditations(&unknown.did).len(), 1);

    // Withdrawal: revoked, not for cause; earlier attestations still count. Twice is a no-op.
    let withdrawn_at = moment().await;
    app.state
        .db
        .write::<_, StoreError, _>(move |conn| {
            withdraw_neighbour_in(conn, withdrawn_at, "dec-1", "moved away")?;
            withdraw_neighbour_in(conn, withdrawn_at, "dec-1", "moved away again")?;
            withdraw_neighbour_in(conn, withdrawn_at, "dec-unknown", "none")
        })
        .await
        .unwrap();
    let record = app
        .get(
            &format!(
                "/registry/accreditations/{}",
                neighbour["id"].as_str().unwrap()
            ),
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(record["revocation"]["reason"], "moved away");
    assert_eq!(record["revocation"]["for_cause"], false);
    assert_eq!(record["revocation"]["revoked_by"], "system");
    let dids = vec![bound.did.clone()];
    let later = app
        .state
        .db
        .read(move |conn| snapshot_in(conn, &dids, Some("1050"), Utc::now()))
        .await
        .unwrap();
    let after = &later.accreditations(&bound.did)[0];
    assert!(
        after
            .counts_for("ResidenceAttestation", granted_at, Utc::now())
            .is_ok()
    );
    assert!(
        after
            .counts_for("ResidenceAttestation", Utc::now(), Utc::now())
            .is_err()
    );
    // A new decision may grant again.
    let did1 = bound.did.clone();
    app.state
        .db
        .write::<_, StoreError, _>(move |conn| {
            grant_neighbour_in(conn, Utc::now(), &did1, "dec-3", "1050", "BE")
        })
        .await
        .unwrap();
    let of_bound = app
        .get(
            &format!("/registry/accreditations?did={}", bound.did),
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(ids(&of_bound).len(), 2);
}
on_both!(neighbours_are_granted_from_decisions_and_withdrawn);

async fn every_act_is_in_the_audit_log(dialect: Dialect) {
    let app = spawn(dialect).await;
    let admin = app.admin_token().await;
    let who = Identity::random();
    let id = grant(&app, &admin, &utility(&who.did)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sid = app
        .post(
            &format!("/registry/accreditations/{id}/suspensions"),
            Some(&admin),
            &json!({"reason": "audit"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/registry/accreditations/{id}/suspensions/{sid}/end"),
        Some(&admin),
        &json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/registry/accreditations/{id}/revocation"),
        Some(&admin),
        &json!({"reason": "contract ended", "for_cause": false}),
    )
    .await
    .expect(200);
    app.post(
        "/registry/persons",
        Some(&admin),
        &json!({"did": who.did, "person": "psn:w"}),
    )
    .await
    .expect(201);
    let did = who.did.clone();
    app.state
        .db
        .write::<_, StoreError, _>(move |conn| {
            grant_neighbour_in(conn, Utc::now(), &did, "dec-9", "1050", "BE")?;
            withdraw_neighbour_in(conn, Utc::now(), "dec-9", "moved away")
        })
        .await
        .unwrap();
    // A refused act leaves no entry.
    app.post(
        &format!("/registry/accreditations/{id}/revocation"),
        Some(&admin),
        &json!({"reason": "again", "for_cause": true}),
    )
    .await
    .expect_problem(409, "conflict");

    let audit = app.get("/admin/audit", Some(&admin)).await.expect(200);
    assert_eq!(audit["chain_intact"], true, "{audit}");
    let entries: Vec<(String, String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let admin_actor = "admin:alice".to_owned();
    assert_eq!(
        entries[..5],
        [
            (
                admin_actor.clone(),
                "registry.accreditation.grant".to_owned(),
                id.clone()
            ),
            (
                admin_actor.clone(),
                "registry.accreditation.suspend".to_owned(),
                id.clone()
            ),
            (
                admin_actor.clone(),
                "registry.suspension.end".to_owned(),
                id.clone()
            ),
            (
                admin_actor.clone(),
                "registry.accreditation.revoke".to_owned(),
                id.clone()
            ),
            (
                admin_actor.clone(),
                "registry.person.bind".to_owned(),
                who.did.clone()
            ),
        ]
    );
    // The automatic neighbour grant and its withdrawal are no administrative acts: not logged
    // (the append-only log must not keep a citizen's DID; the rows are their trace).
    assert_eq!(entries.len(), 5, "{audit}");
    assert_eq!(audit["entries"][0]["details"]["did"], who.did);
}
on_both!(every_act_is_in_the_audit_log);
