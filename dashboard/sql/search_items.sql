-- Items named by (letter_id, item_no) pairs, in the order given ($ranks), for lists of search
-- results and similar decisions.
with
wanted as (
    select
        unnest($letter_ids::varchar[]) as letter_id,
        unnest($item_nos::integer[]) as item_no,
        unnest($ranks::integer[]) as rank
),
item as (
    select
        letter_id, item_no, case_number, decision_date, request, decision, category, subcategory,
        drug_class, drugs, synthetic
    from item_facts
    where letter_id in (select letter_id from wanted)
)
select
    wanted.rank, item.letter_id, item.case_number, item.item_no, item.decision_date,
    item.request, item.decision, item.category, item.subcategory, item.drug_class, item.drugs,
    item.synthetic
from wanted
join item using (letter_id, item_no)
order by wanted.rank
