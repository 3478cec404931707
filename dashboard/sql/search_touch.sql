-- A search used again: the last to be forgotten.
update memory.main.search_registry set used_at = $used_at where search_id = $search_id
