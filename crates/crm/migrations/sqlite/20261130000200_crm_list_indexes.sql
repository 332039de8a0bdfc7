-- Lists sorted by creation (the default of deals and leads, a common one for contacts).
CREATE INDEX contacts_created ON contacts (org_id, created_at, id);
CREATE INDEX companies_created ON companies (org_id, created_at, id);
CREATE INDEX deals_created ON deals (org_id, created_at, id);
