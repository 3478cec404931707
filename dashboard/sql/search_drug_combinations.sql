-- Items holding every ingredient of each combination ("acetaminophen + hydrocodone": Norco),
-- over the whole warehouse: the Drug filter's combination options and their counts, counted at
-- ingest into the facet_counts mart (etl/sql/drug_combinations.sql).
select value, items as n
from facet_counts
where dimension = 'drug_combination' and value in (select unnest($combinations::varchar[]))
order by n desc, value
