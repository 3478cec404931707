-- Items of the filtered slice giving one reason, newest first, with the sentence that says so.
with
filtered as (
    select letter_id, item_no, decision_date, request, decision, category, drug_class
    from item_facts
    where __FILTERS__ and list_contains(reasons, $reason)
),
evidence as (
    select letter_id, item_no, sentence from reason_evidence where reason = $reason
)
select
    filtered.letter_id,
    filtered.item_no,
    filtered.decision_date,
    filtered.decision,
    filtered.category,
    filtered.drug_class,
    filtered.request,
    evidence.sentence
from filtered
join evidence using (letter_id, item_no)
order by filtered.decision_date desc nulls last, filtered.letter_id, filtered.item_no
limit $limit
