-- Every guideline citation of one letter.
with
citation as (
    select * from citations where letter_id = $letter_id
)
select item_no, role, source, document, section, raw
from citation
order by item_no, role desc, source, document
