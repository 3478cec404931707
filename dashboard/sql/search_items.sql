-- Items of the given letters ($letter_ids), for lists of search results and similar decisions,
-- with the texts their snippets are cut from (the index stores no text: etl/search/schema.py);
-- dashboard/search.py keeps the (letter, item) pairs it was given, in their order. Each table is
-- read with `letter_id = any(...)`, which DuckDB answers from the letters' lookup indexes: 8-16
-- ms for 50 letters at 4M items, where a join with the list scanned item_facts (75 ms).
-- guidelines: as the index reads them (etl/search/sql/documents.sql).
with
decision as (
    select
        letter_id,
        item_no,
        request,
        decision,
        category,
        subcategory,
        drug_class,
        coalesce(drugs, []::varchar[]) as drugs,
        rationale,
        concat_ws(chr(10), claims_admin_guideline, maximus_guideline) as guidelines
    from decisions
    where letter_id = any($letter_ids::varchar[])
),
letter as (
    select letter_id, case_number, decision_date, synthetic
    from letters
    where letter_id = any($letter_ids::varchar[])
)
select
    decision.letter_id,
    letter.case_number,
    decision.item_no,
    letter.decision_date,
    decision.request,
    decision.decision,
    decision.category,
    decision.subcategory,
    decision.drug_class,
    decision.drugs,
    letter.synthetic,
    decision.rationale,
    decision.guidelines
from decision
join letter using (letter_id)
