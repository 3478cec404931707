-- Marks each letter's first item in the scope's facts (item_facts.sql leaves first_in_letter
-- false): a step of its own, after the facts' query has let go of its memory.
update scope_facts
set first_in_letter = true
from (
    select letter_key, min(item_no) as first_item_no
    from scope_facts
    group by letter_key
) as first_item
where scope_facts.letter_key = first_item.letter_key
    and scope_facts.item_no = first_item.first_item_no
