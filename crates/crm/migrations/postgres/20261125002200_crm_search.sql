-- Search postings: the trigrams of each searchable field of each CRM record. Trigrams of
-- PII fields (email, phone) are stored as keyed hashes (blind), never in clear.
CREATE TABLE search_grams (
    org_id       UUID NOT NULL,
    gram         TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    record_id    UUID NOT NULL,
    PRIMARY KEY (org_id, gram, record_type, record_id)
);
CREATE INDEX search_grams_record ON search_grams (org_id, record_type, record_id);
