-- The rows rates_sets.sql counts for scalar dimensions that are all the letter's own fields
-- under filters for which queries.counting_flag has no flag (two list filters, say): a row
-- per letter, with its items and those overturned (summed by _item_counts_letters.sql), each
-- flagged, so a group counts its letters by its rows. At 4M items, the Timeline's five under
-- a reason and a guideline source (358,507 items): 93 -> 45 ms against bits; under two
-- reasons (2.1M items) 166 -> 121 ms.
select
    __COLUMNS__,
    count(*) as items,
    count(*) filter (where overturned) as overturned_items,
    letter_key,
    true as letter_flag
from filtered
group by letter_key, __COLUMNS__
