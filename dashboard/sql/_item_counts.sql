-- The items of a group of rows that are items, and those overturned (rates_sets.sql).
count(*) as n,
count(*) filter (where overturned) as overturned
