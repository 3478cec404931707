-- The filtered items, one row per disputed item (the item-level CSV). $row_limit NULL = all.
-- Then the column of every registry dimension, in registry order (expanded by queries.py).
with
filtered as (
    select * from item_facts where __FILTERS__
)
select
    case_number,
    letter_id,
    item_no,
    request,
    decision_date,
    __DIMENSION_COLUMNS__,
    synthetic
from filtered
order by decision_date, letter_id, item_no
limit $row_limit
