-- Search moved to a per-organisation in-memory index built from the records themselves
-- (crates/crm/src/search_index.rs): the posting table is no longer written or read.
DROP TABLE search_grams;
