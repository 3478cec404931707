-- Of the given keys (a search's best matches), those of items passing the other filters.
with
filtered as (
    select letter_id, item_no from item_facts where __FILTERS__
)
select hash(letter_id, item_no, $search_salt::integer) as key
from filtered
where hash(letter_id, item_no, $search_salt::integer) in (select unnest($keys::ubigint[]))
