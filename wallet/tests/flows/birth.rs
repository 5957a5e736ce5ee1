//! The multi-party civil fact: a child's birth, asked of a physician and both parents in one
//! request about the child's own identity, followed answer by answer, collected, and presented
//! as the child under the civil registry's birth policy.

use crate::support::{BIRTH, BIRTH_POLICY, Person, World, progress, rng};
use chrono::{Duration, Utc};
use corroborate_verifier::proof::Cryptosuite;
use corroborate_wallet::flows::{Ask, FlowError, Target};
use corroborate_wallet::identity;
use corroborate_wallet::records::{
    CredentialKind, CredentialRecord, GivenRecord, ReceiptRecord, RequestRecord,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_birth_attested_by_a_physician_and_both_parents_is_established() {
    let world = World::start().await;
    // The mother's wallet holds her own identity and the one she makes for her child.
    let mother = Person::new("me").await;
    let lea = identity::create(&mother.wallet, "Léa", &mut rng(), Utc::now())
        .await
        .unwrap();
    let father = Person::new("me").await;
    let physician = Person::new("me").await;
    let clerk = world.government("civil-registry", "BE0000000001").await;

    // The registry: the family's persons in one household, the physician licensed, and both
    // parents accredited as parents (who count only where the fact names them).
    for (did, person) in [
        (&mother.id.did, "psn-mother"),
        (&father.id.did, "psn-father"),
        (&lea.did, "psn-lea"),
    ] {
        world.bind_person(did, person, "hh-family").await;
    }
    world
        .bind_person(&physician.id.did, "psn-physician", "hh-physician")
        .await;
    world
        .accredit(
            &physician.id.did,
            "physician",
            &[BIRTH],
            "psn-physician",
            Some("psn-physician"),
        )
        .await;
    for (did, person) in [
        (&mother.id.did, "psn-mother"),
        (&father.id.did, "psn-father"),
    ] {
        world
            .accredit(did, "parent", &[BIRTH], person, Some(person))
            .await;
    }

    // One request about Léa, addressed to all three.
    let born = (Utc::now() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let claims = json!({"birth": {
        "date": born,
        "place": {"municipality": {"fr": "Ixelles", "nl": "Elsene"}, "country": "BE"},
        "mother": {"id": mother.id.did},
        "father": {"id": father.id.did},
        "childName": {"given": "Léa", "family": "Janssens"},
    }});
    let family = world.agent(&mother.wallet);
    let attesters = [&physician.id.did, &mother.id.did, &father.id.did];
    let request = family
        .request(
            &lea,
            &Ask {
                fact_type: BIRTH.into(),
                claims: claims.clone(),
                addressed_to: attesters.iter().map(|did| (*did).clone()).collect(),
                open_link: false,
                expires_in_days: Some(7),
                note: Some("Léa was born yesterday at the Clinique des Étangs.".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(request.holder, lea.did);
    let view = family.progress(&request.id).await.unwrap();
    assert_eq!(view["state"], "open", "{view:#}");
    assert_eq!(view["subject"], lea.did.as_str());
    // Every attester pending but those named.
    let expected = |known: &[(&String, &str)]| -> BTreeMap<String, String> {
        attesters
            .iter()
            .map(|did| {
                let progress = known
                    .iter()
                    .find(|(who, _)| who == did)
                    .map_or("pending", |(_, progress)| progress);
                ((*did).clone(), progress.to_owned())
            })
            .collect()
    };
    assert_eq!(progress(&view), expected(&[]));

    // The physician finds it in their inbox, reads exactly what is asked, and signs.
    let clinic = world.agent(&physician.wallet);
    let inbox = clinic.inbox(&physician.id).await.unwrap();
    assert!(
        inbox.iter().any(|r| r["id"] == request.id.as_str()),
        "{inbox:#?}"
    );
    let target = Target::Addressed(request.id.clone());
    let reviewed = clinic.review(&physician.id, &target).await.unwrap();
    assert_eq!(reviewed["claims"], claims);
    assert_eq!(reviewed["subject"], lea.did.as_str());
    let role = |role: &str| json!({"role": role});
    clinic
        .attest(
            &physician.id,
            &target,
            role("physician"),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let view = family.progress(&request.id).await.unwrap();
    assert_eq!(view["state"], "answered", "{view:#}");
    assert_eq!(
        progress(&view),
        expected(&[(&physician.id.did, "answered")])
    );

    // Collected in part: the physician's is kept, and the request stays open for the parents.
    let early = family.collect(&request.id).await.unwrap();
    assert_eq!(early.state, "answered");
    assert_eq!(early.stored.len(), 1, "{:?}", early.refused);
    assert_eq!(early.stored[0].issuer, physician.id.did);
    let kept = mother
        .wallet
        .get::<RequestRecord>(&request.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.closed, None,
        "the wallet closed a request that still expects answers"
    );

    // The mother signs from the wallet that holds Léa's identity too.
    family
        .attest(
            &mother.id,
            &target,
            role("mother"),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let view = family.progress(&request.id).await.unwrap();
    assert_eq!(
        progress(&view),
        expected(&[
            (&physician.id.did, "collected"),
            (&mother.id.did, "answered")
        ])
    );

    world
        .agent(&father.wallet)
        .attest(
            &father.id,
            &target,
            role("father"),
            Cryptosuite::EddsaJcs2022,
        )
        .await
        .unwrap();
    let view = family.progress(&request.id).await.unwrap();
    assert_eq!(view["state"], "closed", "{view:#}");
    assert_eq!(
        progress(&view),
        expected(&[
            (&physician.id.did, "collected"),
            (&mother.id.did, "answered"),
            (&father.id.did, "answered")
        ])
    );

    // Collected: the parents' two, and the physician's again (a collection repeats for a while,
    // in case its answer was lost), kept once each: three credentials about Léa, each from the
    // attester who answered.
    let collection = family.collect(&request.id).await.unwrap();
    assert!(collection.refused.is_empty(), "{:?}", collection.refused);
    assert!(collection.declined.is_empty());
    assert_eq!(collection.state, "closed");
    let all = mother.wallet.all::<CredentialRecord>().await.unwrap();
    assert_eq!(all.len(), 3, "{all:#?}");
    for record in &all {
        assert_eq!(record.kind, CredentialKind::Attestation);
        assert_eq!(record.holder, lea.did);
        assert_eq!(record.fact_type, BIRTH);
        assert_eq!(record.source, request.id);
        assert_eq!(
            record.credential["credentialSubject"]["id"],
            lea.did.as_str()
        );
    }
    let issuers: BTreeSet<&str> = all.iter().map(|r| r.issuer.as_str()).collect();
    assert_eq!(issuers, attesters.iter().map(|did| did.as_str()).collect());
    let kept = mother
        .wallet
        .get::<RequestRecord>(&request.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.closed.is_some(),
        "a collected, closed request stays open in the wallet"
    );
    let view = family.progress(&request.id).await.unwrap();
    assert!(
        progress(&view).values().all(|p| p == "collected"),
        "{view:#}"
    );
    // What the mother signed for her child is noted for a later revocation.
    let given = mother.wallet.all::<GivenRecord>().await.unwrap();
    assert_eq!(given.len(), 1);
    assert_eq!(
        (given[0].attester.as_str(), given[0].subject.as_str()),
        (mother.id.did.as_str(), lea.did.as_str())
    );

    // Léa presents to the civil registry, which establishes her birth.
    let challenge = world.ask_presentation(&clerk, BIRTH_POLICY).await;
    let ask = family.presentation_request(&challenge).await.unwrap();
    let policy = family.policy(&ask).await.unwrap();
    assert_eq!(
        (ask.policy.as_str(), ask.fact_type.as_str()),
        (BIRTH_POLICY, BIRTH)
    );
    assert_eq!(ask.verifier, clerk.id.did);
    let chosen = family.selection(&lea, &policy, &[]).await.unwrap();
    assert_eq!(chosen.len(), 3);
    // The mother's own identity holds nothing to present here.
    assert!(
        family
            .selection(&mother.id, &policy, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let presented = family.present(&lea, &ask, &chosen).await.unwrap();
    let decision = &presented.decision;
    assert_eq!(decision["outcome"], "established", "{decision:#}");
    assert_eq!(decision["subject"], lea.did.as_str());
    assert_eq!(presented.record.outcome.as_deref(), Some("established"));
    assert_eq!(presented.record.holder, lea.did);
    assert_eq!(presented.record.disclosed.len(), 3);
    assert_eq!(
        presented.record.decision.as_deref(),
        decision["id"].as_str()
    );

    // The status credential is kept, about Léa.
    let status = presented
        .status
        .expect("an established decision's status credential");
    let stored: Vec<CredentialRecord> = mother
        .wallet
        .all::<CredentialRecord>()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == CredentialKind::Status)
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, status.id);
    assert_eq!(stored[0].holder, lea.did);
    assert_eq!(stored[0].fact_type, "DerivedStatusCredential");
    assert_eq!(
        stored[0].credential["credentialSubject"]["id"],
        Value::from(lea.did.as_str())
    );

    // Its anchoring receipt: fetched once the batch is cut, checked against the credential and
    // the service's published keys, and kept (it holds the salt).
    let mut kept = None;
    for _ in 0..100 {
        match family.receipt(&lea, &stored[0]).await {
            Ok(record) => {
                kept = Some(record);
                break;
            }
            Err(FlowError::NotAnchoredYet) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err(other) => panic!("{other}"),
        }
    }
    let kept = kept.expect("anchored within five seconds");
    assert_eq!(kept.credential, status.id);
    assert!(kept.receipt["salt"].is_string());
    let again: Vec<ReceiptRecord> = mother.wallet.all().await.unwrap();
    assert_eq!(again.len(), 1);
    // Only a status credential has a receipt.
    let attestation = mother
        .wallet
        .all::<CredentialRecord>()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.kind != CredentialKind::Status)
        .unwrap();
    assert!(matches!(
        family.receipt(&lea, &attestation).await,
        Err(FlowError::Invalid(_))
    ));
}
