-- The knowledge base is written with kb:manage (helpdesk); the built-in Support Agent role,
-- which "works the helpdesk inbox and the knowledge base", gains it in existing
-- organisations (new ones get it from the catalogue).
UPDATE roles SET permissions = REPLACE(permissions, '"kb:update"', '"kb:update","kb:manage"')
WHERE builtin AND name = 'Support Agent' AND permissions NOT LIKE '%"kb:manage"%';
