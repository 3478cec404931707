-- The search index reads its documents a slice of letters at a time (documents.sql), so that
-- its join holds a few MB of text whatever the warehouse's size (one join over the whole
-- warehouse ran out of a 256 MB cap at 4M items). This gives the blocks slices are cut from:
-- $letters consecutive row ids of letters and the range of row ids of decisions that holds
-- their items. A load appends a letter's items with it, so the item ranges stay narrow; a wide
-- one costs time, never a document. No text is read here: a scan of the case summaries beyond
-- a slice's row ids must hold 2,048 of them at once (400 of 1 MiB do not fit 256 MB).
-- $all: every letter; otherwise only those in changed_letters (read only then: documents.sql).
with
letter as (
    select rowid as letter_row, letter_id
    from letters
    where
        $all::boolean
        or letter_id in (select letter_id from changed_letters where not $all::boolean)
),
item as (
    select rowid as item_row, letter_id
    from decisions
)
-- A letter without items has no documents: no block needs it.
select
    min(letter.letter_row) as first_letter,
    max(letter.letter_row) as last_letter,
    min(item.item_row) as first_item,
    max(item.item_row) as last_item
from item
join letter using (letter_id)
group by letter.letter_row // $letters
order by first_letter
