//! Key rotation for the CRM's personal data (contact and lead emails and phones).

use kernel::{on_pool, on_tx};
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::CrmError;
use crate::service::{Crm, pii_aad};

/// Tables with PII columns: (table, columns).
const PII_COLUMNS: [(&str, [&str; 2]); 2] = [
    ("contacts", ["email", "phone"]),
    ("leads", ["email", "phone"]),
];

#[derive(FromRow)]
struct Row {
    org_id: Uuid,
    id: Uuid,
    email_enc: Option<String>,
    phone_enc: Option<String>,
}

impl Crm {
    /// Re-encrypts every CRM PII value not under the current data key, `batch` rows per
    /// transaction; returns how many values were rewritten. Blind indexes do not change
    /// (they use the separate index key).
    pub async fn rotate_pii(
        &self,
        batch: i64,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, CrmError> {
        let mut rewritten = 0u64;
        for (table, [email_col, phone_col]) in PII_COLUMNS {
            let mut after = (Uuid::nil(), Uuid::nil());
            loop {
                // `table` and the columns come from the constant above, never from input.
                let sql = format!(
                    "SELECT org_id, id, {email_col}_enc AS email_enc, {phone_col}_enc AS phone_enc FROM {table} \
                     WHERE (org_id > $1 OR (org_id = $1 AND id > $2)) ORDER BY org_id, id LIMIT $3"
                );
                let rows: Vec<Row> = on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
                    sql.clone()
                ))
                .bind(after.0)
                .bind(after.1)
                .bind(batch)
                .fetch_all(p)
                .await)?;
                let Some(last) = rows.last() else { break };
                after = (last.org_id, last.id);
                let mut tx = self.db.begin().await?;
                for row in &rows {
                    let rotate = |value: &Option<String>,
                                  column: &str|
                     -> Result<Option<String>, CrmError> {
                        match value {
                            Some(v) => self
                                .ring
                                .rotate(v, pii_aad(row.org_id, table, row.id, column).as_bytes())
                                .map_err(|e| CrmError::Crypto(e.to_string())),
                            None => Ok(None),
                        }
                    };
                    let email = rotate(&row.email_enc, "email")?;
                    let phone = rotate(&row.phone_enc, "phone")?;
                    let changed = u64::from(email.is_some()) + u64::from(phone.is_some());
                    if changed == 0 {
                        continue;
                    }
                    let update = format!(
                        "UPDATE {table} SET {email_col}_enc = $3, {phone_col}_enc = $4 WHERE org_id = $1 AND id = $2"
                    );
                    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                        .bind(row.org_id)
                        .bind(row.id)
                        .bind(email.or_else(|| row.email_enc.clone()))
                        .bind(phone.or_else(|| row.phone_enc.clone()))
                        .execute(c)
                        .await
                        .map(|_| ()))?;
                    rewritten += changed;
                }
                tx.commit().await?;
                progress(rewritten);
            }
        }
        Ok(rewritten)
    }
}
