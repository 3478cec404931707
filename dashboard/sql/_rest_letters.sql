-- crosstab_bits.sql's letters of the "(other)" place where one axis (__OWN__) is an item's
-- own field (_placed_letters_fresh.sql counts its kept values', the empty label's among
-- them): each letter once per pattern of the letter's own field (the same in every item)
-- among its items with another value, or with an empty list where the empty label is not
-- kept. At 4M items unfiltered, reviewer state by subcategory (half the items "(other)"):
-- with each letter's items' patterns or'ed (_letter_patterns.sql, every item) the cells
-- 430 ms, 300 this way.
union all
select row_bits, row_none, row_rest, col_bits, col_none, col_rest, 0::ubigint, 0, 0, count(*)
from (
    select distinct * exclude (overturned, letter_flag)
    from (
        select * replace (0::ubigint as __OWN___bits, false as __OWN___none, true as __OWN___rest)
        from paired
        where
            __OWN___rest
            or (
                __OWN___none
                and list_position($__OWN___top::varchar[], $__OWN___empty::varchar) is null
            )
    )
)
group by all
