package dev.cryptopipeline.lake;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.cryptopipeline.PipelineException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Where a day's export lives in a lake, and how its manifest is written and read:
 * {@code token_transfers/day=YYYY-MM-DD/run=<run-id>/part-NNNNN.csv.gz} plus {@code _manifest.json}, written last.
 * Shared by every source (which write) and the loader (which reads), so they cannot disagree.
 */
public final class LakeLayout {
    /** The manifest's file name in a run folder. */
    public static final String MANIFEST = "_manifest.json";
    /** The folder of every export, ending with '/'. */
    public static final String ROOT = "token_transfers/";
    /** Written into a run folder found damaged, with the reason: the folder is never reused. */
    public static final String DAMAGED = "_damaged.txt";
    /** How many damaged exports of the same work in a row before a run gives up on the lake. */
    private static final int MAX_DAMAGED = 5;

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LakeLayout.class);

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private LakeLayout() {
    }

    /** The folder of all runs of a day, ending with '/'. */
    public static String dayPrefix(LocalDate day) {
        return ROOT + "day=" + day + "/";
    }

    /** The folder of one run of a day, ending with '/'. */
    public static String runPrefix(LocalDate day, String runId) {
        return dayPrefix(day) + "run=" + runId + "/";
    }

    /** The key of the n-th data file of a run (as the synthetic source names them). */
    public static String partName(int n) {
        return String.format(Locale.ROOT, "part-%05d.csv.gz", n);
    }

    /** Writes the manifest of a run; call it last, after every data file is closed. */
    public static void writeManifest(Lake lake, Manifest manifest) throws IOException {
        try (OutputStream out = lake.create(runPrefix(manifest.day(), manifest.runId()) + MANIFEST)) {
            JSON.writeValue(out, manifest);
        }
    }

    /**
     * Reads the manifest of one run of a day.
     *
     * @throws PipelineException.DataCheck if it is missing or unreadable
     */
    public static Manifest readManifest(Lake lake, LocalDate day, String runId) {
        String key = runPrefix(day, runId) + MANIFEST;
        try (InputStream in = lake.open(key)) {
            Manifest m = JSON.readValue(in, Manifest.class);
            if (!m.day().equals(day) || !m.runId().equals(runId)) {
                throw new PipelineException.DataCheck("The manifest " + lake.location() + "/" + key
                        + " names day " + m.day() + " run " + m.runId() + ": it does not belong in this folder");
            }
            return m;
        } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
            throw new PipelineException.DataCheck("Day " + day + ": the export " + lake.location() + "/"
                    + runPrefix(day, runId) + " has no manifest (unfinished export); run the day again", e);
        } catch (IOException e) {
            throw new PipelineException.DataCheck("Day " + day + ": cannot read the manifest " + lake.location()
                    + "/" + key + " (" + e.getMessage() + "); run the day again to export it anew", e);
        }
    }

    /**
     * The ids of the runs of a day that have a manifest (finished exports), ascending: run ids start with a UTC
     * timestamp or date, so the last is the newest.
     */
    public static List<String> finishedRuns(Lake lake, LocalDate day) throws IOException {
        String prefix = dayPrefix(day);
        return lake.list(prefix).stream()
                .map(o -> o.key().substring(prefix.length()))
                .filter(rest -> rest.startsWith("run=") && rest.endsWith("/" + MANIFEST))
                .map(rest -> rest.substring("run=".length(), rest.length() - MANIFEST.length() - 1))
                .sorted()
                .toList();
    }

    /**
     * A name for a unit of export work that is the same for the same work on the same UTC day: the day as
     * {@code yyyyMMdd}, then a hash of {@code parts}. Folders and job ids built from it let a rerun find, and reuse,
     * what an interrupted run finished, while a later day's run exports afresh (the source may have changed).
     */
    public static String workKey(java.time.Instant now, String... parts) {
        return java.time.format.DateTimeFormatter.BASIC_ISO_DATE.format(
                LocalDate.ofInstant(now, java.time.ZoneOffset.UTC)) + "-" + hash(parts);
    }

    /** The first 10 hex digits of the SHA-256 of {@code parts}, each followed by a zero byte. */
    private static String hash(String... parts) {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            for (String part : parts) {
                sha.update(part.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return java.util.HexFormat.of().formatHex(sha.digest()).substring(0, 10);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * What a run can reuse of an earlier export of the same work: the newest whole export of {@code day} in a folder
     * named {@code <key>-<anything>}, if any, and the key a new export of the day goes under. An export whose files
     * no longer match its manifest (one missing, cut short, or an extra one), or that a load found corrupt, is marked
     * damaged and never reused: the work is then exported anew under a key derived from {@code key}, so a BigQuery
     * export gets new job ids instead of reattaching to the ones that wrote the damaged folder.
     *
     * @throws PipelineException.Failed if the lake cannot be listed
     */
    public static Reuse reusableExport(Lake lake, LocalDate day, String key) {
        String current = key;
        String prefix = dayPrefix(day);
        try {
            for (int generation = 0; generation < MAX_DAMAGED; generation++) {
                java.util.Set<String> finished = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
                java.util.Set<String> damaged = new java.util.HashSet<>();
                // One listing of every folder of the work: which are finished, which marked, and their files' sizes.
                List<Lake.LakeObject> listing = lake.list(prefix + "run=" + current + "-");
                for (Lake.LakeObject o : listing) {
                    String rest = o.key().substring(prefix.length() + "run=".length());
                    int slash = rest.indexOf('/');
                    String name = slash < 0 ? "" : rest.substring(slash + 1);
                    if (name.equals(MANIFEST)) {
                        finished.add(rest.substring(0, slash));
                    } else if (name.equals(DAMAGED)) {
                        damaged.add(rest.substring(0, slash));
                    }
                }
                boolean skipped = false;
                for (String run : finished) {
                    if (damaged.contains(run)) {
                        skipped = true;
                        continue;
                    }
                    try {
                        Manifest m = readManifest(lake, day, run);
                        verifiedFiles(lake, m, listing);
                        return new Reuse(java.util.Optional.of(m), current);
                    } catch (PipelineException.DataCheck e) {
                        log.warn("{}; exporting the day anew", e.getMessage());
                        markDamaged(lake, day, run, e.getMessage());
                        skipped = true;
                    }
                }
                if (!skipped) {
                    return new Reuse(java.util.Optional.empty(), current);
                }
                current = current.substring(0, current.indexOf('-') + 1) + hash(current, "damaged");
            }
        } catch (IOException e) {
            throw new PipelineException.Failed("Cannot list the lake " + lake.location() + " (" + e.getMessage()
                    + "): check the lake and its permissions", e);
        }
        throw new PipelineException.DataCheck("Day " + day + ": the last " + MAX_DAMAGED + " exports of the day in "
                + lake.location() + "/" + dayPrefix(day) + " were all found damaged: check the lake's storage");
    }

    /** An export a run can reuse, if any, and the key a new export of the same work goes under. */
    public record Reuse(java.util.Optional<Manifest> manifest, String key) {
    }

    /**
     * Marks a run folder damaged (see {@link #reusableExport}), with the reason, so no run reuses it.
     *
     * @return false if the mark could not be written (logged)
     */
    public static boolean markDamaged(Lake lake, LocalDate day, String runId, String reason) {
        try (OutputStream out = lake.create(runPrefix(day, runId) + DAMAGED)) {
            out.write((reason + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return true;
        } catch (IOException e) {
            log.warn("Cannot mark {}/{} as damaged ({})", lake.location(), runPrefix(day, runId), e.getMessage());
            return false;
        }
    }

    /**
     * A folder name {@code <key>-<n>} not used yet for {@code day}: n is one more than the highest attempt present,
     * so an unfinished folder left by a killed writer is never written into again.
     */
    public static String newFolder(Lake lake, LocalDate day, String key) throws IOException {
        String prefix = dayPrefix(day) + "run=" + key + "-";
        int highest = 0;
        for (Lake.LakeObject o : lake.list(prefix)) {
            String rest = o.key().substring(prefix.length());
            int slash = rest.indexOf('/');
            try {
                highest = Math.max(highest, Integer.parseInt(slash < 0 ? rest : rest.substring(0, slash)));
            } catch (NumberFormatException e) {
                // another key that merely starts like this one
            }
        }
        return key + "-" + (highest + 1);
    }

    /**
     * Checks a run folder against its manifest: the columns are the ones this build expects, every listed file exists
     * with its size, and no other data file lies in the folder.
     *
     * @return the keys of the data files, in manifest order
     * @throws PipelineException.DataCheck naming the first disagreement
     */
    public static List<String> verifiedFiles(Lake lake, Manifest manifest) throws IOException {
        return verifiedFiles(lake, manifest, lake.list(runPrefix(manifest.day(), manifest.runId())));
    }

    /** As above, against a listing already made (of the run folder, or of more: other keys are left out). */
    private static List<String> verifiedFiles(Lake lake, Manifest manifest, List<Lake.LakeObject> listing) {
        String where = lake.location() + "/" + runPrefix(manifest.day(), manifest.runId());
        if (!manifest.columns().equals(TransferColumn.names())) {
            throw new PipelineException.DataCheck("Day " + manifest.day() + ": the manifest in " + where
                    + " lists columns " + manifest.columns() + " but this version loads " + TransferColumn.names());
        }
        String prefix = runPrefix(manifest.day(), manifest.runId());
        Map<String, Long> present = new TreeMap<>();
        for (Lake.LakeObject o : listing) {
            if (!o.key().startsWith(prefix)) {
                continue;
            }
            String name = o.key().substring(prefix.length());
            if (name.equals(DAMAGED)) {
                throw new PipelineException.DataCheck("Day " + manifest.day() + ": the export " + where + " was"
                        + " found damaged by an earlier run (" + DAMAGED + " says why)");
            }
            if (!name.equals(MANIFEST)) {
                present.put(name, o.size());
            }
        }
        Map<String, Long> listed = manifest.files().stream()
                .collect(Collectors.toMap(Manifest.DataFile::name, Manifest.DataFile::bytes, (a, b) -> a,
                        TreeMap::new));
        if (listed.size() != manifest.files().size()) {
            throw new PipelineException.DataCheck("Day " + manifest.day() + ": the manifest in " + where
                    + " lists a file twice");
        }
        for (var e : listed.entrySet()) {
            Long size = present.get(e.getKey());
            if (size == null) {
                throw new PipelineException.DataCheck("Day " + manifest.day() + ": " + where + e.getKey()
                        + " is listed in the manifest but missing");
            }
            if (size.longValue() != e.getValue().longValue()) {
                throw new PipelineException.DataCheck("Day " + manifest.day() + ": " + where + e.getKey()
                        + " has " + size + " bytes but the manifest says " + e.getValue());
            }
        }
        for (String name : present.keySet()) {
            if (!listed.containsKey(name)) {
                throw new PipelineException.DataCheck("Day " + manifest.day() + ": " + where + name
                        + " is not listed in the manifest");
            }
        }
        return manifest.files().stream().map(f -> prefix + f.name()).toList();
    }
}
