-- The items decided in $from_year or later (NULL: every year): queries.newest_first asks for the
-- latest year first, which item_facts, ordered by decision year, reads from its row groups only.
($from_year::integer is null or decision_year >= $from_year::integer)
