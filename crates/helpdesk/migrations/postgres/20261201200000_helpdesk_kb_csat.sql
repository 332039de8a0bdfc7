-- Helpdesk: knowledge base (categories, articles and their search postings) and CSAT
-- (one request per resolution, rated at most once; the latest rating is copied onto the
-- ticket so ticket reads need no join).

CREATE TABLE kb_categories (
    org_id       UUID NOT NULL,
    id           UUID NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    position     INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX kb_categories_name ON kb_categories (org_id, name);

CREATE TABLE kb_articles (
    org_id         UUID NOT NULL,
    id             UUID NOT NULL,
    category_id    UUID,
    title          TEXT NOT NULL,
    body_markdown  TEXT NOT NULL,
    tags           TEXT NOT NULL,
    status         TEXT NOT NULL,
    -- Weighted number of indexed terms (title ×3, tags ×2, body ×1), for BM25.
    term_count     INTEGER NOT NULL,
    author_id      UUID,
    author         TEXT NOT NULL,
    published_at   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, category_id) REFERENCES kb_categories (org_id, id)
);
CREATE INDEX kb_articles_updated ON kb_articles (org_id, updated_at, id);
CREATE INDEX kb_articles_category ON kb_articles (org_id, category_id, updated_at, id);

-- Search postings: one row per article and (stemmed) term with its weighted frequency.
-- Plain SQL on both backends; BM25 is computed in Rust from these rows.
CREATE TABLE kb_postings (
    org_id      UUID NOT NULL,
    term        TEXT NOT NULL,
    article_id  UUID NOT NULL,
    tf          INTEGER NOT NULL,
    PRIMARY KEY (org_id, term, article_id),
    FOREIGN KEY (org_id, article_id) REFERENCES kb_articles (org_id, id)
);
CREATE INDEX kb_postings_article ON kb_postings (org_id, article_id);

-- CSAT: `resolution` counts the ticket's resolutions (1, 2, ... after reopening).
CREATE TABLE ticket_csat (
    org_id        UUID NOT NULL,
    ticket_id     UUID NOT NULL,
    resolution    INTEGER NOT NULL,
    requested_at  TIMESTAMPTZ NOT NULL,
    rating        INTEGER,
    comment       TEXT,
    rated_at      TIMESTAMPTZ,
    rated_by      TEXT,
    PRIMARY KEY (org_id, ticket_id, resolution),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
CREATE INDEX ticket_csat_rated ON ticket_csat (org_id, rated_at);

ALTER TABLE tickets ADD COLUMN csat_rating INTEGER;
ALTER TABLE tickets ADD COLUMN csat_comment TEXT;
ALTER TABLE tickets ADD COLUMN csat_rated_at TIMESTAMPTZ;

-- Analytics reads tickets by creation and resolution time.
CREATE INDEX tickets_created ON tickets (org_id, created_at);
CREATE INDEX tickets_resolved ON tickets (org_id, resolved_at);
