-- The letters the copied version holds, taken before a build loads anything (each with the
-- time it was loaded): what changes from here is what the derived tables and the search index
-- must change (changes.sql).
create or replace temp table build_baseline as
select letter_id, loaded_at from letters
