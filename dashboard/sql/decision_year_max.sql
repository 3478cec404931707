-- The latest decision year of item_facts (NULL when no item is dated): where the newest items
-- are (each batch's items are ordered by decision year: where letters come in the order DWC
-- decides them, a scan from that year reads its row groups only).
select max(decision_year) as decision_year_max from item_facts
