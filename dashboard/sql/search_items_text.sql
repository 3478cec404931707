-- The filtered items with their text (the "with text" CSV, `imr export --view`): request,
-- rationale, both guideline texts and the citations of each role. The REASONS marker becomes the
-- reasons column when the warehouse has one (dashboard/search.py: items_text_sql).
with
filtered as (
    select
        letter_id, item_no, case_number, decision_date, decision, category, subcategory,
        drug_class, drugs, reviewer_specialties, reviewer_states, guideline_sources, injury_year,
        synthetic
    from item_facts
    where __FILTERS__
),
cited as (
    select
        letter_id,
        item_no,
        string_agg(raw, ' | ' order by raw) filter (where role = 'maximus') as maximus_citations,
        string_agg(raw, ' | ' order by raw) filter (where role = 'claims_administrator')
            as claims_admin_citations
    from citations
    semi join filtered using (letter_id, item_no)
    group by letter_id, item_no
)
select
    filtered.case_number,
    filtered.letter_id,
    filtered.item_no,
    filtered.decision_date,
    filtered.decision,
    decision.request,
    decision.original_request,
    decision.authorized_portion,
    filtered.category,
    filtered.subcategory,
    filtered.drug_class,
    filtered.drugs,
    filtered.reviewer_specialties,
    filtered.reviewer_states,
    filtered.guideline_sources,
    decision.claims_admin_guideline,
    cited.claims_admin_citations,
    decision.maximus_guideline,
    cited.maximus_citations,
    decision.rationale/*REASONS*/,
    filtered.injury_year,
    filtered.synthetic
from filtered
join decisions as decision using (letter_id, item_no)
left join cited using (letter_id, item_no)
order by filtered.decision_date, filtered.letter_id, filtered.item_no
