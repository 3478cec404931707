-- The reasons of every item of the letters $letter_ids, with the sentence that gives each: read
-- through reason_evidence's letter_id index. Only letter_id is tested here: DuckDB scans every
-- row instead (40-60 ms at 4M items, 2 by the index) when the scan also tests the reason for
-- equality, wherever the query says it (the test is pushed into the scan, even from after a
-- join), so queries.reason_examples keeps the reason it wants.
with
evidence as (
    select letter_id, item_no, reason, sentence
    from reason_evidence
    where letter_id = any($letter_ids::varchar[])
)
select * from evidence
