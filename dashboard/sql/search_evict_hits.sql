-- Forget searches' hits (search_evict_registry.sql forgets their registry rows).
delete from memory.main.search_hits where search_id in (select unnest($ids::integer[]))
