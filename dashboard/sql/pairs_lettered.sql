-- Whether the facet_pairs mart holds the letters of every pair: a build before the pairs of
-- two items' own fields were counted per letter left them NULL (and one before the
-- <column>_fresh flags of item_facts, those of a letter's field with an item's own).
select count(*) filter (where letters is null) = 0 as every_pair
from facet_pairs
