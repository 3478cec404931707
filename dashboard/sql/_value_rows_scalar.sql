-- The rows rates_sets.sql counts for scalar dimensions: the filtered items.
select __COLUMNS__, overturned, letter_key, first_in_letter from filtered
