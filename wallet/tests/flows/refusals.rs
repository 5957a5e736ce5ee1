//! Bad input and refused steps: each gives a clear, specific error and leaves the wallet as it
//! was (every stored row compared before and after), except the presentation log, which records
//! an attempt the verifier may have seen whatever its answer.

use crate::support::{
    BIRTH, BIRTH_POLICY, Person, RESIDENCE, RESIDENCE_POLICY, World, assert_unchanged, code,
    residence, rows,
};
use chrono::{DateTime, Duration, Utc};
use corroborate_verifier::proof::Cryptosuite;
use corroborate_wallet::check::Refusal;
use corroborate_wallet::flows::{Agent, Ask, Env, FlowError, Target};
use corroborate_wallet::native::{HttpTransport, OsEntropy};
use corroborate_wallet::platform::Clock;
use corroborate_wallet::records::{
    CredentialKind, CredentialRecord, PresentationRecord, RequestRecord,
};
use serde_json::{Value, json};

fn ask(addressed_to: &[&str], open_link: bool) -> Ask {
    Ask {
        fact_type: RESIDENCE.into(),
        claims: residence("27"),
        addressed_to: addressed_to.iter().map(|did| (*did).to_owned()).collect(),
        open_link,
        expires_in_days: Some(3),
        note: None,
    }
}

