-- crypto-pipeline: Ethereum token transfers of the UTC days [@first_day, @last_day], cleaned,
-- de-duplicated and enriched, one row per (transaction_hash, log_index), each value already in the
-- text form PostgreSQL's COPY (FORMAT csv) reads.
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
-- --query-limit: the first @row_limit rows of each day in a fixed order, so a re-run loads the same rows.
limited AS (
  SELECT * FROM transfers
  -- GoogleSQL takes QUALIFY only after a WHERE, GROUP BY or HAVING clause.
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY DATE(block_timestamp) ORDER BY block_number, log_index)
          <= @row_limit
),
-- tokens has duplicate addresses (redeploys, streaming): exactly one row per address before joining,
-- or transfers fan out.
tokens AS (
  SELECT address, symbol, name, decimals, total_supply
  FROM `bigquery-public-data.crypto_ethereum.tokens`
  WHERE address IN (SELECT token_address FROM limited)
  QUALIFY ROW_NUMBER() OVER (
            PARTITION BY address
            ORDER BY block_number DESC, symbol, name, decimals, total_supply) = 1
),
-- Proxy tokens such as USDC are missing from tokens: amended_tokens fills in their metadata.
amended AS (
  SELECT address, symbol, name, SAFE_CAST(decimals AS STRING) AS decimals
  FROM `bigquery-public-data.crypto_ethereum.amended_tokens`
  WHERE address IN (SELECT token_address FROM limited)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY address ORDER BY symbol, name) = 1
)
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
FROM limited AS t
-- LEFT JOINs: a transfer of an unknown token is kept, with NULL metadata.
LEFT JOIN tokens AS k ON k.address = t.token_address
LEFT JOIN amended AS a ON a.address = t.token_address
