-- Derived tables and macros for the dashboard. Executed by the ETL at the end of every warehouse
-- build, after all inserts, in the new file (the dashboard opens the warehouse read-only, so it
-- cannot create these itself). Owned by the dashboard; contract documented in dashboard/README.md.
--
-- Everything here is rebuilt from letters, decisions and citations: safe to run again.

-- 95% Wilson score interval for k successes out of n trials (z = 1.959963984540054).
create or replace macro wilson_lower(k, n) as
    case when n > 0 then
        ((k::double / n) + 3.841458820694124 / (2 * n)
         - 1.959963984540054
           * sqrt((k::double / n) * (1 - k::double / n) / n + 3.841458820694124 / (4 * n * n)))
        / (1 + 3.841458820694124 / n)
    end;

create or replace macro wilson_upper(k, n) as
    case when n > 0 then
        ((k::double / n) + 3.841458820694124 / (2 * n)
         + 1.959963984540054
           * sqrt((k::double / n) * (1 - k::double / n) / n + 3.841458820694124 / (4 * n * n)))
        / (1 + 3.841458820694124 / n)
    end;

-- One row per disputed item, with the letter fields the dashboard filters and groups by.
-- List columns are never null (empty list instead), so list_has_any() filters need no coalesce.
create or replace table item_facts as
with
letter as (
    select
        letter_id,
        row_number() over (order by letter_id)::integer as letter_key,
        case_number,
        decision_date,
        coalesce(injury_year, year(injury_date))::integer as injury_year,
        coalesce(reviewer_states, []::varchar[]) as reviewer_states,
        coalesce(reviewer_specialties, []::varchar[]) as reviewer_specialties,
        outcome,
        priority,
        application_received,
        layout,
        synthetic
    from letters
),
item as (
    select
        letter_id,
        item_no,
        request,
        decision,
        category,
        subcategory,
        drug_class,
        coalesce(drugs, []::varchar[]) as drugs
    from decisions
),
maximus as (
    select
        letter_id,
        item_no,
        list_sort(list_distinct(list(source))) as guideline_sources,
        list_sort(list_distinct(list(source || ': ' || coalesce(document, '(document not stated)'))))
            as guideline_documents
    from citations
    where role = 'maximus'
    group by letter_id, item_no
),
claims_admin as (
    select
        letter_id,
        item_no,
        list_sort(list_distinct(list(source))) as claims_admin_sources
    from citations
    where role = 'claims_administrator'
    group by letter_id, item_no
)
select
    item.letter_id,
    letter.letter_key,
    item.item_no,
    letter.case_number,
    letter.decision_date,
    year(letter.decision_date)::integer as decision_year,
    letter.injury_year,
    (year(letter.decision_date) - letter.injury_year)::integer as years_to_decision,
    letter.priority,
    letter.application_received,
    case
        when letter.application_received is not null and letter.decision_date is not null
            then datediff('day', letter.application_received, letter.decision_date)::integer
    end as days_to_decision,
    item.request,
    item.decision,
    item.decision = 'Overturned' as overturned,
    item.category,
    item.subcategory,
    item.drug_class,
    item.drugs,
    letter.reviewer_specialties,
    letter.reviewer_states,
    coalesce(maximus.guideline_sources, []::varchar[]) as guideline_sources,
    coalesce(maximus.guideline_documents, []::varchar[]) as guideline_documents,
    coalesce(claims_admin.claims_admin_sources, []::varchar[]) as claims_admin_sources,
    case
        when len(maximus.guideline_sources) > 0 and len(claims_admin.claims_admin_sources) > 0
            then list_has_any(maximus.guideline_sources, claims_admin.claims_admin_sources)
    end as same_source_as_claims_admin,
    letter.outcome as letter_outcome,
    letter.layout,
    letter.synthetic
from item
join letter using (letter_id)
left join maximus using (letter_id, item_no)
left join claims_admin using (letter_id, item_no)
order by decision_year, injury_year, letter_id, item_no;

-- Sidebar filter options with their item counts over the whole warehouse.
-- dimension is the query-parameter name; list dimensions count an item once per value.
create or replace table filter_options as
with facts as (
    select * from item_facts
)
select 'category' as dimension, category as value, count(*) as n
from facts where category is not null group by category
union all
select 'drug_class', drug_class, count(*)
from facts where drug_class is not null group by drug_class
union all
select 'drug', value, count(*)
from (select unnest(drugs) as value from facts) group by value
union all
select 'specialty', value, count(*)
from (select unnest(reviewer_specialties) as value from facts) group by value
union all
select 'guideline_source', value, count(*)
from (select unnest(guideline_sources) as value from facts) group by value
union all
select 'state', value, count(*)
from (select unnest(reviewer_states) as value from facts) group by value
union all
select 'decision', decision, count(*)
from facts group by decision
union all
select 'injury_year', injury_year::varchar, count(*)
from facts where injury_year is not null group by injury_year
union all
select 'decision_year', decision_year::varchar, count(*)
from facts where decision_year is not null group by decision_year;

-- Parse coverage: per letter layout, how many letters / items have each field filled in.
create or replace table parse_coverage as
with
letter as (
    select * from letters
),
item as (
    select decisions.*, letters.layout
    from decisions
    join letters using (letter_id)
),
cited as (
    select distinct letter_id, item_no, role from citations
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
        count_if(exists (
            select 1 from cited
            where cited.letter_id = item.letter_id and cited.item_no = item.item_no
              and cited.role = 'maximus'
        )) as maximus_citation,
        count_if(exists (
            select 1 from cited
            where cited.letter_id = item.letter_id and cited.item_no = item.item_no
              and cited.role = 'claims_administrator'
        )) as claims_admin_citation
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
from (unpivot drug_counts on columns(* exclude (layout, total)) into name field value present);
