-- item_facts for the letters in scope: scope_letters, scope_decisions and scope_citations are
-- views of the build (etl/warehouse/derived.py) over one spool chunk of new letters, or over a
-- bucket of the warehouse's letters when it builds whole (bounded memory whatever the size).
-- letter_key numbers letters from $key_offset (the letters numbered before).
-- One row per disputed item, with the letter fields the dashboard filters and groups by.
-- List columns are never null (empty list instead), so list_has_any() filters need no coalesce.
with
letter as (
    select
        letter_id,
        ($key_offset + row_number() over (order by letter_id))::integer as letter_key,
        case_number,
        decision_date,
        coalesce(injury_year, year(injury_date))::integer as injury_year,
        coalesce(reviewer_states, []::varchar[]) as reviewer_states,
        coalesce(reviewer_specialties, []::varchar[]) as reviewer_specialties,
        outcome,
        priority,
        application_received,
        layout,
        synthetic,
        patient_age,
        patient_sex,
        coalesce(body_regions, []::varchar[]) as body_regions,
        item_count
    from scope_letters
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
        coalesce(drugs, []::varchar[]) as drugs,
        coalesce(reasons, []::varchar[]) as reasons,
        original_request is not null or authorized_portion is not null as partial
    from scope_decisions
),
maximus as (
    select
        letter_id,
        item_no,
        list_sort(list_distinct(list(source))) as guideline_sources,
        list_sort(list_distinct(list(source || ': ' || coalesce(document, '(document not stated)'))))
            as guideline_documents
    from scope_citations
    where role = 'maximus'
    group by letter_id, item_no
),
claims_admin as (
    select
        letter_id,
        item_no,
        list_sort(list_distinct(list(source))) as claims_admin_sources
    from scope_citations
    where role = 'claims_administrator'
    group by letter_id, item_no
)
select
    item.letter_id,
    letter.letter_key,
    item.item_no,
    -- The letter's first item (set by first_in_letter.sql, once the scope's facts are built: a
    -- join here ran the build's 40 MB memory test out of memory, a window too): a count of
    -- these is a count of letters where every item of a letter counts alike (the dashboard's
    -- queries.letters_count).
    false as first_in_letter,
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
    item.reasons,
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
    letter.synthetic,
    -- Dashboard facets (dashboard/dimensions.py): decision month and quarter, patient, body
    -- regions, licensure, letter size, partial authorization, letter era.
    strftime(letter.decision_date, '%Y-%m') as decision_month,
    year(letter.decision_date) || '-Q' || quarter(letter.decision_date) as decision_quarter,
    case
        when letter.patient_age is null then null
        when letter.patient_age < 18 then 'under 18'
        when letter.patient_age < 30 then '18–29'
        when letter.patient_age < 40 then '30–39'
        when letter.patient_age < 50 then '40–49'
        when letter.patient_age < 60 then '50–59'
        when letter.patient_age < 70 then '60–69'
        else '70+'
    end as age_band,
    letter.patient_sex,
    letter.body_regions,
    case
        when len(letter.reviewer_states) = 0 then null
        when list_contains(letter.reviewer_states, 'California') then 'yes'
        else 'only elsewhere'
    end as licensed_in_california,
    letter.item_count as items_in_letter,
    case when item.partial then 'yes' else 'no' end as partial_authorization,
    case letter.layout
        when 'A' then 'A: 2013 notice'
        when 'B' then 'B: 2014–15 letter'
        when 'B2' then 'B2: 2016+ letter'
        else letter.layout
    end as letter_era
    -- The list filters' value bits (etl/warehouse/derived.py, from the registry): a filter on
    -- a value whose bit no other value of its list shares tests the bit, not the list.
    __VALUE_BITS__
from item
join letter using (letter_id)
left join maximus using (letter_id, item_no)
left join claims_admin using (letter_id, item_no)
-- item_facts' order is given by the query that wraps this one (derived.ordered_sql).
