-- Parse coverage of the letters in scope (see item_facts.sql): per letter layout, how
-- many letters / items have each field filled in. views.sql adds the parts up.
with
letter as (
    -- Presence flags, not the text: a CTE used twice is materialised, and one letter's case
    -- summary can be megabytes.
    select
        letter_id,
        layout,
        case_number,
        decision_date,
        injury_date,
        injury_year,
        patient_age,
        patient_sex,
        reviewer_states,
        reviewer_specialties,
        outcome,
        diagnoses is not null or null as diagnoses,
        case_summary is not null or null as case_summary,
        priority,
        date_assigned,
        ur_denial_date,
        application_received
    from scope_letters
),
cited as (
    select
        letter_id,
        item_no,
        bool_or(role = 'maximus') as maximus,
        bool_or(role = 'claims_administrator') as claims_admin
    from scope_citations
    group by letter_id, item_no
),
item as (
    select
        decisions.category,
        decisions.subcategory,
        decisions.drug_class,
        decisions.drugs,
        decisions.strength,
        decisions.quantity,
        decisions.refills,
        decisions.original_request is not null or null as original_request,
        decisions.authorized_portion is not null or null as authorized_portion,
        decisions.claims_admin_guideline is not null or null as claims_admin_guideline,
        decisions.maximus_guideline is not null or null as maximus_guideline,
        decisions.rationale is not null or null as rationale,
        letter.layout,
        coalesce(cited.maximus, false) as maximus_cited,
        coalesce(cited.claims_admin, false) as claims_admin_cited
    from scope_decisions as decisions
    join letter using (letter_id)
    left join cited using (letter_id, item_no)
),
letter_counts as (
    select
        layout,
        count(*) as total,
        count(case_number) as case_number,
        count(decision_date) as decision_date,
        count(injury_date) as injury_date,
        count(coalesce(injury_year, year(injury_date))) as injury_year,
        count(patient_age) as patient_age,
        count(patient_sex) as patient_sex,
        count_if(len(reviewer_states) > 0) as reviewer_states,
        count_if(len(reviewer_specialties) > 0) as reviewer_specialties,
        count(outcome) as outcome,
        count(diagnoses) as diagnoses,
        count(case_summary) as case_summary,
        count(priority) as priority,
        count(date_assigned) as date_assigned,
        count(ur_denial_date) as ur_denial_date,
        count(application_received) as application_received
    from letter
    group by layout
),
item_counts as (
    select
        layout,
        count(*) as total,
        count(category) as category,
        count_if(category is not null and category <> 'Other') as category_resolved,
        count(subcategory) as subcategory,
        count(original_request) as original_request,
        count(authorized_portion) as authorized_portion,
        count(claims_admin_guideline) as claims_admin_guideline,
        count(maximus_guideline) as maximus_guideline,
        count(rationale) as rationale,
        count_if(maximus_cited) as maximus_citation,
        count_if(claims_admin_cited) as claims_admin_citation
    from item
    group by layout
),
drug_counts as (
    select
        layout,
        count(*) as total,
        count(drug_class) as drug_class,
        count_if(drug_class is not null and drug_class <> 'Unclassified Drug') as drug_class_resolved,
        count_if(len(drugs) > 0) as drugs,
        count(strength) as strength,
        count(quantity) as quantity,
        count(refills) as refills
    from item
    where category = 'Pharmaceuticals'
    group by layout
)
select 'letters' as scope, layout, field, present::bigint as present, total
from (unpivot letter_counts on columns(* exclude (layout, total)) into name field value present)
union all
select 'items', layout, field, present::bigint, total
from (unpivot item_counts on columns(* exclude (layout, total)) into name field value present)
union all
select 'pharmaceutical items', layout, field, present::bigint, total
from (unpivot drug_counts on columns(* exclude (layout, total)) into name field value present)
