-- No dimension (Compare without strata): one value for every item.
'(all items)'
