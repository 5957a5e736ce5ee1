//! Presenting without the network: the wallet signs a presentation bound to the challenge and
//! domain an offline verifier gave, logs it, and hands it over; the verifier checks it on its
//! side. Bad input is refused before anything is signed or logged.

use crate::support::{Person, RESIDENCE, World, assert_unchanged, residence, rows};
use chrono::Utc;
use corroborate_verifier::presentation::{Binding, verify_presentation};
use corroborate_verifier::proof::Cryptosuite;
use corroborate_verifier::verification::VerifyOptions;
use corroborate_wallet::flows::{FlowError, OFFLINE_OUTCOME};
use corroborate_wallet::records::{CredentialRecord, PresentationRecord};
use corroborate_wallet::resolve::Online;
use serde_json::{Value, json};

const DOMAIN: &str = "did:web:ixelles.example";
const CHALLENGE: &str = "counter-7-2026-11-29";

/// A neighbour's residence attestation about `subject`, signed by `attester`.
async fn attestation(world: &World, attester: &Person, subject: &str, number: &str) -> Value {
    let (credential, _) = world
        .agent(&attester.wallet)
        .issue(
            &attester.id,
            subject,
            RESIDENCE,
            &residence(number),
            json!({"role": "neighbour", "since": "2019-04-01"}),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    credential
}

/// `holder` keeps `credential`; its id in the wallet.
async fn kept(world: &World, holder: &Person, credential: &Value) -> String {
    world
        .agent(&holder.wallet)
        .import(&holder.id, credential)
        .await
        .unwrap();
    let all = holder.wallet.all::<CredentialRecord>().await.unwrap();
    let record = all.iter().find(|r| r.credential == *credential).unwrap();
    record.id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_presentation_holds_for_its_challenge_and_domain_only() {
    let world = World::start().await;
    let citizen = Person::new("me").await;
    let attester = world.witness("me").await;
    let credential = attestation(&world, &attester, &citizen.id.did, "27").await;
    let id = kept(&world, &citizen, &credential).await;

    let mine = world.agent(&citizen.wallet);
    let (presentation, record) = mine
        .present_offline(
            &citizen.id,
            DOMAIN,
            &format!("  {CHALLENGE}\n"),
            std::slice::from_ref(&id),
        )
        .await
        .unwrap();
    assert_eq!(record.verifier, DOMAIN);
    assert_eq!(record.challenge, CHALLENGE, "trimmed as typed");
    assert_eq!(record.outcome.as_deref(), Some(OFFLINE_OUTCOME));
    assert_eq!(record.disclosed.len(), 1);
    assert_eq!(record.disclosed[0].credential, id);
    let log = citizen.wallet.all::<PresentationRecord>().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].challenge, CHALLENGE);

    // The verifier's check (here with the service reachable for DIDs and status lists; the CLI
    // does the same from files fetched beforehand).
    let now = Utc::now();
    let online = Online::new(&world.url, &world.env.transport, now);
    let options = VerifyOptions::at(now).with_status(&online);
    let check = |challenge: &str, domain: &str| {
        let binding = Binding::for_decision(challenge, domain);
        let (presentation, options, online) = (presentation.clone(), &options, &online);
        async move { verify_presentation(presentation, &binding, options, online).await }
    };
    let report = check(CHALLENGE, DOMAIN).await;
    assert!(report.is_valid(), "{:#?}", report.failures);
    assert_eq!(report.holder.as_deref(), Some(citizen.id.did.as_str()));
    assert_eq!(report.credentials.len(), 1);
    assert!(!check("another-check", DOMAIN).await.is_valid());
    assert!(
        !check(CHALLENGE, "did:web:elsewhere.example")
            .await
            .is_valid()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_presenting_refuses_bad_input_and_writes_nothing() {
    let world = World::start().await;
    let citizen = Person::new("me").await;
    let other = Person::new("someone else").await;
    let attester = world.witness("me").await;
    // A credential about someone else, kept by the citizen's wallet under that person's name.
    let about_other = attestation(&world, &attester, &other.id.did, "29").await;
    let their_id = kept(&world, &other, &about_other).await;
    let mine = world.agent(&citizen.wallet);
    let before = rows(&citizen.wallet).await;

    let long = "x".repeat(513);
    let cases: [(&str, &str, Vec<String>, &str); 6] = [
        (
            "",
            CHALLENGE,
            vec!["urn:uuid:1".into()],
            "domain is missing",
        ),
        (
            DOMAIN,
            "  ",
            vec!["urn:uuid:1".into()],
            "challenge is missing",
        ),
        (DOMAIN, "two\nlines", vec!["urn:uuid:1".into()], "one line"),
        (DOMAIN, &long, vec!["urn:uuid:1".into()], "at most 512"),
        (DOMAIN, CHALLENGE, vec![], "at least one"),
        (
            DOMAIN,
            CHALLENGE,
            vec!["urn:uuid:1".into()],
            "no credential urn:uuid:1",
        ),
    ];
    for (domain, challenge, chosen, expected) in cases {
        let error = mine
            .present_offline(&citizen.id, domain, challenge, &chosen)
            .await
            .unwrap_err();
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
    // Another person's credential, presented from their wallet by the citizen's identity.
    let error = world
        .agent(&other.wallet)
        .present_offline(&citizen.id, DOMAIN, CHALLENGE, &[their_id])
        .await
        .unwrap_err();
    assert!(matches!(error, FlowError::Invalid(_)), "{error}");
    assert!(error.to_string().contains("must be about me"), "{error}");
    assert_unchanged(
        &before,
        &rows(&citizen.wallet).await,
        "a refused offline presentation",
    );
    assert!(
        other
            .wallet
            .all::<PresentationRecord>()
            .await
            .unwrap()
            .is_empty()
    );
}
