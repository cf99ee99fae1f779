package dev.cryptopipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's example queries run as printed on the quick start's data: each returns rows, except those marked
 * "Real data", which must still run; every query of the table filters on block_timestamp.
 */
class ReadmeQueriesIT {
    @TempDir
    Path dataDir;

    @Test
    void the_readme_queries_work_on_the_quick_starts_data() throws Exception {
        // given: the quick start's seven days, in a schema of their own
        String schema = TestPostgres.newSchema("readme");
        LocalDate start = LocalDate.now(ZoneOffset.UTC).minusDays(7);
        CliRun setup = CliRun.run("setup", "--chain", "--source", "synthetic", "--start-date", start.toString(),
                "--jdbc-url", TestPostgres.jdbcUrl(), "--pg-schema", schema, "--data-dir", dataDir.toString());
        assertThat(setup.exitCode()).as(setup.toString()).isZero();
        // when / then
        List<String[]> queries = queries();
        assertThat(queries).hasSizeGreaterThanOrEqualTo(4);
        try (Connection c = TestPostgres.superuser(); Statement st = c.createStatement()) {
            for (String[] q : queries) {
                String comment = q[0];
                String sql = q[1].replace("crypto_eth.", schema + ".");
                if (sql.contains("token_transfers") && !sql.contains("loaded_days")) {
                    assertThat(sql).as("filters on block_timestamp: " + sql).containsPattern("(WHERE|AND) block_timestamp >=");
                }
                try (ResultSet rs = st.executeQuery(sql)) {
                    boolean any = rs.next();
                    if (!comment.contains("Real data")) {
                        assertThat(any).as("returns rows on the quick start's data: " + sql).isTrue();
                        assertThat(rs.getObject(1)).as(sql).isNotNull();
                    }
                }
            }
        }
    }

    /** The statements of the SQL block under "Looking at the data", each with the comment lines before it. */
    private static List<String[]> queries() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("## Looking at the data");
        int from = readme.indexOf("```sql\n", section) + 7;
        String block = readme.substring(from, readme.indexOf("```", from));
        List<String[]> out = new ArrayList<>();
        StringBuilder comment = new StringBuilder();
        StringBuilder sql = new StringBuilder();
        for (String line : block.split("\n")) {
            if (line.startsWith("--")) {
                comment.append(line).append('\n');
            } else if (!line.isBlank()) {
                sql.append(line).append('\n');
                if (line.strip().endsWith(";")) {
                    out.add(new String[] {comment.toString(), sql.toString().strip().replaceAll(";$", "")});
                    sql.setLength(0);
                }
            } else {
                comment.setLength(0);
            }
        }
        return out;
    }
}
