//! Migrations: up, down, up again on both dialects, and the append-only audit log.

use crate::on_both;
use crate::support::{Dialect, fresh_postgres_database};
use corroborate_backend::db::{self, AnyConnection, DatabaseUrl};
use diesel::RunQueryDsl;
use secrecy::SecretString;

fn connect(dialect: Dialect, dir: &std::path::Path) -> AnyConnection {
    let url = match dialect {
        Dialect::Sqlite => format!("sqlite://{}", dir.join("m.sqlite").display()),
        Dialect::Postgres => fresh_postgres_database(),
    };
    DatabaseUrl::parse(&SecretString::from(url))
        .unwrap()
        .connect()
        .unwrap()
}

/// Every table of the diesel schema can be read.
fn read_every_table(conn: &mut AnyConnection) -> Result<(), diesel::result::Error> {
    use corroborate_backend::db::schema::*;
    use diesel::prelude::*;
    audit_log::table.count().get_result::<i64>(conn)?;
    auth_challenges::table.count().get_result::<i64>(conn)?;
    sessions::table.count().get_result::<i64>(conn)?;
    accreditations::table.count().get_result::<i64>(conn)?;
    accreditation_suspensions::table
        .count()
        .get_result::<i64>(conn)?;
    persons::table.count().get_result::<i64>(conn)?;
    issuers::table.count().get_result::<i64>(conn)?;
    issuer_operators::table.count().get_result::<i64>(conn)?;
    service_keys::table.count().get_result::<i64>(conn)?;
    status_lists::table.count().get_result::<i64>(conn)?;
    status_entries::table.count().get_result::<i64>(conn)?;
    issued_credentials::table.count().get_result::<i64>(conn)?;
    idempotency_keys::table.count().get_result::<i64>(conn)?;
    attestation_requests::table
        .count()
        .get_result::<i64>(conn)?;
    attestation_responses::table
        .count()
        .get_result::<i64>(conn)?;
    verifier_challenges::table.count().get_result::<i64>(conn)?;
    decisions::table.count().get_result::<i64>(conn)?;
    decision_inputs::table.count().get_result::<i64>(conn)?;
    decision_input_entries::table
        .count()
        .get_result::<i64>(conn)?;
    erasures::table.count().get_result::<i64>(conn)?;
    anchor_records::table
        .select(anchor_records::all_columns)
        .load::<(
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            i64,
            Option<String>,
            Option<i64>,
            Option<String>,
        )>(conn)?;
    anchor_batches::table
        .select(anchor_batches::all_columns)
        .load::<(
            String,
            String,
            String,
            String,
            i64,
            String,
            Option<String>,
            Option<String>,
            i64,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            i32,
            i64,
            Option<String>,
        )>(conn)?;
    anchor_links::table
        .select(anchor_links::all_columns)
        .load::<(String, String, i64, String)>(conn)?;
    log_identity::table
        .select(log_identity::all_columns)
        .load::<(String, String, Vec<u8>, i64)>(conn)?;
    log_leaves::table
        .select(log_leaves::all_columns)
        .load::<(i64, String, String, i64)>(conn)?;
    log_checkpoints::table
        .select(log_checkpoints::all_columns)
        .load::<(i64, String, String, i64, i32, Option<i64>)>(conn)?;
    log_witness_state::table
        .select(log_witness_state::all_columns)
        .load::<(String, i64)>(conn)?;
    // Every column too: select whole rows.
    audit_log::table.select(audit_log::all_columns).load::<(
        i64,
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
    )>(conn)?;
    Ok(())
}

async fn up_down_up(dialect: Dialect) {
    let dir = std::env::temp_dir().join(format!("corroborate-mig-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conn = connect(dialect, &dir);
    db::migrate(&mut conn).unwrap();
    read_every_table(&mut conn).unwrap();
    db::revert_all(&mut conn).unwrap();
    assert!(
        read_every_table(&mut conn).is_err(),
        "tables left after reverting"
    );
    db::migrate(&mut conn).unwrap();
    read_every_table(&mut conn).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
on_both!(up_down_up);

async fn the_audit_log_refuses_rewrites(dialect: Dialect) {
    let dir = std::env::temp_dir().join(format!("corroborate-mig-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conn = connect(dialect, &dir);
    db::migrate(&mut conn).unwrap();
    // Entries are written inside the act's transaction (PostgreSQL locks the table for it).
    diesel::Connection::transaction(&mut conn, |conn| {
        corroborate_backend::audit::record(
            conn,
            chrono::Utc::now(),
            "admin:alice",
            "test",
            "target",
            serde_json::json!({"n": 1}),
        )
    })
    .unwrap();
    assert!(
        diesel::sql_query("UPDATE audit_log SET actor = 'mallory'")
            .execute(&mut conn)
            .is_err()
    );
    assert!(
        diesel::sql_query("DELETE FROM audit_log")
            .execute(&mut conn)
            .is_err()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
on_both!(the_audit_log_refuses_rewrites);
