-- The schema the production stand-in provides (docs/production.md): the schema version, one row.
-- Everything else (deploy_txn, ...) is the pipeline's to create.
CREATE TABLE schema_state (release text NOT NULL);
CREATE UNIQUE INDEX schema_state_one_row ON schema_state ((true));
INSERT INTO schema_state (release) VALUES ('none');
