//! Attachments: upload checks (size, content-type allow-list, the file's first bytes) and
//! their metadata rows. The bytes go to the [`crate::store`] (a local folder,
//! `<attachments_dir>/<org_id>/<attachment_id>`, or an S3-compatible bucket) under the key
//! `<org_id>/<attachment_id>`: stored first, then the row committed; if the commit fails
//! the object is removed, so a failed upload leaves neither behind.

use axum::body::Body;
use chrono::{DateTime, Utc};
use kernel::{ErrorCode, TenantContext};
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{Attachment, HelpdeskError};
use crate::service::Helpdesk;
use crate::store::StoreError;
use kernel::{on_pool, on_tx};

/// Content types whose first bytes we know how to check (the default allow-list).
pub const CHECKED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/plain",
    "text/csv",
    "application/json",
];

/// Whether `bytes` look like `content_type` (magic numbers; text types must be UTF-8
/// without NUL bytes). `None` for a type we cannot check.
pub fn content_matches(content_type: &str, bytes: &[u8]) -> Option<bool> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    Some(match content_type {
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => starts(b"\xFF\xD8\xFF"),
        "image/gif" => starts(b"GIF87a") || starts(b"GIF89a"),
        "image/webp" => bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP",
        "application/pdf" => starts(b"%PDF-"),
        "application/zip"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            starts(b"PK\x03\x04")
        }
        "text/plain" | "text/csv" | "application/json" => {
            std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0)
        }
        _ => return None,
    })
}

/// The file name kept: the last path component, without control characters, at most
/// 200 characters.
pub fn clean_filename(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().to_owned();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

#[derive(Debug, FromRow)]
struct AttachmentRow {
    id: Uuid,
    ticket_id: Uuid,
    filename: String,
    content_type: String,
    size_bytes: i64,
    storage_key: String,
    uploaded_by: String,
    created_at: DateTime<Utc>,
}

impl AttachmentRow {
    fn attachment(&self) -> Attachment {
        Attachment {
            id: self.id,
            ticket_id: self.ticket_id,
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            size_bytes: self.size_bytes,
            uploaded_by: self.uploaded_by.clone(),
            created_at: self.created_at,
        }
    }
}

const ATTACHMENT_COLUMNS: &str =
    "id, ticket_id, filename, content_type, size_bytes, storage_key, uploaded_by, created_at";

/// An attachment ready to stream: its metadata and its bytes.
pub struct Download {
    /// Metadata.
    pub attachment: Attachment,
    /// The file's bytes, streamed from the store.
    pub body: Body,
}

fn upload_error(code: ErrorCode, field: &'static str, message: impl Into<String>) -> HelpdeskError {
    HelpdeskError::Upload {
        code,
        field,
        message: message.into(),
    }
}

impl From<StoreError> for HelpdeskError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(_) => HelpdeskError::NotFound("attachment"),
            StoreError::Unavailable(reason) => HelpdeskError::Storage(reason),
        }
    }
}

