DROP TABLE bando_conduct;
DROP TABLE ente_qualifications;
DROP INDEX enti_one_centrale;
ALTER TABLE enti
    DROP COLUMN authority_kind,
    DROP COLUMN qualified_by_law,
    DROP COLUMN qualified_by_law_basis,
    DROP COLUMN is_centrale;
