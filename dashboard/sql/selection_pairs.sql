-- The pairs of filters whose values selected together the facet_pairs mart counts, of those
-- named $pair_names (dimensions.pair_name of each pair the registry combines): a mart of a
-- build before a pair was named holds none of its rows.
select distinct dimension
from facet_pairs
where dimension in (select unnest($pair_names::varchar[]))
