package dev.cryptopipeline.lake;

import dev.cryptopipeline.PipelineException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A lake in a local folder. An object is written to a hidden temporary file beside its key and moved into place
 * atomically on close, so only finished objects are ever visible. Folders and files are created owner-only.
 */
public final class LocalLake implements Lake {
    private static final String TEMP_PREFIX = ".tmp-";
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

    private final Path root;
    private final int retentionDays;

    /** A lake that keeps exports until deleted by hand. */
    public LocalLake(Path root) {
        this(root, 0);
    }

    /**
     * @param retentionDays the age after which runs prune exports (see {@link #prune}), for setup's report; 0 if
     *                      none
     */
    public LocalLake(Path root, int retentionDays) {
        this.root = root.toAbsolutePath().normalize();
        this.retentionDays = retentionDays;
    }

    @Override
    public String retention() {
        return retentionDays <= 0 ? "objects kept until deleted" : "exports older than " + retentionDays
                + " days are removed after each run, except the ones loaded days came from";
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public boolean prepare() {
        boolean existed = Files.isDirectory(root);
        try {
            createDirectories(root);
            Path probe = root.resolve(TEMP_PREFIX + "probe-" + UUID.randomUUID());
            Files.write(probe, new byte[] {1}, StandardOpenOption.CREATE_NEW);
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new PipelineException.Failed("Cannot write to the lake folder " + root + " (" + describe(e)
                    + "): choose a writable folder with --lake or fix its permissions", e);
        }
        return !existed;
    }

    @Override
    public void prepareForRun() {
        prepare();
    }

    @Override
    public List<String> prune(java.time.Duration maxAge, java.util.Set<String> keep) {
        Path days = root.resolve(LakeLayout.ROOT);
        if (!Files.isDirectory(days)) {
            return List.of();
        }
        java.time.Instant cutoff = java.time.Instant.now().minus(maxAge);
        List<String> removed = new ArrayList<>();
        try (Stream<Path> dayDirs = Files.list(days)) {
            for (Path day : (Iterable<Path>) dayDirs.filter(Files::isDirectory)::iterator) {
                try (Stream<Path> runs = Files.list(day)) {
                    for (Path run : (Iterable<Path>) runs.filter(Files::isDirectory)::iterator) {
                        String key = root.relativize(run).toString().replace('\\', '/') + "/";
                        if (!run.getFileName().toString().startsWith("run=") || keep.contains(key)
                                || newest(run).isAfter(cutoff)) {
                            continue;
                        }
                        deleteTree(run);
                        removed.add(key);
                    }
                }
                try (Stream<Path> left = Files.list(day)) {
                    if (left.findAny().isEmpty()) {
                        Files.deleteIfExists(day);
                    }
                }
            }
        } catch (IOException e) {
            // Pruning is housekeeping: what could not be removed now is removed by a later run.
            org.slf4j.LoggerFactory.getLogger(LocalLake.class).warn("Could not prune the lake {} ({}); a later"
                    + " run tries again", root, e.getMessage());
        }
        removed.sort(null);
        return removed;
    }

    /** The newest modification time of a folder or anything in it. */
    private static java.time.Instant newest(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.map(p -> {
                try {
                    return Files.getLastModifiedTime(p).toInstant();
                } catch (IOException e) {
                    return java.time.Instant.MAX;
                }
            }).max(java.time.Instant::compareTo).orElse(java.time.Instant.MAX);
        }
    }

    /** Deletes a folder and everything in it, deepest first; what is gone already is no error. */
    public static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public OutputStream create(String key) throws IOException {
        Path target = resolve(key);
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "lake objects are never rewritten");
        }
        createDirectories(target.getParent());
        // The writer's pid is in the name, so a leftover of a killed writer can be told from a live one's.
        Path temp = target.resolveSibling(TEMP_PREFIX + ProcessHandle.current().pid() + "-" + target.getFileName()
                + "-" + UUID.randomUUID());
        OutputStream raw = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        setMode(temp, FILE_MODE);
        return new FilterOutputStream(raw) {
            private boolean closed;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                super.close();
                try {
                    // A hard link fails if the target exists: objects are created, never replaced.
                    Files.createLink(target, temp);
                    Files.delete(temp);
                } catch (UnsupportedOperationException | IOException e) {
                    if (e instanceof FileAlreadyExistsException) {
                        Files.deleteIfExists(temp);
                        throw (FileAlreadyExistsException) e;
                    }
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        };
    }

    @Override
    public int removeUnfinished() {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        int removed = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = p.getFileName().toString();
                if (!name.startsWith(TEMP_PREFIX)) {
                    continue;
                }
                String rest = name.substring(TEMP_PREFIX.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(rest.substring(0, Math.max(dash, 0)));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                Files.deleteIfExists(p);
                removed++;
            }
        } catch (IOException e) {
            // Leftovers are hidden from readers anyway; cleaning them is a courtesy.
            return removed;
        }
        return removed;
    }

    @Override
    public InputStream open(String key) throws IOException {
        return Files.newInputStream(resolve(key));
    }

    @Override
    public List<LakeObject> list(String prefix) throws IOException {
        // List the deepest folder named by the prefix, then filter on the full key.
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(start)) {
            return List.of();
        }
        List<LakeObject> objects = new ArrayList<>();
        try (Stream<Path> files = Files.walk(start)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                if (p.getFileName().toString().startsWith(TEMP_PREFIX)) {
                    continue;
                }
                String key = root.relativize(p).toString().replace('\\', '/');
                if (key.startsWith(prefix)) {
                    objects.add(new LakeObject(key, Files.size(p)));
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        objects.sort(Comparator.comparing(LakeObject::key));
        return objects;
    }

    private Path resolve(String key) {
        Path p = root.resolve(key).normalize();
        if (!p.startsWith(root) || key.startsWith("/")) {
            throw new IllegalArgumentException("lake key escapes the lake: " + key);
        }
        return p;
    }

    private static void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(dir);
            setMode(dir, DIR_MODE);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    private static void setMode(Path p, Set<PosixFilePermission> mode) throws IOException {
        try {
            Files.setPosixFilePermissions(p, mode);
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: its default permissions apply.
        }
    }

    private static String describe(Exception e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "a file is in the way: " + e.getMessage();
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