fn neighbour() -> Value {
    json!({"role": "neighbour", "since": "2019-04-01"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_that_are_refused_leave_the_wallet_as_it_was() {
    let world = World::start().await;
    let citizen = Person::new("me").await;
    let stranger = Person::new("me").await;
    let attester = world.witness("me").await;
    let signer = world.agent(&attester.wallet);
    let mine = world.agent(&citizen.wallet);
    let (genuine, _) = signer
        .issue(
            &attester.id,
            &citizen.id.did,
            RESIDENCE,
            &residence("27"),
            neighbour(),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let before = rows(&citizen.wallet).await;

    // A claim changed after signing: the proof no longer holds.
    let mut tampered = genuine.clone();
    tampered["credentialSubject"]["residence"]["address"]["houseNumber"] = json!("29");
    let error = mine.import(&citizen.id, &tampered).await.unwrap_err();
    match &error {
        FlowError::Refused(Refusal::Invalid(reasons)) => assert!(
            reasons.iter().any(|r| r.starts_with("proof:")),
            "{reasons:?}"
        ),
        other => panic!("a tampered credential must be refused as invalid, not {other:?}"),
    }
    assert_unchanged(&before, &rows(&citizen.wallet).await, "a tampered import");

    // Genuine, but about someone else.
    let (theirs, _) = signer
        .issue(
            &attester.id,
            &stranger.id.did,
            RESIDENCE,
            &residence("29"),
            neighbour(),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let error = mine.import(&citizen.id, &theirs).await.unwrap_err();
    match &error {
        FlowError::Refused(Refusal::NotAboutMe { expected, found }) => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                (citizen.id.did.as_str(), stranger.id.did.as_str())
            );
        }
        other => panic!("a credential about someone else must be refused, not {other:?}"),
    }
    assert!(error.to_string().contains(&stranger.id.did), "{error}");
    assert_unchanged(
        &before,
        &rows(&citizen.wallet).await,
        "an import about someone else",
    );

    // JSON, but not a credential.
    for garbage in [json!({"type": 3}), json!([1, 2]), json!("a credential")] {
        let error = mine.import(&citizen.id, &garbage).await.unwrap_err();
        assert!(
            matches!(error, FlowError::Refused(Refusal::Malformed(_))),
            "{garbage}: {error:?}"
        );
        assert!(
            error.to_string().contains("not a verifiable credential"),
            "{error}"
        );
    }
    assert_unchanged(&before, &rows(&citizen.wallet).await, "a malformed import");

    // And the genuine one is kept: the refusals were about the input, not the wallet.
    let kept = mine.import(&citizen.id, &genuine).await.unwrap();
    assert_eq!(
        citizen
            .wallet
            .get::<CredentialRecord>(&kept.id)
            .await
            .unwrap()
            .map(|r| r.credential),
        Some(genuine)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_links_and_expired_or_withdrawn_requests_take_no_answer() {
    let world = World::start().await;
    let citizen = Person::new("me").await;
    let first = world.witness("me").await;
    let second = world.witness("me").await;
    let mine = world.agent(&citizen.wallet);
    let (by_first, by_second) = (world.agent(&first.wallet), world.agent(&second.wallet));

    // A one-time link: the first attester uses it up.
    let linked = mine.request(&citizen.id, &ask(&[], true)).await.unwrap();
    let link = Target::parse(linked.link.as_deref().expect("an open link"));
    assert!(matches!(link, Target::Link(_)), "{link:?}");
    by_first
        .attest(&first.id, &link, neighbour(), Cryptosuite::EddsaJcs2022)
        .await
        .unwrap();
    let before = rows(&second.wallet).await;
    let error = by_second
        .attest(&second.id, &link, neighbour(), Cryptosuite::EddsaJcs2022)
        .await
        .unwrap_err();
    assert_eq!(code(&error), Some("conflict"), "{error}");
    assert!(
        error.to_string().contains("already been answered"),
        "{error}"
    );
    let error = by_second
        .decline(&second.id, &link, Some("not me"))
        .await
        .unwrap_err();
    assert_eq!(code(&error), Some("conflict"), "{error}");
    assert_unchanged(
        &before,
        &rows(&second.wallet).await,
        "answering a used link",
    );

    // An expired request. The first attester already has a list, so nothing of theirs needs
    // creating: a refused answer leaves their wallet untouched.
    let expiring = mine
        .request(&citizen.id, &ask(&[&first.id.did], false))
        .await
        .unwrap();
    world.expire(&expiring.id);
    let before = rows(&first.wallet).await;
    let target = Target::Addressed(expiring.id.clone());
    let error = by_first
        .attest(&first.id, &target, neighbour(), Cryptosuite::EddsaJcs2022)
        .await
        .unwrap_err();
    // The wallet reads the request's state first and spends no list index on it.
    assert!(
        matches!(&error, FlowError::RequestClosed(state) if state == "expired"),
        "{error}"
    );
    let error = by_first
        .decline(&first.id, &target, None)
        .await
        .unwrap_err();
    assert_eq!(code(&error), Some("expired"), "{error}");
    assert_unchanged(
        &before,
        &rows(&first.wallet).await,
        "answering an expired request",
    );

    // A withdrawn request: gone for the attester and for its citizen.
    let withdrawn = mine
        .request(&citizen.id, &ask(&[&first.id.did], false))
        .await
        .unwrap();
    mine.withdraw(&withdrawn.id).await.unwrap();
    let kept = citizen
        .wallet
        .get::<RequestRecord>(&withdrawn.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.closed.is_some(),
        "a withdrawn request stays open in the wallet"
    );
    let target = Target::Addressed(withdrawn.id.clone());
    let error = by_first
        .attest(&first.id, &target, neighbour(), Cryptosuite::EddsaJcs2022)
        .await
        .unwrap_err();
    assert_eq!(code(&error), Some("not_found"), "{error}");
    assert_unchanged(
        &before,
        &rows(&first.wallet).await,
        "answering a withdrawn request",
    );

    let before = rows(&citizen.wallet).await;
    let error = mine.collect(&withdrawn.id).await.unwrap_err();
    assert_eq!(code(&error), Some("not_found"), "{error}");
    assert!(error.to_string().contains("attestation request"), "{error}");
    assert_unchanged(
        &before,
        &rows(&citizen.wallet).await,
        "collecting a withdrawn request",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_takes_one_presentation_and_the_log_keeps_both_attempts() {
    let world = World::start().await;
    let clerk = world.government("ixelles", "BE0207373429").await;
    let citizen = Person::new("me").await;
    let attester = world.witness("me").await;
    // An attestation from a witness, a category the residence policy does not count: presentable,
    // though it establishes nothing.
    let (credential, _) = world
        .agent(&attester.wallet)
        .issue(
            &attester.id,
            &citizen.id.did,
            RESIDENCE,
            &residence("27"),
            neighbour(),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let mine = world.agent(&citizen.wallet);
    mine.import(&citizen.id, &credential).await.unwrap();

    let challenge = world.ask_presentation(&clerk, RESIDENCE_POLICY).await;
    let ask = mine.presentation_request(&challenge).await.unwrap();
    let policy = mine.policy(&ask).await.unwrap();
    let chosen = mine.selection(&citizen.id, &policy, &[]).await.unwrap();
    assert_eq!(chosen.len(), 1);
    let first = mine.present(&citizen.id, &ask, &chosen).await.unwrap();
    let outcome = first.record.outcome.clone().expect("a decision's outcome");
    assert_ne!(outcome, "established", "{:#}", first.decision);
    assert!(first.status.is_none());

    // The same challenge again: refused, and the wallet says it was tried.
    let error = mine.present(&citizen.id, &ask, &chosen).await.unwrap_err();
    assert_eq!(code(&error), Some("challenge_refused"), "{error}");
    assert!(error.to_string().contains("answered already"), "{error}");
    // Asking about it now says the same.
    let error = mine.presentation_request(&challenge).await.unwrap_err();
    assert_eq!(code(&error), Some("challenge_refused"), "{error}");

    let log = citizen.wallet.all::<PresentationRecord>().await.unwrap();
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(log.iter().all(|r| r.challenge == challenge));
    assert!(log.iter().all(|r| r.disclosed.len() == 1));
    let outcomes: Vec<Option<&str>> = log.iter().map(|r| r.outcome.as_deref()).collect();
    assert_eq!(
        outcomes,
        vec![
            Some(outcome.as_str()),
            Some("not decided: challenge_refused")
        ]
    );
    assert_eq!(log[0].decision, first.record.decision);
    assert_eq!(log[1].decision, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presenting_with_nothing_that_fits_names_what_is_missing() {
    let world = World::start().await;
    let clerk = world.government("civil-registry", "BE0000000001").await;
    let citizen = Person::new("me").await;
    let attester = world.witness("me").await;
    // A residence attestation is kept; the civil registry asks about a birth.
    let (credential, _) = world
        .agent(&attester.wallet)
        .issue(
            &attester.id,
            &citizen.id.did,
            RESIDENCE,
            &residence("27"),
            neighbour(),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let mine = world.agent(&citizen.wallet);
    let residence_record = mine.import(&citizen.id, &credential).await.unwrap();

    let challenge = world.ask_presentation(&clerk, BIRTH_POLICY).await;
    let ask = mine.presentation_request(&challenge).await.unwrap();
    let policy = mine.policy(&ask).await.unwrap();
    let before = rows(&citizen.wallet).await;
    let chosen = mine.selection(&citizen.id, &policy, &[]).await.unwrap();
    assert!(chosen.is_empty());
    let error = mine.present(&citizen.id, &ask, &chosen).await.unwrap_err();
    match &error {
        FlowError::Invalid(message) => assert!(message.contains(BIRTH), "{message}"),
        other => panic!("nothing to present must be named, not {other:?}"),
    }
    // Choosing the residence attestation by hand is refused the same way, naming both.
    let error = mine
        .selection(
            &citizen.id,
            &policy,
            std::slice::from_ref(&residence_record.id),
        )
        .await
        .unwrap_err();
    match &error {
        FlowError::Invalid(message) => {
            assert!(message.contains(BIRTH), "{message}");
            assert!(message.contains(&residence_record.id), "{message}");
        }
        other => panic!("a credential of another fact must be refused, not {other:?}"),
    }
    assert_unchanged(&before, &rows(&citizen.wallet).await, "presenting nothing");

    // Nothing was sent: the challenge is still open.
    assert!(mine.presentation_request(&challenge).await.is_ok());
}

/// A phone whose clock is three hours behind.
struct Lagging;

impl Clock for Lagging {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() - Duration::hours(3)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_is_logged_even_when_its_status_credential_is_refused() {
    let world = World::start().await;
    let clerk = world.government("ixelles", "BE0207373429").await;
    let orgs = world.residence_orgs().await;
    let citizen = Person::new("me").await;
    world
        .bind_person(&citizen.id.did, "psn-citizen", "hh-27")
        .await;
    let mine = world.agent(&citizen.wallet);
    for (org, role) in &orgs {
        let mut subject = residence("27");
        subject["id"] = json!(citizen.id.did);
        subject["attesterRelation"] = json!({"role": role});
        let issued = world.issue_hosted(org, subject).await;
        mine.import(&citizen.id, &issued).await.unwrap();
    }
    let challenge = world.ask_presentation(&clerk, RESIDENCE_POLICY).await;
    let ask = mine.presentation_request(&challenge).await.unwrap();
    let policy = mine.policy(&ask).await.unwrap();
    let chosen = mine.selection(&citizen.id, &policy, &[]).await.unwrap();

    // Presented from a clock three hours behind: the service decides, but to the wallet the
    // status credential it sends back is not valid yet.
    let env = Env {
        transport: HttpTransport::new().unwrap(),
        clock: Lagging,
        entropy: OsEntropy,
    };
    let late = Agent::new(&citizen.wallet, &env, &world.url);
    let _ = late.present(&citizen.id, &ask, &chosen).await;
    let error = mine.presentation_request(&challenge).await.unwrap_err();
    assert_eq!(
        code(&error),
        Some("challenge_refused"),
        "not decided: {error}"
    );

    let log = citizen.wallet.all::<PresentationRecord>().await.unwrap();
    assert_eq!(
        log.len(),
        1,
        "the wallet keeps no trace of a decided presentation"
    );
    assert_eq!(log[0].outcome.as_deref(), Some("established"));
    assert!(log[0].decision.is_some());
    let kept = citizen.wallet.all::<CredentialRecord>().await.unwrap();
    assert!(kept.iter().all(|c| c.kind != CredentialKind::Status));
}
