-- Items sharing a key under $salt: 0 keeps the keys one per item. A grouping, not
-- count(distinct): DuckDB spills a grouping to disk, so the check holds under a small cap.
with
item_key as (
    select hash(letter_id, item_no, $salt::integer) as key
    from decisions
),
shared as (
    select count(*) as items
    from item_key
    group by key
    having count(*) > 1
)
select coalesce(sum(items - 1), 0)::bigint as collisions
from shared
