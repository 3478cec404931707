-- The dimensions the facet_counts mart holds (the registry's, as of the last ingest).
select distinct dimension from facet_counts
