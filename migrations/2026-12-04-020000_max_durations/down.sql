DROP TABLE bando_duration_notices;
