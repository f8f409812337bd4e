-- Stored responses belong to an organisation (or to the operator, `~operator`) and
-- expire. Responses stored before owners existed were made by whoever called an open
-- or master-keyed server, the operator, and expire 30 days after they were made.
ALTER TABLE responses ADD COLUMN owner_org TEXT NOT NULL DEFAULT '~operator';
ALTER TABLE responses ADD COLUMN owner_key TEXT;
ALTER TABLE responses ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE responses SET expires_at = created_at + 2592000;
CREATE INDEX responses_expiry ON responses (expires_at);
