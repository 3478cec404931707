-- Agreement of DWC's index with our parse, per field, over the items of letters present in
-- both with the same number of items (matched by case number and order). Compared: items
-- where DWC's text is one of our vocabulary's names (unmapped: where it is not); drug class:
-- items either side calls Pharmaceuticals.
with
__DWC_IN_BOTH__,
__DWC_PAIRS__,
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
