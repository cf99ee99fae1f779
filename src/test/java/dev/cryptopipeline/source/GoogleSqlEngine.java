package dev.cryptopipeline.source;

import com.google.common.collect.ImmutableList;
import com.google.zetasql.AnalyzerOptions;
import com.google.zetasql.LanguageOptions;
import com.google.zetasql.PreparedQuery;
import com.google.zetasql.SimpleCatalog;
import com.google.zetasql.SimpleColumn;
import com.google.zetasql.SimpleTable;
import com.google.zetasql.SqlException;
import com.google.zetasql.TableContent;
import com.google.zetasql.Type;
import com.google.zetasql.TypeFactory;
import com.google.zetasql.Value;
import com.google.zetasql.ZetaSQLBuiltinFunctionOptions;
import com.google.zetasql.ZetaSQLOptions.ProductMode;
import com.google.zetasql.ZetaSQLType.TypeKind;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Runs GoogleSQL (BigQuery's dialect) for tests: ZetaSQL's analyzer and reference engine, over tables held in memory.
 * Any SQL text with typed parameters goes in, rows of plain Java values come out, so the SQL the tool sends to
 * BigQuery is executed, not only pinned by golden files.
 *
 * <p>Set up as BigQuery runs: every language feature, the external product mode (BigQuery's types and functions),
 * {@code QUALIFY} a reserved word, and the default time zone UTC (ZetaSQL's own default is America/Los_Angeles, which
 * would move every {@code TIMESTAMP(@day)} by 8 hours). {@link #analyze} also parses with {@code QUALIFY}
 * unreserved (ZetaSQL's default), where the parser demands a WHERE, GROUP BY or HAVING clause before a
 * {@code QUALIFY}: SQL that passes both is valid whichever way a GoogleSQL engine treats the word. Tables are
 * registered under their full names as the SQL writes them between backticks, e.g.
 * {@code bigquery-public-data.crypto_ethereum.token_transfers}.
 *
 * <p>Values: STRING ↔ {@link String}, INT64 ↔ {@link Long}, TIMESTAMP ↔ {@link Instant} (microseconds), DATE ↔
 * {@link LocalDate}, BOOL ↔ {@link Boolean}; SQL NULL ↔ {@code null}. A parameter's Java type gives its SQL type.
 *
 * <p>ZetaSQL 2024.11.1 needs Protocol Buffers 3.25, which the Google Cloud libraries on the test classpath replace by
 * 4.x, so tests that use this class run only in the failsafe execution {@code googlesql} (see the pom), which swaps
 * the classpath. Mark them {@link OnGoogleSqlClasspath} and name them {@code GoogleSql*IT}. To run them alone:
 * {@code mvn -B verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test='GoogleSql*IT'} (the default
 * failsafe execution then reports them as skipped). The engine starts in about 2 seconds, once per JVM.
 *
 * <p>One engine holds one set of tables, registered once; close it to free the engine's copy of them.
 */
public final class GoogleSqlEngine implements AutoCloseable {

    /** The JUnit tag that the failsafe execution {@code googlesql} runs, and only it. */
    public static final String TAG = "googlesql";
    /** Set to {@code true} by the failsafe execution {@code googlesql}, whose classpath ZetaSQL can run on. */
    public static final String CLASSPATH_PROPERTY = "googlesql.classpath";

    /**
     * Marks a test class that runs SQL through this engine: it is tagged for the {@code googlesql} failsafe execution
     * and skipped anywhere else (where ZetaSQL could not start).
     */
    @Target(ElementType.TYPE)
    @Retention(RetentionPolicy.RUNTIME)
    @Tag(TAG)
    @EnabledIfSystemProperty(named = CLASSPATH_PROPERTY, matches = "true",
            disabledReason = "needs ZetaSQL's classpath: runs in the failsafe execution 'googlesql'")
    public @interface OnGoogleSqlClasspath {
    }

    /** The GoogleSQL types the tables and results use. */
    public enum SqlType {
        STRING(TypeKind.TYPE_STRING), INT64(TypeKind.TYPE_INT64), TIMESTAMP(TypeKind.TYPE_TIMESTAMP),
        DATE(TypeKind.TYPE_DATE), BOOL(TypeKind.TYPE_BOOL);

        private final TypeKind kind;

        SqlType(TypeKind kind) {
            this.kind = kind;
        }

        Type type() {
            return TypeFactory.createSimpleType(kind);
        }

        static SqlType of(Type type) {
            for (SqlType t : values()) {
                if (t.kind == type.getKind()) {
                    return t;
                }
            }
            throw new UnsupportedOperationException("GoogleSqlEngine does not convert " + type
                    + " values yet: add it to SqlType");
        }

        static SqlType ofJava(Object value) {
            if (value instanceof String) {
                return STRING;
            } else if (value instanceof Long || value instanceof Integer) {
                return INT64;
            } else if (value instanceof Instant) {
                return TIMESTAMP;
            } else if (value instanceof LocalDate) {
                return DATE;
            } else if (value instanceof Boolean) {
                return BOOL;
            }
            throw new IllegalArgumentException("No GoogleSQL type for a " + value.getClass().getName()
                    + " parameter: give a String, Long, Integer, Instant, LocalDate or Boolean");
        }

        Value toValue(Object v) {
            if (v == null) {
                return Value.createNullValue(type());
            }
            if (ofJava(v) != this) {
                throw new IllegalArgumentException("A " + v.getClass().getSimpleName() + " is not a " + this
                        + " value: " + v);
            }
            return switch (this) {
                case STRING -> Value.createStringValue((String) v);
                case INT64 -> Value.createInt64Value(((Number) v).longValue());
                case TIMESTAMP -> Value.createTimestampValueFromUnixMicros(
                        ChronoUnit.MICROS.between(Instant.EPOCH, (Instant) v));
                case DATE -> Value.createDateValue((LocalDate) v);
                case BOOL -> Value.createBoolValue((Boolean) v);
            };
        }

        Object fromValue(Value v) {
            if (v.isNull()) {
                return null;
            }
            return switch (this) {
                case STRING -> v.getStringValue();
                case INT64 -> v.getInt64Value();
                case TIMESTAMP -> Instant.EPOCH.plus(v.getTimestampUnixMicros(), ChronoUnit.MICROS);
                case DATE -> v.getLocalDateValue();
                case BOOL -> v.getBoolValue();
            };
        }
    }

    /** A column of a table or a result. */
    public record Column(String name, SqlType type) {
        public Column {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
        }
    }

    /**
     * A table held in memory.
     *
     * @param name    its full name as the SQL writes it between backticks
     * @param columns its columns, in order
     * @param rows    its rows, each with one value (or null) per column, of the column's Java type
     */
    public record Table(String name, List<Column> columns, List<List<Object>> rows) {
        public Table {
            Objects.requireNonNull(name, "name");
            columns = List.copyOf(columns);
            List<List<Object>> copy = new ArrayList<>();
            for (List<Object> row : rows) {
                if (row.size() != columns.size()) {
                    throw new IllegalArgumentException(name + ": a row of " + row.size() + " values for "
                            + columns.size() + " columns: " + row);
                }
                copy.add(Collections.unmodifiableList(new ArrayList<>(row)));
            }
            rows = List.copyOf(copy);
        }
    }

    /** The rows a query returned, in the engine's order (which SQL leaves unspecified without ORDER BY). */
    public record Result(List<Column> columns, List<List<Object>> rows) {
        /** The column names, in order. */
        public List<String> names() {
            return columns.stream().map(Column::name).toList();
        }

        /** The rows as maps from column name to value, for readable assertions. */
        public List<Map<String, Object>> maps() {
            List<Map<String, Object>> maps = new ArrayList<>();
            for (List<Object> row : rows) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = 0; i < columns.size(); i++) {
                    m.put(columns.get(i).name(), row.get(i));
                }
                maps.add(m);
            }
            return maps;
        }
    }

    /** GoogleSQL refused a query (analysis) or failed to run it. */
    public static final class GoogleSqlException extends RuntimeException {
        GoogleSqlException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final LanguageOptions language = bigQueryLanguage(true);
    private final LanguageOptions qualifyUnreserved = bigQueryLanguage(false);
    private final SimpleCatalog catalog;
    private final SimpleCatalog.AutoUnregister registration;

    /** Starts the engine (if this JVM has not yet) and registers the tables with it. */
    public GoogleSqlEngine(List<Table> tables) {
        catalog = new SimpleCatalog("googlesql_engine");
        Map<String, TableContent> contents = new LinkedHashMap<>();
        for (Table t : tables) {
            SimpleTable table = new SimpleTable(t.name());
            for (Column c : t.columns()) {
                table.addSimpleColumn(c.name(), c.type().type());
            }
            catalog.addSimpleTable(table);
            List<List<Value>> rows = new ArrayList<>();
            for (List<Object> row : t.rows()) {
                List<Value> values = new ArrayList<>();
                for (int i = 0; i < row.size(); i++) {
                    values.add(t.columns().get(i).type().toValue(row.get(i)));
                }
                rows.add(values);
            }
            contents.put(t.name(), TableContent.create(rows));
        }
        catalog.addZetaSQLFunctionsAndTypes(new ZetaSQLBuiltinFunctionOptions(language));
        registration = catalog.register(contents);
    }

    /** BigQuery's flavour of GoogleSQL. */
    private static LanguageOptions bigQueryLanguage(boolean qualifyReserved) {
        LanguageOptions language = new LanguageOptions().enableMaximumLanguageFeatures();
        language.setProductMode(ProductMode.PRODUCT_EXTERNAL);
        language.setSupportsAllStatementKinds();
        if (qualifyReserved) {
            // As BigQuery does. Unreserved, "FROM t QUALIFY" could be an alias, so the parser wants a WHERE first.
            language.enableReservableKeyword("QUALIFY");
        }
        return language;
    }

    private AnalyzerOptions options(LanguageOptions language, Map<String, ?> params) {
        AnalyzerOptions options = new AnalyzerOptions();
        options.setLanguageOptions(language);
        // BigQuery's default time zone; ZetaSQL's is America/Los_Angeles.
        options.setDefaultTimezone("UTC");
        params.forEach((name, value) -> options.addQueryParameter(name,
                SqlType.ofJava(Objects.requireNonNull(value, "parameter " + name)).type()));
        return options;
    }

    private PreparedQuery prepare(LanguageOptions language, String sql, Map<String, ?> params) {
        try {
            return PreparedQuery.builder().setSql(sql).setAnalyzerOptions(options(language, params))
                    .setCatalog(catalog).prepare();
        } catch (SqlException e) {
            throw new GoogleSqlException("GoogleSQL rejects the query" + (language == qualifyUnreserved
                    ? " (QUALIFY unreserved)" : "") + ": " + e.getMessage() + "\n" + numbered(sql), e);
        }
    }

    /**
     * Analyzes a query without running it, with {@code QUALIFY} reserved (as BigQuery) and unreserved.
     *
     * @param params the query parameters by name (without {@code @}); only their types matter here
     * @return the columns the query returns
     * @throws GoogleSqlException with the analyzer's message (and {@code [at line:column]}) if the SQL is invalid
     */
    public List<Column> analyze(String sql, Map<String, ?> params) {
        prepare(qualifyUnreserved, sql, params).close();
        try (PreparedQuery query = prepare(language, sql, params)) {
            return columns(query.getColumns());
        }
    }

    /**
     * Runs a query with ZetaSQL's reference implementation.
     *
     * @param params the query parameters by name (without {@code @}), typed by their Java type
     * @throws GoogleSqlException if the SQL is invalid or fails while running
     */
    public Result execute(String sql, Map<String, ?> params) {
        try (PreparedQuery query = prepare(language, sql, params)) {
            List<Column> columns = columns(query.getColumns());
            Map<String, Value> values = new LinkedHashMap<>();
            params.forEach((name, value) -> values.put(name, SqlType.ofJava(value).toValue(value)));
            TableContent content;
            try {
                content = query.execute(values);
            } catch (SqlException e) {
                throw new GoogleSqlException("GoogleSQL fails running the query: " + e.getMessage() + "\n"
                        + numbered(sql), e);
            }
            List<List<Object>> rows = new ArrayList<>();
            for (ImmutableList<Value> row : content.getTableData()) {
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < columns.size(); i++) {
                    out.add(columns.get(i).type().fromValue(row.get(i)));
                }
                rows.add(Collections.unmodifiableList(out));
            }
            return new Result(columns, List.copyOf(rows));
        }
    }

    private static List<Column> columns(List<SimpleColumn> columns) {
        return columns.stream().map(c -> new Column(c.getName(), SqlType.of(c.getType()))).toList();
    }

    private static String numbered(String sql) {
        StringBuilder b = new StringBuilder();
        List<String> lines = sql.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            b.append(String.format("%3d  %s%n", i + 1, lines.get(i)));
        }
        return b.toString();
    }

    @Override
    public void close() {
        registration.close();
    }
}
