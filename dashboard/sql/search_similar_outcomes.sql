-- The outcome mix of the given items (similar decisions): items per decision, with rates.
with
wanted as (
    select unnest($letter_ids::varchar[]) as letter_id, unnest($item_nos::integer[]) as item_no
),
counts as (
    select count(*) as n, count(*) filter (where overturned) as overturned
    from item_facts
    semi join wanted using (letter_id, item_no)
)
select __RATES__
from counts
