-- Sidebar options of the filters in one group, all counted under the same filters: for a
-- facet, the other filters (its counts follow them, as Datasette's do), so every filter without
-- a selection of its own shares one query. every_value: every value the warehouse holds;
-- counts: the items under the filters per value (both written by queries.filter_options).
-- Both read the facet_counts mart (built at ingest from the dimension registry) where they
-- can: every value, and the counts when no filter is set; else one pass over item_facts for
-- the scalar columns (_option_counts_scalar.sql) and one for the list columns
-- (_option_counts_lists.sql; an item counts once under each value its list holds). A
-- dimension the mart does not hold yet (added to the registry since the last ingest) is
-- counted from item_facts. Values without items count 0.
with
every_value as (
    __EVERY_VALUE__
),
counts as (
    __COUNTS__
)
select every_value.dimension, every_value.value, coalesce(counts.n, 0)::bigint as n
from every_value
left join counts using (dimension, value)
