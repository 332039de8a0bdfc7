-- Append-only audit trail, hash-chained per organisation: hash = SHA-256(prev_hash || canonical row).
-- Rows are never updated or deleted by the application; `meridian audit verify` detects it if they are.
-- `changes` is TEXT, not JSONB, so the hashed bytes are stored exactly.
CREATE TABLE audit_log (
    org_id       UUID        NOT NULL,
    seq          BIGINT      NOT NULL,
    id           UUID        NOT NULL UNIQUE,
    occurred_at  TIMESTAMPTZ NOT NULL,
    actor        TEXT        NOT NULL,
    action       TEXT        NOT NULL,
    entity_type  TEXT        NOT NULL,
    entity_id    TEXT,
    changes      TEXT        NOT NULL,
    ip           TEXT,
    user_agent   TEXT,
    request_id   TEXT,
    prev_hash    TEXT        NOT NULL,
    hash         TEXT        NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_log_entity ON audit_log (org_id, entity_type, entity_id);
