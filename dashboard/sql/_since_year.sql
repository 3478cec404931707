-- The items decided in $from_year or later (NULL: every year): queries.newest_first asks for the
-- latest year first, which item_facts reads from that year's row groups only where its batches
-- came in decision order (a batch's items are ordered by year).
($from_year::integer is null or decision_year >= $from_year::integer)
