-- The parse_coverage, unresolved_counts, facet_counts and reason_pairs marts, from the parts the build
-- gathered in coverage_parts, unresolved_parts, facet_parts and reason_parts
-- (etl/warehouse/derived.py; facet_pairs is summed from pair_parts by facet_pairs_sum.sql): per
-- bucket of letters in a whole build; in an incremental one the published counts, minus the
-- replaced letters' and plus the new letters'. Counts are sums over letters, so both ways give
-- the same table.
-- The marts' contract is documented in dashboard/README.md.

-- The Wilson macros and the filter options moved to the dashboard, which creates them when it
-- connects; drop what builds before that left in the file (a build starts from a copy).
drop macro if exists wilson_lower;
drop macro if exists wilson_upper;
drop table if exists filter_options;

create or replace table parse_coverage as
with parts as (
    select scope, layout, field, present, total from coverage_parts
)
select scope, layout, field, sum(present)::bigint as present, sum(total)::bigint as total
from parts
group by scope, layout, field
-- A layout whose letters were all replaced by letters of another layout leaves zeros.
having sum(total) > 0;

create or replace table unresolved_counts as
with parts as (
    select kind, value, occurrences, letters from unresolved_parts
)
select kind, value, sum(occurrences)::bigint as occurrences, sum(letters)::bigint as letters
from parts
group by kind, value
having sum(occurrences) > 0;

create or replace table facet_counts as
with parts as (
    select dimension, value, items, overturned, letters, synthetic_items, synthetic_letters
    from facet_parts
)
select
    dimension,
    value,
    sum(items)::bigint as items,
    sum(overturned)::bigint as overturned,
    sum(letters)::bigint as letters,
    sum(synthetic_items)::bigint as synthetic_items,
    sum(synthetic_letters)::bigint as synthetic_letters
from parts
group by dimension, value
having sum(items) > 0;

create or replace table reason_pairs as
with parts as (
    select dimension, value, other, other_value, reason, upheld from reason_parts
)
select dimension, value, other, other_value, reason, sum(upheld)::bigint as upheld
from parts
group by dimension, value, other, other_value, reason
having sum(upheld) > 0;
