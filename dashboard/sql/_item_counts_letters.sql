-- The items of a group of rows that are letters (_value_rows_letters.sql), and those
-- overturned (rates_sets.sql).
sum(items) as n,
sum(overturned_items) as overturned
