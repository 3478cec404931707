-- The letters the published version holds (and its index indexed), taken before this build
-- loads anything: what changes from here is what the index must change.
create or replace temp table search_baseline as
select letter_id, loaded_at from letters
