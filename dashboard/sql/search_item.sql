-- One item, for its similar decisions: what it is, and its key in the search index.
select
    letter_id, item_no, case_number, decision_date, request, decision, category, subcategory,
    drug_class, drugs, hash(letter_id, item_no, $search_salt::integer) as key
from item_facts
where letter_id = $letter_id and item_no = $item_no::integer
