-- How many filtered items (and letters) match the search text; see search.sql.
with
filtered as (
    select letter_id, item_no, request from item_facts where __FILTERS__
),
decision as (
    select letter_id, item_no, rationale from decisions
),
matched as (
    select filtered.letter_id
    from filtered
    join decision using (letter_id, item_no)
    where $pattern::varchar is null
       or filtered.request ilike $pattern::varchar escape '\'
       or decision.rationale ilike $pattern::varchar escape '\'
)
select count(*) as items, count(distinct letter_id) as letters
from matched
