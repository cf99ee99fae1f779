package dev.cryptopipeline.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cryptopipeline.state.Ledger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The state of the target: loaded days, gaps between the first and last loaded day, and the last run.
 *
 * @param installed false if the schema has not been set up
 */
public record StatusReport(boolean installed, String schema, String database, List<Ledger.LoadedDay> days,
                           Optional<Ledger.Run> lastRun) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public StatusReport {
        days = List.copyOf(days);
    }

    /** Days missing between the first and the last loaded day, ascending. */
    public List<LocalDate> gaps() {
        List<LocalDate> gaps = new ArrayList<>();
        for (int i = 1; i < days.size(); i++) {
            for (LocalDate d = days.get(i - 1).day().plusDays(1); d.isBefore(days.get(i).day()); d = d.plusDays(1)) {
                gaps.add(d);
            }
        }
        return gaps;
    }

    /**
     * One JSON object: {@code {"days":[{"day","rows","loaded_at"}],"gaps":[...],"last_run":{...} or null}}, days
     * ascending, times ISO-8601 UTC.
     */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode ds = root.putArray("days");
        for (Ledger.LoadedDay d : days) {
            ObjectNode n = ds.addObject();
            n.put("day", d.day().toString());
            n.put("rows", d.rows());
            n.put("loaded_at", iso(d.loadedAt()));
            if (d.queryLimit() != null) {
                n.put("query_limit", d.queryLimit());
            }
        }
        ArrayNode gs = root.putArray("gaps");
        gaps().forEach(g -> gs.add(g.toString()));
        if (lastRun.isPresent()) {
            Ledger.Run r = lastRun.get();
            ObjectNode n = root.putObject("last_run");
            n.put("command", r.command());
            n.put("started_at", iso(r.startedAt()));
            n.put("finished_at", r.finishedAt() == null ? null : iso(r.finishedAt()));
            n.put("outcome", r.outcome());
            if (r.error() != null) {
                n.put("error", r.error());
            }
        } else {
            root.putNull("last_run");
        }
        return root.toString();
    }

    /** A readable table for a terminal. */
    public String toTable() {
        StringBuilder b = new StringBuilder();
        b.append("Target:   ").append(database).append(", schema ").append(schema).append('\n');
        if (!installed) {
            return b.append("Nothing loaded yet: the schema is not set up. Run 'crypto-pipeline setup --chain"
                    + " --start-date YYYY-MM-DD' first.\n").toString();
        }
        long total = days.stream().mapToLong(Ledger.LoadedDay::rows).sum();
        b.append("Loaded:   ").append(days.size()).append(days.size() == 1 ? " day, " : " days, ").append(total)
                .append(" rows").append(days.isEmpty() ? ""
                        : ", " + days.get(0).day() + ".." + days.get(days.size() - 1).day()).append('\n');
        List<LocalDate> gaps = gaps();
        b.append("Gaps:     ").append(gaps.isEmpty() ? "none" : gaps.size() + " " + gaps).append('\n');
        lastRun.ifPresentOrElse(r -> b.append("Last run: ").append(r.command()).append(' ').append(r.outcome())
                        .append(", started ").append(iso(r.startedAt()))
                        .append(r.finishedAt() == null ? "" : ", finished " + iso(r.finishedAt()))
                        .append(r.error() == null ? "" : ": " + r.error()).append('\n'),
                () -> b.append("Last run: none\n"));
        if (!days.isEmpty()) {
            b.append('\n').append(String.format("%-10s  %10s  %-20s  %-9s  %s%n", "day", "rows", "loaded_at",
                    "source", "limit"));
            for (Ledger.LoadedDay d : days) {
                b.append(String.format("%-10s  %10d  %-20s  %-9s  %s%n", d.day(), d.rows(), iso(d.loadedAt()),
                        d.source(), d.queryLimit() == null ? "-" : d.queryLimit()));
            }
        }
        return b.toString();
    }

    private static String iso(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
