-- Letters present in both whose item count differs from DWC's: not compared item by item.
with
__DWC_IN_BOTH__
select case_number, letter_id, dwc_items, our_items
from in_both
where dwc_items <> our_items
order by case_number
limit $row_limit
