package dev.cryptopipeline.config;

import java.util.Locale;

/** Where a day's transfers come from. */
public enum SourceKind {
    /** BigQuery's public {@code crypto_ethereum} dataset, exported into a GCS lake. */
    BIGQUERY,
    /** A deterministic generator of Ethereum-shaped transfers, for trials without a cloud account. */
    SYNTHETIC;

    /** The name used on the command line and in configuration. */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
