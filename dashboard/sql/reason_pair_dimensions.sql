-- The dimensions the reason_pairs mart holds (the registry's, as of the last ingest): the
-- filters it counts under (selected) and those it shares reasons out by (by).
select distinct dimension, other
from reason_pairs
