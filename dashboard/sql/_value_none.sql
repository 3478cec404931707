-- No dimension (Compare without strata): one value for every item, $all_items.
$all_items::varchar
