-- What the vocabulary did not resolve, for the letters in scope (see item_facts.sql):
-- per kind and name, occurrences and letters. Letters fall in one bucket each, so the parts
-- add up (views.sql).
with
name as (
    select letter_id, kind, value
    from scope_unresolved
)
select kind, value, count(*)::bigint as occurrences, count(distinct letter_id)::bigint as letters
from name
group by kind, value
