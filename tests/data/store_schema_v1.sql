-- The schema of a version-1 geonews store (geonews/store.py _SCHEMA at da67542),
-- kept to test that such a store is upgraded in place (tests/test_migrations.py).
CREATE TABLE IF NOT EXISTS articles (
    id VARCHAR PRIMARY KEY,
    ref VARCHAR,
    title VARCHAR,
    url VARCHAR,
    source VARCHAR,
    published DATE,
    text VARCHAR NOT NULL,
    added_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    label VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS mentions (
    article_id VARCHAR NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    entity VARCHAR,
    entity_id VARCHAR,
    sentence INTEGER
);
CREATE TABLE IF NOT EXISTS places (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    lat DOUBLE,
    lon DOUBLE,
    country_code VARCHAR,
    kind VARCHAR
);
CREATE TABLE IF NOT EXISTS mention_places (
    article_id VARCHAR NOT NULL,
    place_id VARCHAR NOT NULL,
    start INTEGER,
    "end" INTEGER,
    text VARCHAR,
    confidence DOUBLE,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS dates (
    article_id VARCHAR NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text VARCHAR NOT NULL,
    date DATE,
    precision VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS geocode_overrides_seq;
CREATE TABLE IF NOT EXISTS geocode_overrides (
    id INTEGER PRIMARY KEY DEFAULT nextval('geocode_overrides_seq'),
    name VARCHAR NOT NULL,
    article_id VARCHAR,
    place_id VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
ALTER TABLE geocode_overrides ADD COLUMN IF NOT EXISTS place_name VARCHAR;
ALTER TABLE geocode_overrides ADD COLUMN IF NOT EXISTS kind VARCHAR;
ALTER TABLE geocode_overrides ADD COLUMN IF NOT EXISTS country_code VARCHAR;
CREATE TABLE IF NOT EXISTS geocode_cache (
    provider VARCHAR NOT NULL,
    query VARCHAR NOT NULL,
    lat DOUBLE,
    lon DOUBLE,
    response VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (provider, query)
);
CREATE TABLE IF NOT EXISTS entity_curation (
    seq INTEGER PRIMARY KEY,
    op VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    target_id VARCHAR,
    name VARCHAR,
    label VARCHAR,
    alias VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE INDEX IF NOT EXISTS mentions_article ON mentions (article_id);
CREATE INDEX IF NOT EXISTS mentions_entity ON mentions (entity_id);
CREATE INDEX IF NOT EXISTS mention_places_article ON mention_places (article_id);
CREATE INDEX IF NOT EXISTS mention_places_place ON mention_places (place_id);
CREATE INDEX IF NOT EXISTS dates_article ON dates (article_id);
CREATE OR REPLACE VIEW entity_summary AS
    SELECT e.id, e.name, e.label,
           count(*) AS mentions,
           count(DISTINCT m.article_id) AS articles,
           min(a.published) AS first_seen,
           max(a.published) AS last_seen
    FROM entities e
    JOIN mentions m ON m.entity_id = e.id
    JOIN articles a ON a.id = m.article_id
    GROUP BY e.id, e.name, e.label;
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP DEFAULT current_timestamp);
INSERT INTO schema_version (version) VALUES (1);
