//! A person attester's revocation: a neighbour (accredited as one because their own residence was
//! established) signs through the exchange with an entry on their own list, later revokes from
//! their wallet, and the credential the citizen keeps no longer verifies online. Before they are
//! accredited, the service keeps no list for them, so their wallet cannot sign.

use crate::support::{
    PASSPHRASE, Person, RESIDENCE, World, assert_unchanged, residence, rng, rows,
};
use chrono::Utc;
use corroborate_verifier::failure::Failure;
use corroborate_verifier::proof::Cryptosuite;
use corroborate_verifier::verification::{
    Check, CheckOutcome, CredentialReport, Verdict, VerifyOptions, verify_credential,
};
use corroborate_wallet::flows::{Ask, FlowError, Target};
use corroborate_wallet::memory::MemoryStorage;
use corroborate_wallet::records::{GivenRecord, StatusListRecord};
use corroborate_wallet::resolve::Online;
use corroborate_wallet::store::Wallet;
use serde_json::{Value, json};

/// Verifies `credential` as the citizen's wallet would, online against the service.
async fn verify_online(world: &World, credential: &Value) -> CredentialReport {
    let now = Utc::now();
    let online = Online::new(&world.url, &world.env.transport, now);
    let mut options = VerifyOptions::at(now).with_status(&online);
    options.require_schema = true;
    verify_credential(credential.clone(), &options, &online).await
}

fn status_outcome(report: &CredentialReport) -> &CheckOutcome {
    &report
        .checks
        .iter()
        .find(|check| check.check == Check::Status)
        .expect("a status check")
        .outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neighbour_revokes_and_the_citizens_credential_no_longer_verifies() {
    let world = World::start().await;
    let clerk = world.government("ixelles", "BE0207373429").await;
    let citizen = Person::new("me").await;
    let neighbour = Person::new("me").await;
    world
        .bind_person(&neighbour.id.did, "psn-neighbour-25", "hh-25")
        .await;
    let asking = world.agent(&citizen.wallet);
    let request = asking
        .request(
            &citizen.id,
            &Ask {
                fact_type: RESIDENCE.into(),
                claims: residence("27"),
                addressed_to: vec![neighbour.id.did.clone()],
                open_link: false,
                expires_in_days: None,
                note: None,
            },
        )
        .await
        .unwrap();
    let target = Target::Addressed(request.id.clone());
    let relation = json!({"role": "neighbour", "since": "2019-04-01"});

    // The exchange carries anyone's answer, but the wallet signs with an entry on the
    // attester's own revocation list, and the service keeps lists for accredited attesters
    // only: someone in no registry cannot sign yet, and nothing is left behind.
    let signing = world.agent(&neighbour.wallet);
    let before = rows(&neighbour.wallet).await;
    let error = signing
        .attest(
            &neighbour.id,
            &target,
            relation.clone(),
            Cryptosuite::EddsaRdfc2022,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, FlowError::NotAccredited), "{error}");
    assert_unchanged(&before, &rows(&neighbour.wallet).await, "a refused list");
    let view = asking.progress(&request.id).await.unwrap();
    assert_eq!(view["progress"][0]["progress"], "pending", "{view:#}");

    // Their own residence at number 25 established, the service makes them a neighbour for
    // the postcode, and they sign.
    let orgs = world.residence_orgs().await;
    world
        .establish_residence(&clerk, &orgs, &neighbour, "25")
        .await;
    let given = signing
        .attest(&neighbour.id, &target, relation, Cryptosuite::EddsaRdfc2022)
        .await
        .unwrap();
    assert_eq!(
        (given.subject.as_str(), given.request.as_str()),
        (citizen.id.did.as_str(), request.id.as_str())
    );
    assert!(given.revoked.is_none());

    let collection = asking.collect(&request.id).await.unwrap();
    assert!(collection.refused.is_empty(), "{:?}", collection.refused);
    assert_eq!(collection.stored.len(), 1);
    let kept = &collection.stored[0];
    assert_eq!(kept.id, given.id);
    assert_eq!(kept.issuer, neighbour.id.did);
    let before = verify_online(&world, &kept.credential).await;
    assert_eq!(before.verdict, Verdict::Valid, "{before:#?}");
    assert_eq!(status_outcome(&before), &CheckOutcome::Passed);

    // The neighbour revokes: their list, re-signed in their wallet, is published again.
    let revoked = signing.revoke(&given.id).await.unwrap();
    let when = revoked.revoked.expect("the revocation's time");
    let stored = neighbour
        .wallet
        .get::<GivenRecord>(&given.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.revoked, Some(when));
    let list = neighbour
        .wallet
        .get::<StatusListRecord>(&given.list)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(list.revoked, vec![given.index]);
    // Revoking again changes nothing: the first time stays.
    let again = signing.revoke(&given.id).await.unwrap();
    assert_eq!(again.revoked, Some(when));

    // The credential the citizen keeps now fails its status check, and only that.
    let after = verify_online(&world, &kept.credential).await;
    assert_eq!(after.verdict, Verdict::Invalid, "{after:#?}");
    assert_eq!(
        status_outcome(&after),
        &CheckOutcome::Failed {
            failure: Failure::Revoked {
                purpose: "revocation".into()
            }
        }
    );
    for check in after.checks.iter().filter(|c| c.check != Check::Status) {
        assert!(
            matches!(
                check.outcome,
                CheckOutcome::Passed | CheckOutcome::NotApplicable
            ),
            "{check:?}"
        );
    }
}

/// An attester restores their wallet from a backup made before a revocation: the service's list
/// has a bit the wallet does not know of. Revoking another attestation keeps both bits set — the
/// wallet reads the published list, checks it is its own, and never undoes a revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_wallet_keeps_the_revocations_it_did_not_know_of() {
    let world = World::start().await;
    let witness = world.witness("me").await;
    let signing = world.agent(&witness.wallet);
    let mut given = Vec::new();
    for n in ["27", "29"] {
        let citizen = Person::new("me").await;
        let (credential, record) = signing
            .issue(
                &witness.id,
                &citizen.id.did,
                RESIDENCE,
                &residence(n),
                json!({"role": "neighbour"}),
                Cryptosuite::EddsaJcs2022,
            )
            .await
            .unwrap();
        given.push((credential, record));
    }
    let backup = witness.wallet.backup(&mut rng()).await.unwrap();
    signing.revoke(&given[0].1.id).await.unwrap();

    // The device is lost; the backup comes back on a new one.
    let restored = Wallet::restore(MemoryStorage::new(), &backup, PASSPHRASE)
        .await
        .unwrap();
    let list: StatusListRecord = restored.get(&given[0].1.list).await.unwrap().unwrap();
    assert!(
        list.revoked.is_empty(),
        "the backup predates the revocation"
    );
    let again = world.agent(&restored);
    again.revoke(&given[1].1.id).await.unwrap();

    for (credential, _) in &given {
        let report = verify_online(&world, credential).await;
        assert_eq!(
            status_outcome(&report),
            &CheckOutcome::Failed {
                failure: Failure::Revoked {
                    purpose: "revocation".into()
                }
            },
            "{report:#?}"
        );
    }
}
