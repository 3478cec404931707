-- Forget searches: their registry rows (after their hits).
delete from memory.main.search_registry where search_id in (select unnest($ids::integer[]))
