//! The wallet file: the residence story with the citizen's wallet in a SQLite file, then the file
//! reopened with the passphrase, and a backup restored into another file, each holding the whole
//! of it (credentials, the request, the presentation log, the status credential and what was
//! fetched to check them offline).

use crate::support::{
    PASSPHRASE, Person, RESIDENCE, RESIDENCE_POLICY, World, residence, rng, rows,
};
use chrono::Utc;
use corroborate_verifier::proof::Cryptosuite;
use corroborate_verifier::verification::{Verdict, VerifyOptions, verify_credential};
use corroborate_wallet::flows::{Ask, Target};
use corroborate_wallet::native::SqliteStorage;
use corroborate_wallet::platform::Storage;
use corroborate_wallet::records::{
    CachedRecord, CredentialKind, CredentialRecord, IdentityRecord, PresentationRecord,
    RequestRecord,
};
use corroborate_wallet::resolve::Offline;
use corroborate_wallet::store::{Wallet, WalletError};
use serde_json::json;
use std::collections::BTreeSet;

/// What the citizen's wallet should hold after the story, read back from a wallet.
struct Held {
    identities: Vec<IdentityRecord>,
    credentials: Vec<CredentialRecord>,
    requests: Vec<RequestRecord>,
    log: Vec<PresentationRecord>,
    cached: Vec<CachedRecord>,
}

async fn held<S: Storage>(wallet: &Wallet<S>) -> Held {
    Held {
        identities: wallet.all().await.unwrap(),
        credentials: wallet.all().await.unwrap(),
        requests: wallet.all().await.unwrap(),
        log: wallet.all().await.unwrap(),
        cached: wallet.all().await.unwrap(),
    }
}

/// Everything the story left, checked in whichever wallet holds it.
async fn check_story<S: Storage>(wallet: &Wallet<S>, citizen: &str, request: &str) {
    let held = held(wallet).await;
    assert_eq!(held.identities.len(), 1);
    assert_eq!(held.identities[0].did, citizen);
    let attestations: Vec<&CredentialRecord> = held
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::Attestation)
        .collect();
    assert_eq!(attestations.len(), 3);
    assert!(
        attestations
            .iter()
            .all(|c| c.holder == citizen && c.fact_type == RESIDENCE)
    );
    let sources: BTreeSet<&str> = attestations.iter().map(|c| c.source.as_str()).collect();
    assert_eq!(sources, BTreeSet::from(["import", request]));

    assert_eq!(held.requests.len(), 1);
    assert_eq!(held.requests[0].id, request);
    assert!(held.requests[0].closed.is_some());

    assert_eq!(held.log.len(), 1);
    let presented = &held.log[0];
    assert_eq!(presented.policy, RESIDENCE_POLICY);
    assert_eq!(presented.outcome.as_deref(), Some("established"));
    let disclosed: BTreeSet<&str> = presented
        .disclosed
        .iter()
        .map(|d| d.credential.as_str())
        .collect();
    assert_eq!(
        disclosed,
        attestations.iter().map(|c| c.id.as_str()).collect()
    );

    let status: Vec<&CredentialRecord> = held
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::Status)
        .collect();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].holder, citizen);
    assert_eq!(
        Some(status[0].source.as_str()),
        presented.decision.as_deref()
    );

    // What was fetched to check it is kept: it verifies offline, "as of" then.
    let offline = Offline::new(held.cached);
    let mut options = VerifyOptions::at(Utc::now()).with_status(&offline);
    options.require_schema = true;
    let report = verify_credential(status[0].credential.clone(), &options, &offline).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_file_keeps_the_residence_story_and_so_does_its_backup() {
    let world = World::start().await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("citizen.sqlite");
    let citizen = Person::in_storage(SqliteStorage::open(&file).unwrap(), "me").await;
    let me = citizen.id.did.clone();
    world.bind_person(&me, "psn-citizen", "hh-27").await;
    let clerk = world.government("ixelles", "BE0207373429").await;
    let utility = world.org("sibelga", "utility", "BE0222869673").await;
    let bank = world.org("belfius", "bank", "BE0403201185").await;
    // The parcel carrier signs with a key of its own, in its own wallet.
    let carrier = Person::new("carrier").await;
    world
        .accredit(
            &carrier.id.did,
            "carrier",
            &[RESIDENCE],
            "BE0214596464",
            None,
        )
        .await;

    // The utility and the bank issue through hosted issuance; the citizen imports both files.
    let mine = world.agent(&citizen.wallet);
    for (org, role) in [(&utility, "utility-supplier"), (&bank, "bank")] {
        let mut subject = residence("27");
        subject["id"] = json!(me);
        subject["attesterRelation"] = json!({"role": role});
        let issued = world.issue_hosted(org, subject).await;
        let kept = mine.import(&citizen.id, &issued).await.unwrap();
        assert_eq!(kept.issuer, org.did);
    }

    // The carrier answers a request through the exchange.
    let request = mine
        .request(
            &citizen.id,
            &Ask {
                fact_type: RESIDENCE.into(),
                claims: residence("27"),
                addressed_to: vec![carrier.id.did.clone()],
                open_link: false,
                expires_in_days: None,
                note: Some("I moved in at number 27 in September 2021.".into()),
            },
        )
        .await
        .unwrap();
    world
        .agent(&carrier.wallet)
        .attest(
            &carrier.id,
            &Target::Addressed(request.id.clone()),
            json!({"role": "parcel-carrier", "since": "2021-10-01"}),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let collection = mine.collect(&request.id).await.unwrap();
    assert_eq!(collection.stored.len(), 1, "{:?}", collection.refused);

    // The municipality decides.
    let challenge = world.ask_presentation(&clerk, RESIDENCE_POLICY).await;
    let ask = mine.presentation_request(&challenge).await.unwrap();
    let policy = mine.policy(&ask).await.unwrap();
    let chosen = mine.selection(&citizen.id, &policy, &[]).await.unwrap();
    let presented = mine.present(&citizen.id, &ask, &chosen).await.unwrap();
    assert_eq!(
        presented.decision["outcome"], "established",
        "{:#}",
        presented.decision
    );
    check_story(&citizen.wallet, &me, &request.id).await;
    let written = rows(&citizen.wallet).await;

    // Closed, and reopened from the file: a wrong passphrase opens nothing, the right one all.
    drop(citizen);
    let refused = Wallet::open(SqliteStorage::open(&file).unwrap(), "not the passphrase").await;
    assert!(
        matches!(refused, Err(WalletError::WrongPassphrase)),
        "{:?}",
        refused.err()
    );
    let reopened = Wallet::open(SqliteStorage::open(&file).unwrap(), PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(rows(&reopened).await, written);
    check_story(&reopened, &me, &request.id).await;

    // A backup, restored into a new file, holds the same rows; the identity still signs in.
    let backup = reopened.backup(&mut rng()).await.unwrap();
    let copy = folder.path().join("restored.sqlite");
    let restored = Wallet::restore(SqliteStorage::open(&copy).unwrap(), &backup, PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(restored.id(), reopened.id());
    assert_eq!(rows(&restored).await, written);
    check_story(&restored, &me, &request.id).await;
    let identity: IdentityRecord = restored.get(&me).await.unwrap().unwrap();
    let session = world.agent(&restored).sign_in(&identity).await.unwrap();
    assert_eq!(session.did, me);
    // And the restored file opens again on its own.
    drop(restored);
    let again = Wallet::open(SqliteStorage::open(&copy).unwrap(), PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(rows(&again).await, written);
}
