-- Every item of one letter with its decision, guidelines and rationale.
with
decision as (
    select * from decisions where letter_id = $letter_id
)
select
    item_no, request, original_request, authorized_portion, decision, category, subcategory,
    drug_class, drugs, strength, quantity, refills, claims_admin_guideline, maximus_guideline,
    rationale
from decision
order by item_no
