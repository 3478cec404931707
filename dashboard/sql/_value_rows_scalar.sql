-- The rows rates_sets.sql counts for scalar dimensions: the filtered items.
select __COLUMNS__, overturned, letter_key, __LETTER_FLAG__ as letter_flag from filtered
