-- Agreement of DWC's index with our parse, per field, over the items of letters present in
-- both with the same number of items (matched by case number and order). Compared: items
-- where DWC's text is one of our vocabulary's names (unmapped: where it is not); drug class:
-- items either side calls Pharmaceuticals.
with
dwc as (
    select
        case_number, treatment_no, decision_raw, decision, category_raw, category,
        subcategory_raw, drug_class, letter_sha256
    from dwc_index
),
dwc_cases as (
    select case_number, count(*) as dwc_items, max(letter_sha256) as letter_sha256
    from dwc
    group by case_number
),
-- Our letter for a DWC case: the one printing its case number, else the one loaded from the
-- PDF `imr fetch` downloaded for it (letters of 2014-15 print no case number).
by_case_number as (
    select case_number, min(letter_id) as letter_id
    from letters
    where case_number is not null
    group by case_number
),
by_file as (
    select source_sha256, min(letter_id) as letter_id
    from sources
    where status = 'loaded' and letter_id is not null
    group by source_sha256
),
linked as (
    select c.case_number, c.dwc_items, coalesce(n.letter_id, f.letter_id) as letter_id
    from dwc_cases as c
    left join by_case_number as n on n.case_number = c.case_number
    left join by_file as f on f.source_sha256 = c.letter_sha256
),
in_both as (
    select linked.case_number, linked.letter_id, linked.dwc_items, l.item_count as our_items
    from linked
    join letters as l on l.letter_id = linked.letter_id
),
pairs as (
    -- Items of letters whose item count agrees with DWC's, matched by order.
    select
        d.case_number, b.letter_id, d.treatment_no as item_no, o.request,
        d.decision_raw, d.decision, o.decision as our_decision,
        d.category_raw, d.category, o.category as our_category,
        d.subcategory_raw, d.drug_class, o.drug_class as our_drug_class,
        d.category is not null
        and (d.category = 'Pharmaceuticals' or o.category = 'Pharmaceuticals')
        and (d.category <> 'Pharmaceuticals' or d.drug_class is not null) as drug_compared
    from in_both as b
    join dwc as d on d.case_number = b.case_number
    join decisions as o on o.letter_id = b.letter_id and o.item_no = d.treatment_no
    where b.dwc_items = b.our_items
),
fields as (
    select
        1 as field_order,
        'decision' as field,
        count(*) filter (where decision is not null) as compared,
        count(*) filter (where decision = our_decision) as agree,
        count(*) filter (where decision is null) as unmapped
    from pairs
    union all
    select
        2,
        'category',
        count(*) filter (where category is not null),
        count(*) filter (where category = our_category),
        count(*) filter (where category is null)
    from pairs
    union all
    select
        3,
        'drug class',
        count(*) filter (where drug_compared),
        count(*) filter (where drug_compared and drug_class is not distinct from our_drug_class),
        count(*) filter (where category = 'Pharmaceuticals' and drug_class is null)
    from pairs
)
select
    field,
    compared,
    agree,
    compared - agree as disagree,
    agree / nullif(compared, 0) as agree_rate,
    wilson_low(agree, compared) as agree_lower,
    wilson_high(agree, compared) as agree_upper,
    unmapped
from fields
order by field_order
