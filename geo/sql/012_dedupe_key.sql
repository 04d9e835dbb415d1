-- 012_dedupe_key.sql — the measurements' dedupe key as a bigint.
--
-- The key was the 16 bytes of an MD5 (of the row's content or its source's
-- own test id) as bytea: 17 bytes in every row and, padded to 24, in every
-- entry of the primary key (cell16, measured_at, dedupe_key).  Its first 8
-- bytes, read big-endian as a bigint, are as good a key: two different
-- tests would need the same ~600 m cell, the same microsecond and the same
-- 64-bit hash.  Loading 1 M rows into a partition took ~0.5 s less
-- (BENCHMARKS.md, measurement ingest).
ALTER TABLE measurements ALTER COLUMN dedupe_key TYPE bigint
    USING ('x' || encode(substr(dedupe_key, 1, 8), 'hex'))::bit(64)::bigint;
