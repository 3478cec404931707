-- A mart's rows (facet_counts, facet_pairs) of one selection of one filter, as
-- queries._one_selection binds it: $pair_dimension's values $pair_values, or its range
-- $pair_low..$pair_high (integers).
(dimension = $pair_dimension::varchar
    and (value in (select unnest($pair_values::varchar[]))
        or try_cast(value as integer) between $pair_low::integer and $pair_high::integer))
