-- The filtered items, one row per disputed item (the item-level CSV). $row_limit NULL = all.
with
filtered as (
    select * from item_facts where __FILTERS__
)
select
    case_number,
    letter_id,
    item_no,
    request,
    decision,
    category,
    subcategory,
    drug_class,
    drugs,
    reviewer_specialties,
    reviewer_states,
    guideline_sources,
    injury_year,
    decision_date,
    synthetic
from filtered
order by decision_date, letter_id, item_no
limit $row_limit
