-- The items where DWC's index and our parse disagree (as dwc_agreement.sql compares them).
with
__DWC_IN_BOTH__,
__DWC_PAIRS__,
differing as (
    select
        case_number, letter_id, item_no, 'decision' as field, decision_raw as dwc_text,
        decision as dwc_value, our_decision as our_value, request
    from pairs
    where decision is not null and decision <> our_decision
    union all
    select
        case_number, letter_id, item_no, 'category', category_raw, category, our_category,
        request
    from pairs
    where category is not null and category <> our_category
    union all
    select
        case_number, letter_id, item_no, 'drug class', subcategory_raw, drug_class,
        our_drug_class, request
    from pairs
    where drug_compared and drug_class is distinct from our_drug_class
)
select case_number, letter_id, item_no, field, dwc_text, dwc_value, our_value, request
from differing
order by case_number, item_no, field
limit $row_limit
