-- crosstab_bits.sql's cells counted in several runs, each over a range of letter numbers
-- (queries.pattern_letters: the bits of letter numbers of all its patterns at once would pass
-- the letters' budget): `runs`, the runs' cells (a frame), added up (_cells_summed.sql; no
-- letter in two runs), then put back with their values and rates as crosstab.sql's.
with
placed as (
    select row_order, col_order, n, overturned, letters
    from runs
),
__CELLS_SUMMED__
__CROSSTAB_OUT__
