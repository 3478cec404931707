-- The build's scratch tables, empty until changes.sql fills them (a full build reads none).
create temp table if not exists changed_letters (letter_id varchar);
create temp table if not exists removed_letters (letter_id varchar);
