package dev.cryptopipeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** The real fat jar run as a child process, its output collected line by line as it comes. */
public final class ChildRun {
    public static final Path JAR = Path.of("target", "crypto-pipeline.jar");

    public final Process process;
    public final List<String> out = new CopyOnWriteArrayList<>();
    public final List<String> err = new CopyOnWriteArrayList<>();

    private ChildRun(Process process) {
        this.process = process;
        pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), out);
        pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), err);
    }

    /** Starts {@code java -jar crypto-pipeline.jar args} with extra environment, under a shell prefix if given. */
    public static ChildRun start(Map<String, String> env, List<String> shellPrefix, String... args) throws IOException {
        return start(env, shellPrefix, List.of(), args);
    }

    /** The same, with options for the child's JVM (e.g. a heap limit). */
    public static ChildRun start(Map<String, String> env, List<String> shellPrefix, List<String> jvmOptions,
                                 String... args) throws IOException {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: integration tests run after 'package'");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(shellPrefix);
        cmd.add(java);
        cmd.addAll(jvmOptions);
        cmd.add("-jar");
        cmd.add(JAR.toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.environment().put("NO_GCE_CHECK", "true");
        return new ChildRun(pb.start());
    }

    public static ChildRun start(String... args) throws IOException {
        return start(Map.of(), List.of(), args);
    }

    private static void pump(BufferedReader reader, List<String> into) {
        Thread t = new Thread(() -> {
            try (reader) {
                for (String line; (line = reader.readLine()) != null; ) {
                    into.add(line);
                }
            } catch (IOException e) {
                // the process died: what it wrote is what we have
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** Waits for the process to end; returns its exit code. */
    public int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("child still running after " + seconds + " s:\n" + String.join("\n", err));
        }
        Thread.sleep(50); // let the pumps drain
        return process.exitValue();
    }

    /** Counts the stderr lines that contain {@code marker}. */
    public long count(String marker) {
        return err.stream().filter(l -> l.contains(marker)).count();
    }

    /** SIGKILL: the process gets no chance to clean up. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * SIGKILL to the process and every process it started (initdb, pg_ctl, a server still starting), as systemd, a
     * CI timeout or {@code kill -9 -PGID} kill a whole run. A server that pg_ctl has already detached survives, as it
     * would there.
     */
    public void killTree() throws InterruptedException {
        java.util.List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        process.waitFor(10, TimeUnit.SECONDS);
        for (ProcessHandle child : children) {
            child.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> child).join();
        }
    }

    public String all() {
        return String.join("\n", out) + "\n" + String.join("\n", err);
    }
}
