//! The audit trail: append-only, hash-chained per organisation.
//!
//! Each row's `hash` is SHA-256 over the previous row's hash and the row's canonical JSON,
//! so editing a row breaks its own hash and deleting one breaks the next row's link (and
//! leaves a gap in `seq`). Rows are appended inside the transaction of the change they
//! describe, serialised per organisation (SQLite's write lock; a transaction-scoped
//! advisory lock on PostgreSQL) so the chain never forks.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::SharedClock;
use crate::db::{Backend, Db, Tx};
use crate::tenancy::{RequestMeta, TenantContext};

/// `prev_hash` of the first row of every chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit entry to append.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Organisation whose chain it joins (nil UUID for events outside any organisation,
    /// e.g. a failed login for an unknown email).
    pub org_id: Uuid,
    /// `user:<id>`, `api_key:<id>`, `system`, `anonymous`.
    pub actor: String,
    /// What happened: `user.created`, `auth.login_failed`, `permission.denied`, ...
    pub action: String,
    /// Kind of record (`user`, `role`, `api_key`, `deal`, ...).
    pub entity_type: String,
    /// Its id, when there is one.
    pub entity_id: Option<String>,
    /// What changed: `{"before": ..., "after": ...}` or event details.
    pub changes: serde_json::Value,
    /// Request origin.
    pub request: RequestMeta,
}

impl AuditEntry {
    /// An entry for an action of `ctx`'s caller.
    pub fn by(
        ctx: &TenantContext,
        action: &str,
        entity_type: &str,
        entity_id: Option<String>,
    ) -> Self {
        Self {
            org_id: ctx.org_id(),
            actor: ctx.actor().label(),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id,
            changes: serde_json::Value::Null,
            request: ctx.request().clone(),
        }
    }

    /// Records the before/after of an update as only the fields that changed.
    pub fn with_diff(mut self, before: &serde_json::Value, after: &serde_json::Value) -> Self {
        self.changes = diff(before, after);
        self
    }

    /// Attaches free-form details.
    pub fn with_changes(mut self, changes: serde_json::Value) -> Self {
        self.changes = changes;
        self
    }
}

/// `{"field": {"before": x, "after": y}}` for every top-level field that differs.
pub fn diff(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Map, Value};
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (old, new) = (
            b.get(key).unwrap_or(&Value::Null),
            a.get(key).unwrap_or(&Value::Null),
        );
        if old != new {
            out.insert(
                key.clone(),
                serde_json::json!({ "before": old, "after": new }),
            );
        }
    }
    Value::Object(out)
}

/// One stored audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct AuditRow {
    /// Position in the organisation's chain (1, 2, ...).
    pub seq: i64,
    /// Row id.
    pub id: Uuid,
    /// Organisation.
    pub org_id: Uuid,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Kind of record.
    pub entity_type: String,
    /// Record id.
    pub entity_id: Option<String>,
    /// Changes as JSON text (stored verbatim so the hash can be recomputed).
    pub changes: String,
    /// Client IP.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    id: Uuid,
    org_id: Uuid,
    occurred_at: String,
    actor: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<&'a str>,
    changes: &'a str,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    request_id: Option<&'a str>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash a row must have, given its content and the previous hash.
pub fn row_hash(row: &AuditRow) -> String {
    let canonical = Canonical {
        seq: row.seq,
        id: row.id,
        org_id: row.org_id,
        // Microseconds: PostgreSQL's precision, so both backends hash the same text.
        occurred_at: row
            .occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        actor: &row.actor,
        action: &row.action,
        entity_type: &row.entity_type,
        entity_id: row.entity_id.as_deref(),
        changes: &row.changes,
        ip: row.ip.as_deref(),
        user_agent: row.user_agent.as_deref(),
        request_id: row.request_id.as_deref(),
    };
    let mut hasher = Sha256::new();
    hasher.update(row.prev_hash.as_bytes());
    hasher.update(serde_json::to_vec(&canonical).unwrap_or_default());
    hex(&hasher.finalize())
}

