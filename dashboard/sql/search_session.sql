-- The session's search state, in its in-memory catalog (the warehouse is read-only): each
-- search's hits (the keys of its matching items, or of its non-matching ones when negated) and
-- the registry of searches kept (dashboard/search.py evicts the least recently used).
create table if not exists memory.main.search_hits (
    search_id integer not null,
    key ubigint not null
);
create table if not exists memory.main.search_registry (
    search_id integer not null,
    index_id varchar not null,
    query varchar not null,
    negated boolean not null,
    salt integer not null,
    matches bigint not null,
    used_at double not null
);
