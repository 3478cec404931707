-- Without a usable index: the items whose request or rationale contains the text literally
-- (case-insensitive; $pattern is %text% with % _ \ escaped), keyed as the index would (salt 0).
insert into memory.main.search_hits
select $search_id::integer, hash(letter_id, item_no, 0::integer)
from decisions
where request ilike $pattern::varchar escape '\'
   or rationale ilike $pattern::varchar escape '\'
