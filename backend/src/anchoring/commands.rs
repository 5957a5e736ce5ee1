//! The operator's `corroborate-backend anchors …` commands: where anchoring stands, cutting what
//! waits now, and re-anchoring old roots on the ledger now configured.

use super::Anchoring;
use super::reanchor::reanchor_in;
use crate::db::schema::{anchor_batches, anchor_records};
use crate::db::{DatabaseUrl, Db};
use crate::keys::Sealer;
use crate::settings::Settings;
use anyhow::Context;
use chrono::Utc;
use diesel::prelude::*;
use std::time::{Duration, Instant};

fn open(settings: &Settings) -> anyhow::Result<(Db, Anchoring)> {
    let url = DatabaseUrl::parse(&settings.database_url)?;
    let db = Db::open(&url, 2).context("opening the database")?;
    let sealer = Sealer::load(settings.master_key.as_ref(), &settings.data_dir)
        .context("loading the master key")?;
    let public_url = if settings.public_url.is_empty() {
        format!("http://{}", settings.listen)
    } else {
        settings.public_url.trim_end_matches('/').to_owned()
    };
    let anchoring = Anchoring::build(&settings.anchoring, &db, &sealer, &public_url)
        .context("opening the anchoring connector")?;
    Ok((db, anchoring))
}

/// Prints how many records wait and the batches per connector and state.
pub async fn status(settings: &Settings) -> anyhow::Result<()> {
    let (db, anchoring) = open(settings)?;
    let (waiting, rows) = db
        .read(|conn| {
            let waiting: i64 = anchor_records::table
                .filter(anchor_records::batch_id.is_null())
                .count()
                .get_result(conn)?;
            let rows: Vec<(String, String, i64)> = anchor_batches::table
                .group_by((anchor_batches::connector, anchor_batches::state))
                .select((
                    anchor_batches::connector,
                    anchor_batches::state,
                    diesel::dsl::count_star(),
                ))
                .load(conn)?;
            Ok((waiting, rows))
        })
        .await?;
    println!("connector: {}", anchoring.slot.name());
    println!("log: {}", anchoring.log.verifier().to_vkey());
    println!("records waiting for a batch: {waiting}");
    for (connector, state, count) in rows {
        println!("batches on {connector}, {state}: {count}");
    }
    Ok(())
}

/// Cuts every waiting record into batches now and anchors them, waiting up to `wait` for
/// `final`.
pub async fn flush(settings: &Settings, wait: Duration) -> anyhow::Result<()> {
    let (db, anchoring) = open(settings)?;
    let batcher = anchoring.batcher(&db);
    let cut = batcher.flush().await?;
    println!("batches cut: {cut}");
    drive(&db, &batcher, wait).await
}

/// Re-anchors, on the configured connector, the roots of every final batch of other connectors
/// not yet carried over; waits up to `wait` for the new batch to be final.
pub async fn reanchor(settings: &Settings, wait: Duration) -> anyhow::Result<()> {
    let (db, anchoring) = open(settings)?;
    let connector = anchoring.slot.name();
    let max = settings.anchoring.max_batch;
    let done = db
        .write::<_, super::reanchor::ReanchorError, _>(move |conn| {
            reanchor_in(conn, connector, max, Utc::now())
        })
        .await?;
    match done {
        None => println!("nothing to re-anchor: every final root is already on {connector}"),
        Some(done) => println!(
            "re-anchoring {} roots on {connector} in batch {}",
            done.roots, done.batch_id
        ),
    }
    let batcher = anchoring.batcher(&db);
    drive(&db, &batcher, wait).await
}

async fn drive(db: &Db, batcher: &super::batcher::Batcher, wait: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        batcher.round(Utc::now()).await?;
        let open: i64 = db
            .read(|conn| {
                Ok(anchor_batches::table
                    .filter(anchor_batches::state.ne("final"))
                    .count()
                    .get_result(conn)?)
            })
            .await?;
        if open == 0 {
            println!("every batch is final");
            return Ok(());
        }
        if started.elapsed() >= wait {
            println!("{open} batches are not final yet; the service's batcher carries on");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
