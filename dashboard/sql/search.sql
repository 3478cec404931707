-- Filtered items whose request or rationale contains the search text (case-insensitive).
-- $pattern is the text with % _ \ escaped, wrapped in %...%; NULL = no search.
with
filtered as (
    select letter_id, item_no, case_number, decision_date, request, decision, category, drug_class,
           synthetic
    from item_facts
    where __FILTERS__
),
decision as (
    select letter_id, item_no, rationale from decisions
),
matched as (
    select filtered.*, decision.rationale
    from filtered
    join decision using (letter_id, item_no)
    where $pattern::varchar is null
       or filtered.request ilike $pattern::varchar escape '\'
       or decision.rationale ilike $pattern::varchar escape '\'
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
    left(rationale, 240) as rationale_start,
    synthetic
from matched
order by decision_date desc, letter_id, item_no
limit $row_limit
