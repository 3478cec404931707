-- For the Compare page's default B: the items of the filtered slice holding each of
-- $candidates and not $a (a list dimension's values may share every item with $a), in one
-- pass. __GROUP_SET__: the item's values as a list, as compare.sql has them. Candidates
-- without such items are no row.
with
filtered as (
    select __GROUP_SET__ as group_set from item_facts where __FILTERS__
),
others as (
    select unnest(group_set) as candidate
    from filtered
    where not list_contains(group_set, $a::varchar)
)
select candidate, count(*) as n
from others
where candidate in (select unnest($candidates::varchar[]))
group by candidate
