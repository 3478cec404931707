-- crosstab_bits.sql's patterns placed on the axes as _placed_parts.sql places them, where one
-- axis (__OWN__) is an item's own field and the other the letter's: at a kept value's place
-- (the empty label's among them) a pattern of items counts its items as letters when they
-- are their letters' first with that value (their fresh bits hold its place's bit:
-- $__OWN___fresh_masks), the patterns of _rest_letters.sql their letters at "(other)".
row_places as (
    select row_bits, row_none, row_rest, __ROW_PLACE__ as row_order
    from (select distinct row_bits, row_none, row_rest from patterns)
),
col_places as (
    select col_bits, col_none, col_rest, __COL_PLACE__ as col_order
    from (select distinct col_bits, col_none, col_rest from patterns)
),
placed as (
    select
        row_order,
        col_order,
        n,
        overturned,
        letters
        + case
            when (fresh & coalesce(($__OWN___fresh_masks::ubigint[])[__OWN___order], 0::ubigint)) <> 0
                then n
            else 0
        end as letters
    from patterns
    join row_places using (row_bits, row_none, row_rest)
    join col_places using (col_bits, col_none, col_rest)
),
