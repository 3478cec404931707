-- source_concordance.sql's table under one selection of one filter, summed from the
-- facet_pairs mart (queries.source_concordance says when) instead of counted from the items.
-- The selection as in _pair_counts.sql: $pair_dimension, its values $pair_values or its range
-- $pair_low..$pair_high. Per MAXIMUS source: its pairs with the selection ($sources_dimension,
-- the guideline source filter), whose both_cited and same_source count as source_concordance.sql
-- counts n and same. 'All sources': the selection's pairs with $total_dimension, a scalar
-- filter: its values and its no value (NULL) hold each of the selection's items once, their
-- same_source any source in common.
with
pairs as (
    select other, other_value, both_cited, same_source
    from facet_pairs
    where __CHOSEN__
        and other in ($sources_dimension::varchar, $total_dimension::varchar)
),
per_source as (
    select
        other_value as maximus_source,
        sum(both_cited)::bigint as n,
        sum(same_source)::bigint as same
    from pairs
    where other = $sources_dimension::varchar and other_value is not null
    group by other_value
    having sum(both_cited) > 0
),
overall as (
    select
        'All sources' as maximus_source,
        coalesce(sum(both_cited), 0)::bigint as n,
        coalesce(sum(same_source), 0)::bigint as same
    from pairs
    where other = $total_dimension::varchar
),
counts as (
    select * from overall
    union all
    select * from per_source
)
__CONCORDANCE__
