-- The warehouse's items and its demo items (the pairs mart does not count them apart).
select count(*) as n, count(*) filter (where synthetic) as synthetic from item_facts
