package dev.cryptopipeline.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/crypto-pipeline, run by bash as a user, cron or CI would run it, over a temp copy of the tree. Fake {@code mvn}
 * and {@code java} first on the PATH record what the wrapper runs (the real Maven is used once, to show that no escape
 * code reaches a log). Without a terminal unless said: stdin is a pipe, stdout and stderr are files.
 */
class WrapperIT {
    /** What the fake java prints: the JVM options the wrapper passes by default, then -jar. */
    private static final String JAVA = "java -XX:+UseSerialGC -Xms16m -Xmx160m -XX:MaxMetaspaceSize=128m -Xss512k -jar ";
    @TempDir
    Path dir;
    private Path tree;
    private Path jar;
    private Path fakes;
    private Path calls;

    /** What one run of the wrapper did. */
    record Run(int code, String out, String err) {
    }

    @BeforeEach
    void tree() throws IOException {
        tree = dir.resolve("tree");
        Files.createDirectories(tree.resolve("bin"));
        Files.copy(Path.of("bin/crypto-pipeline"), tree.resolve("bin/crypto-pipeline"));
        Files.createDirectories(tree.resolve("src/main/java"));
        Files.writeString(tree.resolve("src/main/java/Main.java"), "class Main {}\n");
        Files.writeString(tree.resolve("pom.xml"), "<project/>\n");
        jar = tree.resolve("target/crypto-pipeline.jar");
        calls = dir.resolve("calls.log");
        fakes = dir.resolve("fakes");
        Files.createDirectories(fakes);
        script(fakes.resolve("mvn"), """
                #!/bin/sh
                echo "mvn $*" >> "%1$s"
                echo "MAVEN_OPTS=$MAVEN_OPTS" >> "%1$s"
                echo "maven's own output"
                mkdir -p target && echo fat > target/crypto-pipeline.jar
                """.formatted(calls));
        script(fakes.resolve("java"), """
                #!/bin/sh
                echo "java $*"
                """);
    }

    private static void script(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private void jarBuilt() throws IOException {
        Files.createDirectories(jar.getParent());
        Files.writeString(jar, "fat");
        Instant built = Instant.now().minusSeconds(60);
        try (var files = Files.walk(tree)) {
            for (Path p : files.toList()) {
                Files.setLastModifiedTime(p, FileTime.from(built.minusSeconds(60)));
            }
        }
        Files.setLastModifiedTime(jar, FileTime.from(built));
    }

    private void sourceEdited() throws IOException {
        Files.setLastModifiedTime(tree.resolve("src/main/java/Main.java"), FileTime.from(Instant.now()));
    }

    private List<String> calls() throws IOException {
        return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
    }

    private Run run(Map<String, String> env, List<String> prefix, String path, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(tree.resolve("bin/crypto-pipeline").toString());
        cmd.addAll(Arrays.asList(args));
        return exec(cmd, env, path);
    }

    private Run exec(List<String> cmd, Map<String, String> env, String path) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().clear();
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("PATH", path);
        pb.environment().putAll(env);
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the wrapper ends").isTrue();
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private Run run(Map<String, String> env, String... args) throws Exception {
        return run(env, List.of(), fakes + ":/usr/bin:/bin", args);
    }

    private String buildCommand() {
        return "cd " + tree + " && mvn -B -q -DskipTests package";
    }

    @Test
    void a_first_run_without_a_terminal_builds_the_missing_jar_with_maven_quiet_and_colourless_on_stderr()
            throws Exception {
        // when
        Run run = run(Map.of(), "--version");
        // then
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(calls()).first().isEqualTo("mvn -B -q -Dstyle.color=never -DskipTests package");
        assertThat(calls()).anyMatch(l -> l.startsWith("MAVEN_OPTS=") && l.contains("-Djansi.noreset=true"));
        assertThat(run.out()).as("only the tool's own output on stdout").isEqualTo(JAVA + jar
                + " --version\n");
        assertThat(run.err()).contains("building " + jar, "maven's own output");
    }

    /** A PATH with the tools the wrapper needs besides the ones named (as on a machine without Maven or Java). */
    private String pathWith(String... tools) throws IOException {
        Path bin = dir.resolve("minimal-bin");
        Files.createDirectories(bin);
        List<String> all = new ArrayList<>(List.of("bash", "dirname", "readlink", "find", "mkdir", "rm", "locale", "grep"));
        all.addAll(Arrays.asList(tools));
        for (String tool : all) {
            for (String d : new String[] {fakes.toString(), "/usr/bin", "/bin"}) {
                if (Files.isExecutable(Path.of(d, tool))) {
                    Files.createSymbolicLink(bin.resolve(tool), Path.of(d, tool));
                    break;
                }
            }
        }
        return bin.toString();
    }

    @Test
    void without_maven_a_missing_jar_is_one_line_saying_what_to_install_and_exit_1() throws Exception {
        // when
        Run run = run(Map.of(), List.of(), pathWith("java"), "daily");
        // then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err().lines().toList()).hasSize(1);
        assertThat(run.err()).startsWith("crypto-pipeline: " + jar + " must be built first, and Maven (mvn) is not on"
                + " the PATH: install Maven");
        assertThat(tree.resolve("target/.crypto-pipeline-building")).doesNotExist();
    }

    @Test
    void without_java_the_run_is_one_line_saying_what_to_install_and_exit_1() throws Exception {
        // given
        jarBuilt();
        // when
        Run run = run(Map.of(), List.of(), pathWith(), "daily");
        // then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("crypto-pipeline: no java on the PATH (nor in JAVA_HOME): install a Java 17+"
                + " runtime (Debian: apt-get install openjdk-17-jre-headless), or set JAVA_HOME\n");
    }

