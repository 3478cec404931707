-- The warehouse: one row per letter, per disputed item, per guideline citation.
-- Documented column by column in docs/warehouse.md; keep the two in step.
-- Keys (letter_id; letter_id + item_no; source_sha256) are kept unique by the build, not by
-- primary-key indexes: DuckDB holds those in memory, and at millions of rows they exhaust the
-- build's bounded memory (schema version 2; see etl/warehouse/migrations.py).

create table if not exists letters (
    letter_id varchar not null,             -- the case number, or a content fingerprint when the letter has none
    source_path varchar not null,           -- first file this letter was loaded from
    source_sha256 varchar not null,
    layout varchar not null,                -- 'A' 2013 notice, 'B' 2014-15, 'B2' 2016+ with case header
    case_number varchar,
    decision_date date,
    injury_date date,
    injury_year integer,
    patient_age integer,
    patient_sex varchar,                    -- 'male' | 'female' | null
    reviewer_states varchar[],
    reviewer_specialties varchar[],
    outcome varchar,                        -- 'Upheld' | 'Overturned' | 'Partially Overturned'
    diagnoses varchar,
    case_summary varchar,
    priority varchar,
    date_assigned date,
    ur_denial_date date,
    application_received date,
    item_count integer not null,
    synthetic boolean not null default false,
    parser_version varchar not null,
    loaded_at timestamp not null,
    items_digest bigint                     -- digest of the (request, decision) pairs: same letter or a conflicting one
);

create table if not exists decisions (
    letter_id varchar not null,
    item_no integer not null,
    request varchar not null,
    original_request varchar,
    authorized_portion varchar,
    decision varchar not null,              -- 'Upheld' | 'Overturned'
    category varchar,
    subcategory varchar,
    drug_class varchar,                     -- subcategory when category = 'Pharmaceuticals', else null
    drugs varchar[],
    strength varchar,
    quantity varchar,
    refills integer,
    claims_admin_guideline varchar,
    maximus_guideline varchar,
    rationale varchar
);

create table if not exists citations (
    letter_id varchar not null,
    item_no integer not null,
    role varchar not null,                  -- 'claims_administrator' | 'maximus'
    source varchar not null,                -- 'MTUS' | 'ODG' | 'ACOEM' | 'Other'
    document varchar,
    section varchar,
    raw varchar not null
);

-- Every input file ever seen: what became of it. Keyed by content, so renaming a file changes nothing.
create table if not exists sources (
    source_sha256 varchar not null,
    source_path varchar not null,
    status varchar not null,                -- 'loaded' | 'rejected'
    letter_id varchar,
    parser_version varchar not null,
    seen_at timestamp not null
);

create table if not exists rejects (
    source_path varchar not null,
    source_sha256 varchar,
    reason varchar not null,                -- short, stable code: see docs/warehouse.md
    detail varchar,
    seen_at timestamp not null
);

-- Names the vocabulary could not resolve, for `imr vocab report` and the data-quality page.
create table if not exists unresolved (
    letter_id varchar not null,
    item_no integer,
    kind varchar not null,                  -- 'request' | 'drug' | 'specialty' | 'state' | 'citation'
    value varchar not null
);

create table if not exists meta (
    key varchar primary key,
    value varchar
);
