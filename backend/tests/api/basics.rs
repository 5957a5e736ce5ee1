//! What every endpoint shares: health, authentication, roles, problem+json errors, limits,
//! the OpenAPI description, metrics and rate limits.

use crate::on_both;
use crate::support::{Dialect, Identity, spawn, spawn_with};
use serde_json::json;

async fn health_and_description(dialect: Dialect) {
    let app = spawn(dialect).await;
    app.get("/health/live", None).await.expect(200);
    assert_eq!(
        app.get("/health/ready", None).await.expect(200)["status"],
        "ready"
    );
    let api = app.get("/openapi.json", None).await.expect(200);
    assert!(
        api["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        api["openapi"]
    );
    assert!(api["paths"]["/auth/tokens"]["post"].is_object());
    let metrics = app
        .client
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("corroborate_http_requests_total"),
        "{metrics}"
    );
    let docs = app
        .client
        .get(format!("{}/docs", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
}
on_both!(health_and_description);

async fn authentication_by_did_challenge(dialect: Dialect) {
    let app = spawn(dialect).await;
    let citizen = Identity::random();
    let token = app.login(&citizen).await;
    let me = app.get("/auth/me", Some(&token)).await.expect(200);
    assert_eq!(me["did"], citizen.did);
    assert_eq!(me["roles"], json!(["citizen"]));

    let admin = app.admin_token().await;
    let me = app.get("/auth/me", Some(&admin)).await.expect(200);
    assert_eq!(me["admin"], "alice");
    assert_eq!(me["roles"], json!(["admin", "citizen"]));

    app.get("/auth/me", None)
        .await
        .expect_problem(401, "unauthenticated");
    app.get("/auth/me", Some("not-a-token"))
        .await
        .expect_problem(401, "unauthenticated");

    // Logging out ends the session.
    app.delete("/auth/tokens/current", Some(&token))
        .await
        .expect(204);
    app.get("/auth/me", Some(&token))
        .await
        .expect_problem(401, "unauthenticated");
}
on_both!(authentication_by_did_challenge);

async fn challenges_are_one_time_and_bound(dialect: Dialect) {
    use chrono::Utc;
    use corroborate_verifier::presentation::{Binding, sign_presentation};
    use corroborate_verifier::proof::Cryptosuite;
    let app = spawn(dialect).await;
    let who = Identity::random();
    let someone_else = Identity::random();
    let challenge = app
        .post("/auth/challenges", None, &json!({"did": who.did}))
        .await
        .expect(201);
    let sign = |identity: &Identity, domain: &str| {
        let identity = identity.clone();
        let binding = Binding {
            challenge: Some(challenge["challenge"].as_str().unwrap().to_owned()),
            domain: Some(domain.to_owned()),
            holder_must_be_subject: false,
        };
        async move {
            sign_presentation(
                &identity.did,
                Vec::new(),
                &identity.key,
                &identity.vm,
                Cryptosuite::EddsaJcs2022,
                &binding,
                Utc::now(),
            )
            .await
            .unwrap()
        }
    };
    let domain = challenge["domain"].as_str().unwrap().to_owned();
    // Another audience: refused.
    let elsewhere = sign(&who, "https://elsewhere.example").await;
    app.post("/auth/tokens", None, &json!({"presentation": elsewhere}))
        .await
        .expect_problem(401, "authentication_failed");
    // Another DID answering this DID's challenge: refused.
    let impostor = sign(&someone_else, &domain).await;
    app.post("/auth/tokens", None, &json!({"presentation": impostor}))
        .await
        .expect_problem(401, "authentication_failed");
    // A tampered answer: refused.
    let mut tampered = sign(&who, &domain).await;
    tampered["holder"] = json!(someone_else.did);
    app.post("/auth/tokens", None, &json!({"presentation": tampered}))
        .await
        .expect_problem(401, "authentication_failed");
    // The right answer works once, and only once.
    let answer = sign(&who, &domain).await;
    app.post("/auth/tokens", None, &json!({"presentation": answer}))
        .await
        .expect(201);
    app.post("/auth/tokens", None, &json!({"presentation": answer}))
        .await
        .expect_problem(401, "authentication_failed");
}
on_both!(challenges_are_one_time_and_bound);

async fn bad_bodies_get_specific_problems(dialect: Dialect) {
    let app = spawn_with(dialect, |s| s.limits.body_bytes = 4096).await;
    let cases: Vec<(Vec<u8>, &str, u16, &str)> = vec![
        (b"{".to_vec(), "application/json", 400, "invalid_body"),
        (
            br#"{"did": "did:key:a", "did": "did:key:b"}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"did": "did:key:z6Mk", "extra": 1}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (br#"{}"#.to_vec(), "application/json", 400, "invalid_body"),
        (
            br#"{"did": "not a did"}"#.to_vec(),
            "application/json",
            400,
            "invalid_body",
        ),
        (
            br#"{"did": "did:key:x"}"#.to_vec(),
            "text/plain",
            400,
            "invalid_body",
        ),
        (
            [b"[".repeat(100), b"]".repeat(100)].concat(),
            "application/json",
            400,
            "invalid_body",
        ),
        (vec![b' '; 5000], "application/json", 413, "body_too_large"),
    ];
    for (body, content_type, status, code) in cases {
        let reply = app
            .post_raw("/auth/challenges", None, content_type, body.clone())
            .await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{}: {:#}",
            String::from_utf8_lossy(&body[..body.len().min(60)]),
            reply.body
        );
        reply.expect_problem(status, code);
    }
    app.get("/no/such/endpoint", None)
        .await
        .expect_problem(404, "not_found");
    app.get("/admin/audit?limit=abc", Some(&app.admin_token().await))
        .await
        .expect_problem(400, "invalid_parameter");
}
on_both!(bad_bodies_get_specific_problems);

async fn unauthenticated_endpoints_are_rate_limited(dialect: Dialect) {
    let app = spawn_with(dialect, |s| {
        s.rate_limit.per_second = 1;
        s.rate_limit.burst = 3;
    })
    .await;
    let body = json!({"did": Identity::random().did});
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.post("/auth/challenges", None, &body).await);
    }
    let limited = statuses
        .into_iter()
        .find(|r| r.status == 429)
        .expect("no 429 after the burst");
    assert!(limited.headers.contains_key("retry-after"));
    limited.expect_problem(429, "rate_limited");
}
on_both!(unauthenticated_endpoints_are_rate_limited);

async fn maintenance_purges_what_only_served_a_moment(dialect: Dialect) {
    use corroborate_backend::db::schema::auth_challenges;
    use diesel::prelude::*;
    let app = spawn_with(dialect, |s| {
        s.auth.challenge_ttl_secs = 0;
        s.maintenance_interval_secs = 0;
    })
    .await;
    let count = || async {
        app.state
            .db
            .read(|conn| Ok(auth_challenges::table.count().get_result::<i64>(conn)?))
            .await
            .unwrap()
    };
    app.post(
        "/auth/challenges",
        None,
        &json!({"did": Identity::random().did}),
    )
    .await
    .expect(201);
    assert_eq!(count().await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    corroborate_backend::app::maintain(&app.state).await;
    assert_eq!(count().await, 0, "an expired challenge is deleted");
}
on_both!(maintenance_purges_what_only_served_a_moment);
