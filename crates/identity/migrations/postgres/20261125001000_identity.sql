-- Organisations (tenants) and their structure.
CREATE TABLE orgs (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

-- Plants, branches, regions, warehouses; parent_id builds the hierarchy.
CREATE TABLE sites (
    org_id      UUID NOT NULL REFERENCES orgs (id),
    id          UUID NOT NULL,
    parent_id   UUID,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

-- Business lines (e.g. Sugar, Ethanol, Power, Feed).
CREATE TABLE divisions (
    org_id      UUID NOT NULL REFERENCES orgs (id),
    id          UUID NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

-- People. Global (one person may belong to several organisations); email and name are
-- PII, stored encrypted; email_index is a keyed blind index for exact lookup at sign-in.
CREATE TABLE users (
    id               UUID PRIMARY KEY,
    email_index      TEXT NOT NULL UNIQUE,
    email_enc        TEXT NOT NULL,
    name_enc         TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    totp_secret_enc  TEXT,
    totp_enabled     BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1
);

-- Built-in and custom roles per organisation; permissions is a JSON array of resource:action.
CREATE TABLE roles (
    org_id       UUID NOT NULL REFERENCES orgs (id),
    id           UUID NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    builtin      BOOLEAN NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

-- A user's role in one organisation, optionally limited to sites/divisions (JSON arrays of
-- ids; empty = all).
CREATE TABLE memberships (
    org_id        UUID NOT NULL REFERENCES orgs (id),
    user_id       UUID NOT NULL REFERENCES users (id),
    role_id       UUID NOT NULL,
    site_ids      TEXT NOT NULL,
    division_ids  TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- A sign-in session: its refresh tokens rotate within the family; reuse revokes it.
CREATE TABLE token_families (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL,
    user_id     UUID NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX token_families_user ON token_families (org_id, user_id);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   UUID NOT NULL REFERENCES token_families (id),
    issued_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Integration keys: only a SHA-256 of the secret is kept; prefix finds the row.
CREATE TABLE api_keys (
    org_id        UUID NOT NULL REFERENCES orgs (id),
    id            UUID NOT NULL,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL UNIQUE,
    secret_hash   TEXT NOT NULL,
    permissions   TEXT NOT NULL,
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    created_by    UUID,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- Failed sign-ins per account (blind index), for lockout.
CREATE TABLE login_failures (
    email_index  TEXT NOT NULL,
    failed_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email_index, failed_at);

CREATE TABLE account_lockouts (
    email_index   TEXT PRIMARY KEY,
    locked_until  TIMESTAMPTZ NOT NULL
);

-- TOTP recovery codes, hashed; each works once.
CREATE TABLE recovery_codes (
    user_id    UUID NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);
