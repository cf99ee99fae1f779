package dev.cryptopipeline.config;

import dev.cryptopipeline.PipelineException;
import java.util.regex.Pattern;

/**
 * A validated SQL identifier (schema or table name). Identifiers cannot be bound as parameters, so they are checked
 * against {@code [a-z_][a-z0-9_]*} (at most 63 characters, PostgreSQL's limit) and always emitted quoted.
 */
public record Identifier(String name) {
    private static final Pattern VALID = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    public Identifier {
        check("Invalid identifier", name);
    }

    /**
     * The identifier a user gave as an option's value, refused with a message that names the option, e.g.
     * {@code of("--pg-schema", "Bad-Name")}.
     */
    public static Identifier of(String option, String name) {
        check(option + " is not a valid name:", name);
        return new Identifier(name);
    }

    private static void check(String what, String name) {
        if (name == null || !VALID.matcher(name).matches()) {
            throw new PipelineException.BadInput(what + " '" + printable(name)
                    + "': use lowercase letters, digits and underscores, starting with a letter or underscore,"
                    + " at most 63 characters");
        }
    }

    /** The identifier quoted for SQL, e.g. {@code "crypto_eth"}. */
    public String quoted() {
        return '"' + name + '"';
    }

    @Override
    public String toString() {
        return name;
    }

    private static String printable(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return b.toString();
    }
}
