-- Items of the filtered slice giving one reason, newest first, with the sentence that says so.
-- An item has one evidence row per reason it gives (etl/classify: its reasons are those of
-- its evidence), so the newest $limit items are chosen first and only their sentences read.
-- $from_year (NULL: every year) leaves out the items decided before it: when that still leaves
-- $limit items, they are the newest of all (queries.newest_first asks again without it if
-- not), and item_facts, ordered by decision year, is read from that year's row groups only.
with
newest as (
    select letter_id, item_no, decision_date, request, decision, category, drug_class
    from item_facts
    where __FILTERS__ and list_contains(reasons, $reason)
        and __SINCE_YEAR__
    order by decision_date desc nulls last, letter_id, item_no
    limit $limit
),
evidence as (
    select letter_id, item_no, sentence
    from reason_evidence
    where reason = $reason and letter_id in (select letter_id from newest)
)
select
    newest.letter_id,
    newest.item_no,
    newest.decision_date,
    newest.decision,
    newest.category,
    newest.drug_class,
    newest.request,
    evidence.sentence
from newest
join evidence using (letter_id, item_no)
order by newest.decision_date desc nulls last, newest.letter_id, newest.item_no
