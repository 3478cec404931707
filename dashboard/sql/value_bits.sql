-- The bits of the list filters' values (etl/warehouse/derived.py, VALUE_BIT as __VALUE_BIT__):
-- every value facet_counts holds for the dimensions named in $dimensions, its bit, and whether
-- no other value of its dimension shares it (only those are filtered by their bit). No row when
-- meta's probe (the build's bit of $probe_text) is not this DuckDB's: its bits could differ.
with
probe as (
    select value from meta where key = $probe_key
),
held as (
    select dimension, value, __VALUE_BIT__ as bit
    from facet_counts
    where dimension in (select unnest($dimensions::varchar[]))
)
select dimension, value, bit, count(*) over (partition by dimension, bit) = 1 as unique_bit
from held
where (select value from probe) = (__PROBE_BIT__)::varchar