/// Appends `entry` to its organisation's chain inside `tx`.
pub async fn append(
    tx: &mut Tx,
    clock: &SharedClock,
    entry: AuditEntry,
) -> Result<AuditRow, sqlx::Error> {
    if tx.backend() == Backend::Postgres {
        // Serialise appends per organisation; released at commit/rollback.
        let key = i64::from_be_bytes(entry.org_id.as_bytes()[..8].try_into().unwrap_or([0; 8]));
        crate::on_tx!(tx, |conn| sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .fetch_optional(conn)
            .await
            .map(|_| ()))?;
    }
    let last: Option<(i64, String)> = crate::on_tx!(tx, |conn| sqlx::query_as(
        "SELECT seq, hash FROM audit_log WHERE org_id = $1 ORDER BY seq DESC LIMIT 1"
    )
    .bind(entry.org_id)
    .fetch_optional(conn)
    .await)?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let mut row = AuditRow {
        seq,
        id: Uuid::now_v7(),
        org_id: entry.org_id,
        occurred_at: clock.now().trunc_subsecs(6),
        actor: entry.actor,
        action: entry.action,
        entity_type: entry.entity_type,
        entity_id: entry.entity_id,
        changes: entry.changes.to_string(),
        ip: entry.request.ip,
        user_agent: entry.request.user_agent,
        request_id: entry.request.request_id,
        prev_hash,
        hash: String::new(),
    };
    row.hash = row_hash(&row);
    crate::on_tx!(tx, |conn| {
        sqlx::query(
        "INSERT INTO audit_log (org_id, seq, id, occurred_at, actor, action, entity_type, entity_id, changes, \
         ip, user_agent, request_id, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
    .bind(row.org_id)
    .bind(row.seq)
    .bind(row.id)
    .bind(row.occurred_at)
    .bind(&row.actor)
    .bind(&row.action)
    .bind(&row.entity_type)
    .bind(&row.entity_id)
    .bind(&row.changes)
    .bind(&row.ip)
    .bind(&row.user_agent)
    .bind(&row.request_id)
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .execute(conn)
    .await
    .map(|_| ())
    })?;
    Ok(row)
}

/// A change to a record, in the caller's transaction: its audit row (with the field diff)
/// and its domain event (`<entity>.<verb>` = `action`, the diff as data). Every module
/// records its writes through this, so the two can never drift apart.
// The arguments are the change itself; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn record_change(
    tx: &mut Tx,
    clock: &SharedClock,
    ctx: &TenantContext,
    action: &str,
    record_type: &str,
    id: Uuid,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    append(
        tx,
        clock,
        AuditEntry::by(ctx, action, record_type, Some(id.to_string())).with_diff(before, after),
    )
    .await?;
    crate::events::record(
        tx,
        clock,
        crate::events::NewEvent {
            event_type: action.to_owned(),
            org_id: ctx.org_id(),
            actor: Some(ctx.actor().label()),
            record_type: record_type.to_owned(),
            record_id: id,
            data: diff(before, after),
        },
    )
    .await?;
    Ok(())
}

/// Appends `entry` in a transaction of its own (security events that happen outside a
/// write, e.g. a failed login or a denied permission).
pub async fn append_now(
    db: &Db,
    clock: &SharedClock,
    entry: AuditEntry,
) -> Result<AuditRow, sqlx::Error> {
    let mut tx = db.begin().await?;
    let row = append(&mut tx, clock, entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// The newest audit rows about one record of an organisation (for record timelines).
pub async fn for_record(
    db: &Db,
    org_id: Uuid,
    entity_type: &str,
    entity_id: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    crate::on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT seq, id, org_id, occurred_at, actor, action, entity_type, entity_id, changes, ip, user_agent, request_id, prev_hash, hash \
         FROM audit_log WHERE org_id = $1 AND entity_type = $2 AND entity_id = $3 ORDER BY seq DESC LIMIT $4"
    )
    .bind(org_id)
    .bind(entity_type)
    .bind(entity_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    })
}

/// The first place a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// Organisation.
    pub org_id: Uuid,
    /// Sequence number of the first row that does not verify.
    pub seq: i64,
    /// Its id.
    pub id: Uuid,
    /// What is wrong.
    pub reason: String,
}

/// Result of verifying every chain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Organisations checked.
    pub chains: usize,
    /// Rows checked.
    pub rows: usize,
    /// Breaks found (the first per organisation).
    pub breaks: Vec<ChainBreak>,
}

/// Recomputes every chain (or one organisation's) and reports the first broken row of each.
pub async fn verify(db: &Db, org: Option<Uuid>) -> Result<VerifyReport, sqlx::Error> {
    let orgs: Vec<Uuid> = match org {
        Some(org) => vec![org],
        None => crate::on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT DISTINCT org_id FROM audit_log"
        )
        .fetch_all(pool)
        .await)?,
    };
    let mut report = VerifyReport::default();
    for org_id in orgs {
        report.chains += 1;
        let mut expected_prev = GENESIS_HASH.to_owned();
        let mut expected_seq = 1;
        let mut after = 0i64;
        'chain: loop {
            let rows: Vec<AuditRow> = crate::on_pool!(db, |pool| {
                sqlx::query_as(
                "SELECT seq, id, org_id, occurred_at, actor, action, entity_type, entity_id, changes, ip, \
                 user_agent, request_id, prev_hash, hash FROM audit_log WHERE org_id = $1 AND seq > $2 \
                 ORDER BY seq LIMIT 1000"
            )
            .bind(org_id)
            .bind(after)
            .fetch_all(pool)
            .await
            })?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                report.rows += 1;
                let problem = if row.seq != expected_seq {
                    Some(format!(
                        "row(s) {expected_seq}..{} are missing",
                        row.seq - 1
                    ))
                } else if row.prev_hash != expected_prev {
                    Some(
                        "prev_hash does not match the previous row (a row was removed or altered)"
                            .to_owned(),
                    )
                } else if row_hash(&row) != row.hash {
                    Some("content does not match its hash (the row was altered)".to_owned())
                } else {
                    None
                };
                if let Some(reason) = problem {
                    report.breaks.push(ChainBreak {
                        org_id,
                        seq: row.seq,
                        id: row.id,
                        reason,
                    });
                    break 'chain;
                }
                expected_prev = row.hash.clone();
                expected_seq = row.seq + 1;
                after = row.seq;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_keeps_changed_fields_only() {
        let before = serde_json::json!({"role": "Viewer", "name": "Ann", "gone": 1});
        let after = serde_json::json!({"role": "Manager", "name": "Ann"});
        let d = diff(&before, &after);
        assert_eq!(d["role"]["before"], "Viewer");
        assert_eq!(d["role"]["after"], "Manager");
        assert_eq!(d["gone"]["after"], serde_json::Value::Null);
        assert!(d.get("name").is_none());
    }
}
