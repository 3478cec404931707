-- The filtered items for the on-screen table when there is no search text (no rationale join),
-- newest first. $from_year: see reason_examples.sql (queries.newest_first).
with
filtered as (
    select letter_id, item_no, case_number, decision_date, request, decision, category, drug_class,
           synthetic
    from item_facts
    where __FILTERS__ and ($from_year::integer is null or decision_year >= $from_year::integer)
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