    @Test
    void run_through_a_symlink_elsewhere_it_runs_the_jar_of_its_own_tree() throws Exception {
        // given: installed as ln -s <tree>/bin/crypto-pipeline /usr/local/bin/
        jarBuilt();
        Path bin = dir.resolve("usr/local/bin");
        Files.createDirectories(bin);
        Files.createSymbolicLink(bin.resolve("crypto-pipeline"), tree.resolve("bin/crypto-pipeline"));
        // when
        Run run = exec(List.of(bin.resolve("crypto-pipeline").toString(), "status"),
                Map.of("CRYPTO_PIPELINE_NO_BUILD", "1"), fakes + ":/usr/bin:/bin");
        // then
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(run.out()).isEqualTo(JAVA + jar + " status\n");
    }

    @Test
    void with_no_build_set_a_missing_jar_is_one_line_naming_the_build_command_and_exit_1() throws Exception {
        // when
        Run run = run(Map.of("CRYPTO_PIPELINE_NO_BUILD", "1"), "daily");
        // then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("crypto-pipeline: " + jar + " is missing and CRYPTO_PIPELINE_NO_BUILD is"
                + " set; build it with: " + buildCommand() + "\n");
        assertThat(run.out()).isEmpty();
        assertThat(calls()).isEmpty();
    }

    @Test
    void a_jar_whose_build_was_interrupted_counts_as_missing() throws Exception {
        // given: a build this wrapper started, killed after the jar was written but before it was finished
        jarBuilt();
        Path building = tree.resolve("target/.crypto-pipeline-building");
        Files.writeString(building, "");
        // when: a scheduled run
        Run scheduled = run(Map.of("CRYPTO_PIPELINE_NO_BUILD", "1"), "daily");
        // then: it does not run that jar
        assertThat(scheduled.code()).isEqualTo(1);
        assertThat(scheduled.err()).isEqualTo("crypto-pipeline: " + jar + " was not finished by its last build and"
                + " CRYPTO_PIPELINE_NO_BUILD is set; build it with: " + buildCommand() + "\n");
        assertThat(scheduled.out()).isEmpty();
        // when: a run without a terminal, as the first one
        Run next = run(Map.of(), "--version");
        // then: it builds the jar again, and the marker is gone
        assertThat(next.code()).as(next.toString()).isZero();
        assertThat(calls()).first().isEqualTo("mvn -B -q -Dstyle.color=never -DskipTests package");
        assertThat(next.out()).isEqualTo(JAVA + jar + " --version\n");
        assertThat(building).doesNotExist();
    }

    @Test
    void a_build_that_fails_leaves_its_marker_so_its_jar_is_never_run() throws Exception {
        // given: a Maven that writes part of the jar, then fails
        script(fakes.resolve("mvn"), """
                #!/bin/sh
                mkdir -p target && echo half > target/crypto-pipeline.jar
                exit 1
                """);
        // when
        Run run = run(Map.of(), "--version");
        // then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(tree.resolve("target/.crypto-pipeline-building")).exists();
    }

    @Test
    void without_a_terminal_a_stale_jar_is_not_rebuilt_and_the_printed_command_is_the_one_that_builds_it()
            throws Exception {
        // given
        jarBuilt();
        sourceEdited();
        // when
        Run run = run(Map.of(), "daily");
        // then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("crypto-pipeline: " + jar + " is older than the sources (not rebuilt"
                + " without a terminal); build it with: " + buildCommand() + "\n");
        assertThat(run.out()).isEmpty();
        assertThat(calls()).isEmpty();

        // and when the printed command is run, the next run goes ahead
        String printed = run.err().substring(run.err().indexOf("build it with: ") + 15).strip();
        assertThat(exec(List.of("/bin/sh", "-c", printed), Map.of(), fakes + ":/usr/bin:/bin").code()).isZero();
        Run after = run(Map.of(), "daily");
        assertThat(after.code()).as(after.toString()).isZero();
        assertThat(after.out()).isEqualTo(JAVA + jar + " daily\n");
        assertThat(after.err()).isEmpty();
    }

    @Test
    void with_no_build_set_a_stale_jar_is_not_rebuilt_even_on_a_terminal() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "script(1) (util-linux) gives the wrapper a"
                + " terminal; it is not installed");
        // given
        jarBuilt();
        sourceEdited();
        // when
        Run run = exec(List.of("/usr/bin/script", "-qec", tree.resolve("bin/crypto-pipeline") + " daily",
                "/dev/null"), Map.of("CRYPTO_PIPELINE_NO_BUILD", "1"), fakes + ":/usr/bin:/bin");
        // then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.out()).contains("is older than the sources and CRYPTO_PIPELINE_NO_BUILD is set; build it"
                + " with: " + buildCommand());
        assertThat(calls()).isEmpty();
    }

    @Test
    void on_a_terminal_a_stale_jar_is_rebuilt_first() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "script(1) (util-linux) gives the wrapper a"
                + " terminal; it is not installed");
        // given
        jarBuilt();
        sourceEdited();
        // when
        Run run = exec(List.of("/usr/bin/script", "-qec", tree.resolve("bin/crypto-pipeline") + " status",
                "/dev/null"), Map.of(), fakes + ":/usr/bin:/bin");
        // then
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(calls()).contains("mvn -B -q -Dstyle.color=never -DskipTests package");
        assertThat(run.out()).contains(JAVA + jar + " status");
    }

    @Test
    void an_up_to_date_jar_runs_at_once_and_says_nothing_more() throws Exception {
        // given
        jarBuilt();
        // when
        Run run = run(Map.of("CRYPTO_PIPELINE_NO_BUILD", "1"), "status", "--json");
        // then
        assertThat(run.code()).isZero();
        assertThat(run.out()).isEqualTo(JAVA + jar + " status --json\n");
        assertThat(run.err()).isEmpty();
        assertThat(calls()).isEmpty();
    }

    @Test
    void the_real_maven_puts_no_escape_code_in_a_log() throws Exception {
        Optional<Path> mvn = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .map(d -> Path.of(d, "mvn")).filter(Files::isExecutable).findFirst();
        assumeTrue(mvn.isPresent(), "Maven (mvn) is not on the PATH");
        // given: a project Maven builds in a second or two, offline (no plugin runs for a pom), and no jar yet
        Files.writeString(tree.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>test</groupId><artifactId>wrapper-test</artifactId><version>1</version>
                  <packaging>pom</packaging>
                </project>
                """);
        String path = mvn.get().getParent() + ":/usr/bin:/bin";
        // Maven itself needs a real java: take the one running this test.
        String javaHome = Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent().getParent()
                .toString();
        // when: run as cron would, output appended to a log
        Run run = run(Map.of("JAVA_HOME", javaHome), List.of(), path, "--version");
        // then
        String log = run.out() + run.err();
        assertThat(run.err()).contains("building " + jar);
        assertThat(log).as("no escape code in\n" + log).doesNotContain("\u001b");
        assertThat(log.getBytes(StandardCharsets.UTF_8)).doesNotContain((byte) 0x1b);
    }
}
