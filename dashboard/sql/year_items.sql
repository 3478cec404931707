-- The items decided in one year ($year, a value of $year_dimension: the decision year) per
-- value of every other filter the facet_pairs mart pairs with it, and their overturned ones:
-- what queries.slice_bound adds up for the newest items of a slice (queries.newest_first).
select other as dimension, other_value as value, items, overturned
from facet_pairs
where dimension = $year_dimension and value = $year and other_value is not null
