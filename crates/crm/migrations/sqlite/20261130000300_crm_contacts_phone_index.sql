-- Duplicate checks (create and import) look contacts up by phone as well as by email.
CREATE INDEX contacts_phone ON contacts (org_id, phone_index);
