-- Saved column mappings for imports: field -> column header of the customer's file.
CREATE TABLE import_mappings (
    org_id      UUID NOT NULL,
    id          UUID NOT NULL,
    name        TEXT NOT NULL,
    object      TEXT NOT NULL,
    columns     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, object, name)
);
