-- The search as a filter (q): items whose key is among the hits of search $search_id, or, for a
-- negated search (hits = the items that do NOT match), is not. NULL = no search. The key is
-- hash(letter_id, item_no, salt), as the index's build computed it (etl/search/build.py).
($search_id::integer is null
 or (hash(letter_id, item_no, $search_salt::integer) in (
        select key from memory.main.search_hits where search_id = $search_id::integer
    )) != $search_negated::boolean)
