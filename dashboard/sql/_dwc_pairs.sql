-- The pairs CTE shared by dwc_agreement.sql and dwc_disagreements.sql (after __DWC_IN_BOTH__):
-- the items of letters whose item count agrees with DWC's, matched by order.
pairs as (
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
)
