-- The values of the list __COLUMN__ (dimension __DIMENSION__) of the items under
-- __CONDITION__ that hold one of the bits its values share (_option_counts_bits.sql's bits):
-- only those items' lists are read. Registry constants only.
select '__DIMENSION__' as dimension, unnest(__COLUMN__)::varchar as value
from item_facts
where __CONDITION__
    and (
        __COLUMN___bits
        & (select bit_or(bit) from bits where list_column = '__COLUMN__' and not unique_bit)
    ) <> 0
