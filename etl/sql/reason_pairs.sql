-- The reason_pairs mart: per value of every filter of the dashboard's registry (dimension,
-- value) and per value of each dimension the Reasons page shares reasons out by
-- (Dimension.reasons_by: other, other_value), the upheld items of scope_facts (the build's
-- item_facts rows in scope) giving each reason, and as reason NULL all of them (a reason or
-- none). A list filter counts an item once under each value it holds; no value of either side
-- (NULL, an empty list) is no row. A filter with itself (the same column on both sides): its
-- values' own counts. The Reasons page's shares by category and drug class under one selection
-- are these sums (dashboard/sql/reason_by_pairs.sql), not a scan of the items. __PAIRS__ is one
-- grouping-sets pass of etl/warehouse/derived.py (reason_pair_sql); each row (dimension, value,
-- other, other_value, reason, upheld).
with
pairs as (
    __PAIRS__
)
select dimension, value, other, other_value, reason, upheld
from pairs
where value is not null and other_value is not null