impl Helpdesk {
    /// Attaches a file to a ticket. The body is read up to the configured limit; the
    /// content type must be on the allow-list and match the file's first bytes.
    pub async fn upload_attachment(
        &self,
        ctx: &TenantContext,
        ticket_id: Uuid,
        content_type: Option<&str>,
        filename: Option<&str>,
        body: Body,
    ) -> Result<Attachment, HelpdeskError> {
        ctx.authorize("tickets:update")?;
        // Access to the ticket first: another organisation's ticket does not exist.
        self.get_ticket(ctx, ticket_id).await?;
        let content_type = content_type
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if !self.settings.allowed_content_types.contains(&content_type) {
            return Err(upload_error(
                ErrorCode::UnsupportedMediaType,
                "Content-Type",
                format!(
                    "`{content_type}` is not accepted; allowed: {}",
                    self.settings.allowed_content_types.join(", ")
                ),
            ));
        }
        let filename = filename.and_then(clean_filename).ok_or_else(|| {
            upload_error(
                ErrorCode::ValidationFailed,
                "filename",
                "give the file name as ?filename=",
            )
        })?;
        let limit = self.settings.max_attachment_bytes;
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            upload_error(
                ErrorCode::PayloadTooLarge,
                "file",
                format!("larger than the limit of {limit} bytes"),
            )
        })?;
        if bytes.is_empty() {
            return Err(upload_error(
                ErrorCode::ValidationFailed,
                "file",
                "is empty",
            ));
        }
        if content_matches(&content_type, &bytes) != Some(true) {
            return Err(upload_error(
                ErrorCode::ValidationFailed,
                "file",
                format!("the content is not {content_type}"),
            ));
        }
        let org = ctx.org_id();
        let id = Uuid::now_v7();
        let storage_key = format!("{org}/{id}");
        let size_bytes = bytes.len() as i64;
        self.store.put(&storage_key, bytes).await?;
        let now = self.now();
        let attachment = Attachment {
            id,
            ticket_id,
            filename,
            content_type,
            size_bytes,
            uploaded_by: ctx.actor().label(),
            created_at: now,
        };
        let stored = self.insert_attachment(ctx, &attachment, &storage_key).await;
        if stored.is_err() {
            // Leave no orphan object behind.
            if let Err(e) = self.store.delete(&storage_key).await {
                tracing::warn!(error = %e, key = %storage_key, "could not remove an orphan attachment");
            }
        }
        stored.map(|()| attachment)
    }

    async fn insert_attachment(
        &self,
        ctx: &TenantContext,
        attachment: &Attachment,
        storage_key: &str,
    ) -> Result<(), HelpdeskError> {
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO ticket_attachments (org_id, id, ticket_id, filename, content_type, size_bytes, storage_key, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(ctx.org_id())
        .bind(attachment.id)
        .bind(attachment.ticket_id)
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(attachment.size_bytes)
        .bind(storage_key)
        .bind(&attachment.uploaded_by)
        .bind(attachment.created_at)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let after = serde_json::to_value(attachment).unwrap_or_default();
        kernel::audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "attachment.created",
            "ticket",
            attachment.ticket_id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A ticket's attachments, oldest first.
    pub async fn list_attachments(
        &self,
        ctx: &TenantContext,
        ticket_id: Uuid,
    ) -> Result<Vec<Attachment>, HelpdeskError> {
        self.get_ticket(ctx, ticket_id).await?;
        let rows: Vec<AttachmentRow> = on_pool!(self.db, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT {ATTACHMENT_COLUMNS} FROM ticket_attachments WHERE org_id = $1 AND ticket_id = $2 ORDER BY created_at, id")
        ))
        .bind(ctx.org_id())
        .bind(ticket_id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows.iter().map(AttachmentRow::attachment).collect())
    }

    /// An attachment's bytes, only for callers who can read its ticket.
    pub async fn download_attachment(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<Download, HelpdeskError> {
        ctx.authorize("tickets:read")?;
        let row: Option<AttachmentRow> =
            on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM ticket_attachments WHERE org_id = $1 AND id = $2"
            )))
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await)?;
        let row = row.ok_or(HelpdeskError::NotFound("attachment"))?;
        self.get_ticket(ctx, row.ticket_id)
            .await
            .map_err(|e| match e {
                HelpdeskError::NotFound(_) => HelpdeskError::NotFound("attachment"),
                other => other,
            })?;
        let body = self.store.get(&row.storage_key).await.map_err(|e| {
            if let StoreError::NotFound(key) = &e {
                tracing::warn!(%key, "attachment row without its object");
            }
            HelpdeskError::from(e)
        })?;
        Ok(Download {
            attachment: row.attachment(),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(
            content_matches("image/png", b"\x89PNG\r\n\x1a\nrest"),
            Some(true)
        );
        assert_eq!(content_matches("image/png", b"GIF89a..."), Some(false));
        assert_eq!(content_matches("application/pdf", b"%PDF-1.7"), Some(true));
        assert_eq!(content_matches("text/plain", b"hello\0"), Some(false));
        assert_eq!(content_matches("text/plain", b"hello"), Some(true));
        assert_eq!(content_matches("application/x-msdownload", b"MZ"), None);
    }

    #[test]
    fn filenames() {
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_filename("C:\\temp\\log.txt").as_deref(),
            Some("log.txt")
        );
        assert_eq!(clean_filename(".."), None);
        assert_eq!(clean_filename("  "), None);
    }
}
