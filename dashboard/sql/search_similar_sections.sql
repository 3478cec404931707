-- The guideline sections MAXIMUS cited for the overturned ones of the given items (similar
-- decisions): how many of those items cite each.
with
wanted as (
    select unnest($letter_ids::varchar[]) as letter_id, unnest($item_nos::integer[]) as item_no
),
overturned as (
    select letter_id, item_no
    from decisions
    semi join wanted using (letter_id, item_no)
    where decision = 'Overturned'
),
cited as (
    select distinct letter_id, item_no, source, document, section
    from citations
    semi join overturned using (letter_id, item_no)
    where role = 'maximus'
)
select
    source,
    coalesce(document, '(document not stated)') as document,
    coalesce(section, '(section not stated)') as section,
    count(*) as items
from cited
group by all
order by items desc, source, document, section
