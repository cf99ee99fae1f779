-- crypto-pipeline verify: the row count and content fingerprint of each UTC day in
-- [@first_day, @last_day] of the rows the export query would load now (its WITH clause and SELECT,
-- unchanged), computed as PostgreSQL computes it over the loaded rows: per row, the MD5 of the
-- row's canonical text, its first 15 hex digits as an integer, summed exactly (NUMERIC) per day.
WITH transfers AS (
  SELECT token_address, from_address, to_address, value, transaction_hash, log_index,
         block_timestamp, block_number, block_hash
  FROM `bigquery-public-data.crypto_ethereum.token_transfers`
  -- A half-open range on the bare partition column always prunes (DATE(block_timestamp) may not).
  -- No log_index filter: 0 is the first log of a block, a real transfer.
  WHERE block_timestamp >= TIMESTAMP(@first_day)
    AND block_timestamp < TIMESTAMP(DATE_ADD(@last_day, INTERVAL 1 DAY))
  -- Streaming inserts are at-least-once: keep one row per (transaction_hash, log_index),
  -- deterministically (the latest block wins a reorg).
  QUALIFY ROW_NUMBER() OVER (
            PARTITION BY transaction_hash, log_index
            ORDER BY block_number DESC, block_hash, token_address, from_address, to_address, value) = 1
),
-- tokens has duplicate addresses (redeploys, streaming): exactly one row per address before joining,
-- or transfers fan out.
tokens AS (
  SELECT address, symbol, name, decimals, total_supply
  FROM `bigquery-public-data.crypto_ethereum.tokens`
  WHERE address IN (SELECT token_address FROM transfers)
  QUALIFY ROW_NUMBER() OVER (
            PARTITION BY address
            ORDER BY block_number DESC, symbol, name, decimals, total_supply) = 1
),
-- Proxy tokens such as USDC are missing from tokens: amended_tokens fills in their metadata.
amended AS (
  SELECT address, symbol, name, SAFE_CAST(decimals AS STRING) AS decimals
  FROM `bigquery-public-data.crypto_ethereum.amended_tokens`
  WHERE address IN (SELECT token_address FROM transfers)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY address ORDER BY symbol, name) = 1
),
export AS (
  SELECT
    t.block_timestamp AS block_timestamp,
    t.block_number AS block_number,
    IF(REGEXP_CONTAINS(t.block_hash, r'^0x[0-9a-fA-F]{64}$'), CONCAT('\\x', LOWER(SUBSTR(t.block_hash, 3))), NULL) AS block_hash,
    IF(REGEXP_CONTAINS(t.transaction_hash, r'^0x[0-9a-fA-F]{64}$'), CONCAT('\\x', LOWER(SUBSTR(t.transaction_hash, 3))), NULL) AS transaction_hash,
    t.log_index AS log_index,
    IF(REGEXP_CONTAINS(t.token_address, r'^0x[0-9a-fA-F]{40}$'), CONCAT('\\x', LOWER(SUBSTR(t.token_address, 3))), NULL) AS token_address,
    IF(REGEXP_CONTAINS(t.from_address, r'^0x[0-9a-fA-F]{40}$'), CONCAT('\\x', LOWER(SUBSTR(t.from_address, 3))), NULL) AS from_address,
    IF(REGEXP_CONTAINS(t.to_address, r'^0x[0-9a-fA-F]{40}$'), CONCAT('\\x', LOWER(SUBSTR(t.to_address, 3))), NULL) AS to_address,
    IF(REGEXP_CONTAINS(t.value, r'^[0-9]{1,78}$'), t.value, NULL) AS value,
    NULLIF(LEFT(REGEXP_REPLACE(COALESCE(k.symbol, a.symbol), r'\p{Cc}', ''), 64), '') AS symbol,
    NULLIF(LEFT(REGEXP_REPLACE(COALESCE(k.name, a.name), r'\p{Cc}', ''), 256), '') AS name,
    CASE WHEN SAFE_CAST(COALESCE(k.decimals, a.decimals) AS INT64) BETWEEN 0 AND 255 THEN SAFE_CAST(COALESCE(k.decimals, a.decimals) AS INT64) END AS decimals,
    IF(REGEXP_CONTAINS(k.total_supply, r'^[0-9]{1,78}$'), k.total_supply, NULL) AS total_supply
  FROM transfers AS t
  -- LEFT JOINs: a transfer of an unknown token is kept, with NULL metadata.
  LEFT JOIN tokens AS k ON k.address = t.token_address
  LEFT JOIN amended AS a ON a.address = t.token_address
),
hashed AS (
  SELECT DATE(block_timestamp, 'UTC') AS day,
    CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(CONCAT(
        IFNULL(CAST(UNIX_MICROS(block_timestamp) AS STRING), '\\N'), '|',
        IFNULL(CAST(block_number AS STRING), '\\N'), '|',
        IFNULL(block_hash, '\\N'), '|',
        IFNULL(transaction_hash, '\\N'), '|',
        IFNULL(CAST(log_index AS STRING), '\\N'), '|',
        IFNULL(token_address, '\\N'), '|',
        IFNULL(from_address, '\\N'), '|',
        IFNULL(to_address, '\\N'), '|',
        IFNULL(REGEXP_REPLACE(value, r'^0+([0-9])', r'\1'), '\\N'), '|',
        IFNULL(CONCAT(CAST(LENGTH(symbol) AS STRING), ':', symbol), '\\N'), '|',
        IFNULL(CONCAT(CAST(LENGTH(name) AS STRING), ':', name), '\\N'), '|',
        IFNULL(CAST(decimals AS STRING), '\\N'), '|',
        IFNULL(REGEXP_REPLACE(total_supply, r'^0+([0-9])', r'\1'), '\\N')
    ))), 1, 15)) AS INT64) AS h
  FROM export
)
SELECT day, COUNT(*) AS row_count, CAST(SUM(CAST(h AS NUMERIC)) AS STRING) AS fingerprint
FROM hashed
GROUP BY day
ORDER BY day
