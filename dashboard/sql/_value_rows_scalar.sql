-- The rows rates_sets.sql counts for scalar dimensions: the filtered items.
select * from filtered
