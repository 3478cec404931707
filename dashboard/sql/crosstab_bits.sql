-- crosstab.sql's cells, for two axes whose kept values each have a bit: lists with a bit of
-- their own for each kept value in item_facts' <column>_bits, or a list and a scalar (its kept
-- values' places as bits: 1, 2, 4, ...). Each axis's columns of the patterns by its shape
-- (__ROW_PATTERN__: _pattern_<shape>.sql; queries.crosstab_masks gives the masks): the bits
-- of its kept values (__ROW___bits & $row_mask), whether it holds a value beyond them (it goes
-- to the $other place, once) and whether its list is empty (counted under $row_empty, as
-- crosstab.sql counts it). The items are grouped by those patterns, then each pattern is
-- placed on the axes. crosstab.sql unnests every item's lists: at 4M items, reviewer
-- specialty by state unfiltered, its cells 555-626 ms. A pattern's letters
-- (__PATTERN_LETTERS__) and a cell's (__CELL_LETTERS__, of its patterns') by the flagged item
-- of each letter (__LETTER_FLAG__) when both axes are the letter's own fields, or by its
-- first item with each kept value of an item's own field (__PATTERN_FRESH__: the kept values'
-- bits the items are their letters' first with, _fresh_<shape>.sql; placed by
-- _placed_letters_fresh.sql), the "(other)" value's and the empty list's once each per letter
-- (_rest_letters.sql), else as bits
-- of letter numbers (in one run, or in several over ranges of letter numbers:
-- __LETTER_SLICE__, their cells added up by crosstab_cells.sql, __CELLS_OUT__ their counts),
-- else from patterns of letters (__LETTER_PATTERNS__; queries.pattern_letters says which).
-- $row_masks / $col_masks: the bit of each kept value, in axis order (0 for $row_empty where
-- no list holds it as a value); $row_mask their or;
-- $row_rest_mask every other bit: an item holds a value beyond the kept ones exactly when it
-- has one of those (a kept value's bit is its own, so every other value, its bit shared or
-- not, sets another). NULL values have no bit and no place, and a list holds a value once,
-- as in crosstab.sql. By first items (queries.fresh_places): a pattern's fresh, the kept
-- values' bits its items are their letters' first with, and $row_fresh_masks /
-- $col_fresh_masks the bit of each kept value's place (the empty label's a free one).
with
paired as (
    select
        __ROW_PATTERN__,
        __COL_PATTERN__,
        overturned,
        letter_key,
        __LETTER_FLAG__ as letter_flag
    from item_facts
    where __FILTERS__ and __ROW_HAS__ and __COL_HAS__ and __LETTER_SLICE__
),
patterns as (
    select
        row_bits,
        row_none,
        row_rest,
        col_bits,
        col_none,
        col_rest,
        __PATTERN_FRESH__ as fresh,
        count(*) as n,
        count_if(overturned) as overturned,
        __PATTERN_LETTERS__ as letters
    from paired
    group by all
    __LETTER_PATTERNS__
),
-- A pattern's places on each axis (__PLACED__: queries.pattern_letters says which of
-- _placed_each.sql, _placed_parts.sql).
__PLACED__
__CELLS_SUMMED__
__CELLS_OUT__
