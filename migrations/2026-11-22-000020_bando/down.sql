DROP TABLE bando_chiarimenti;
DROP TABLE bando_documenti;
DROP TABLE bando_versioni;
DROP TABLE bando_state_history;
DROP TABLE bando_lotti;
DROP TABLE bandi;
DROP FUNCTION bando_append_only();
