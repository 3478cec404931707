-- The reasons of every item of one letter, with where their sentences are in the rationale.
with
evidence as (
    select * from reason_evidence where letter_id = $letter_id
)
select item_no, reason, sentence, start_offset, end_offset
from evidence
order by item_no, start_offset, reason
