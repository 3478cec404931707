-- The filtered items for the on-screen table when there is no search text (no rationale join),
-- newest first, from $from_year on (_since_year.sql; queries.newest_first).
with
filtered as (
    select letter_id, item_no, case_number, decision_date, request, decision, category, drug_class,
           synthetic
    from item_facts
    where __FILTERS__ and __SINCE_YEAR__
)
select
    letter_id,
    case_number,
    item_no,
    decision_date,
    request,
    decision,
    category,
    drug_class,
    synthetic
from filtered
order by decision_date desc, letter_id, item_no
limit $row_limit
