-- The rows rates_sets.sql counts for list dimensions (at 4M items two such tables under one
-- specialty: 265 ms as two rates_list.sql, 155-186 ms in one pass). __UNNESTS__ puts each
-- column's values side by side ("unnest(c) as c": DuckDB pairs a row's lists element by
-- element and pads the shorter with NULL); __EMPTIES__ gives each column its $empties label
-- where its list is empty ("case when len(c) = 0 then ($empties)[i] end as c", else NULL),
-- __ANY_EMPTY__ says whether any is (_empty_list.sql of each column). An item counts once under each value its list holds, or
-- under its dimension's label when the list is empty (none when the label is NULL).
select __UNNESTS__, overturned, letter_key, __LETTER_FLAG__ as letter_flag
from filtered
union all
select __EMPTIES__, overturned, letter_key, __LETTER_FLAG__ as letter_flag
from filtered
where __ANY_EMPTY__
