-- Items per value of the filters $pair_dimensions under one selection of another filter,
-- $pair_dimension: its values $pair_values, or its range $pair_low..$pair_high. Sums of the
-- facet_pairs mart (built at ingest: etl/sql/facet_pairs.sql), so the same counts as
-- _option_counts_scalar.sql and _option_counts_lists.sql under that filter, without a scan.
-- $pair_outcome: the items of either outcome (NULL), the overturned ones (true) or the rest
-- (false): queries._split_selection, a selection of the decision too.
select
    other as dimension,
    other_value as value,
    sum(
        case
            when $pair_outcome::boolean is null then items
            when $pair_outcome::boolean then overturned
            else items - overturned
        end
    )::bigint as n
from facet_pairs
where __CHOSEN__
    and other in (select unnest($pair_dimensions::varchar[]))
group by other, other_value
