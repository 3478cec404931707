-- The facet_counts mart, one registry dimension at a time (dashboard/dimensions.py): the items
-- and overturned items of scope_facts (the build's item_facts rows in scope) per value, the
-- letters behind them (all; demo ones) and the demo items. etl/warehouse/derived.py writes the
-- name and the facet: each item's value (a list's values unnested) with its overturned,
-- letter_key and synthetic columns, one row per value; or the drug combinations' items
-- (drug_combinations.sql).
-- A list counts an item once under each value it holds; no value (NULL, an empty list) is no
-- row. The letters are distinct per value within the scope, a whole number of letters: they
-- add up over scopes. The dashboard's filter options without a filter set are these counts
-- (options_*.sql count the same way), and every value the warehouse holds is here.
with
facet as (
    __FACET__
),
-- Per value and letter first: a plain grouping, which DuckDB can spill under the build's cap
-- (distinct counts per value ran a 40 MB build out of memory).
per_letter as (
    select
        value,
        count(*) as items,
        count_if(overturned) as overturned,
        count_if(synthetic) as synthetic_items
    from facet
    where value is not null
    group by value, letter_key
)
select
    '__NAME__' as dimension,
    value,
    sum(items)::bigint as items,
    sum(overturned)::bigint as overturned,
    count(*)::bigint as letters,
    sum(synthetic_items)::bigint as synthetic_items,
    count_if(synthetic_items > 0)::bigint as synthetic_letters
from per_letter
group by value
