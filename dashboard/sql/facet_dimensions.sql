-- The dimensions the facet marts hold (the registry's, as of the last ingest): every one in
-- facet_counts; paired: in facet_pairs too (the filters).
with
counted as (
    select distinct dimension from facet_counts
),
paired as (
    select distinct dimension from facet_pairs
)
select counted.dimension, paired.dimension is not null as paired
from counted
left join paired using (dimension)
