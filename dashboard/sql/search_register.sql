-- Keep a search: its hits were inserted just before (search_insert.sql or search_fallback.sql).
insert into memory.main.search_registry
values ($search_id, $index_id, $query, $negated, $salt, $matches, $used_at)
