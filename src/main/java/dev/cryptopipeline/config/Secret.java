package dev.cryptopipeline.config;

import java.util.Objects;

/** A value that must never be printed: {@code toString} redacts it. Use {@link #reveal()} only to hand it to a driver. */
public record Secret(String value) {
    public Secret {
        Objects.requireNonNull(value, "value");
    }

    /** The secret itself, for the one call that needs it. */
    public String reveal() {
        return value;
    }

    @Override
    public String toString() {
        return "****";
    }
}
