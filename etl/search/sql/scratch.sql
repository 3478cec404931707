-- The build's scratch tables, empty until changes.sql fills them (a full build reads none).
create temp table if not exists search_changed (letter_id varchar);
create temp table if not exists search_removed (letter_id varchar);
