package dev.cryptopipeline.cli;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The systemd service and timer that run {@code daily} with the saved configuration every day at 09:30 UTC, what
 * {@code setup --systemd} prints. The service is a sandboxed oneshot: it may write only the data directory (where the
 * embedded PostgreSQL keeps its files; it listens on 127.0.0.1) and any local lake outside it. Immutable.
 *
 * @param launcher     the command that runs the tool: the absolute path of {@code bin/crypto-pipeline}, or
 *                     {@code java -jar <jar>}
 * @param user         the account the service runs as, which owns the data directory
 * @param dataDir      the data directory (absolute)
 * @param configFile   the saved configuration that {@code daily} reads (absolute)
 * @param alsoWritable other directories the runs write, e.g. a local lake outside the data directory
 */
record SystemdUnits(List<String> launcher, String user, Path dataDir, Path configFile, List<Path> alsoWritable) {
    /** Where units of the system's administrator go. */
    static final Path UNIT_DIRECTORY = Path.of("/etc/systemd/system");
    static final String SERVICE = "crypto-pipeline-daily.service";
    static final String TIMER = "crypto-pipeline-daily.timer";
    /** The file, in the data directory, where setup saves the effective configuration. */
    static final String CONFIG_FILE = ConfigDefaults.SAVED;

    SystemdUnits {
        launcher = List.copyOf(launcher);
        alsoWritable = List.copyOf(alsoWritable);
        if (!user.matches("[A-Za-z0-9_][A-Za-z0-9_.-]*")) {
            throw new PipelineException.BadInput("Cannot write a systemd unit for the user '" + user + "': run setup"
                    + " as the account that should run the daily job");
        }
    }

    /** The units for the configuration a setup has just used, run as {@code user}. */
    static SystemdUnits of(List<String> launcher, String user, PipelineConfig config) {
        List<Path> lake = new ArrayList<>();
        if (!config.lake().isEmpty() && !config.gcsLake() && !Path.of(config.lake()).startsWith(config.dataDir())) {
            lake.add(Path.of(config.lake()));
        }
        return new SystemdUnits(launcher, user, config.dataDir(), config.dataDir().resolve(CONFIG_FILE), lake);
    }

    /** The service unit's text. */
    String service() {
        List<String> exec = new ArrayList<>(launcher);
        exec.addAll(List.of("daily", "--config", configFile.toString()));
        List<String> writable = new ArrayList<>();
        writable.add(path(dataDir));
        alsoWritable.forEach(p -> writable.add(path(p)));
        return """
                # Runs 'crypto-pipeline daily' once; crypto-pipeline-daily.timer starts it every day.
                # Written by 'crypto-pipeline setup --systemd'.
                [Unit]
                Description=crypto-pipeline daily: load each finished UTC day of Ethereum token transfers into PostgreSQL
                Documentation=%s
                Wants=network-online.target
                After=network-online.target

                [Service]
                Type=oneshot
                User=%s
                ExecStart=%s
                # A scheduled run never builds the jar: if it is missing or older than the sources, the run fails
                # and its log says which command builds it.
                Environment=CRYPTO_PIPELINE_NO_BUILD=1%s
                # 75: another run holds the lock, or an outage outlasted the retries; the next run does the work.
                SuccessExitStatus=75
                # Sandbox. The run, and the embedded PostgreSQL it may start, write only under the data directory and
                # a private /tmp, and listen on 127.0.0.1 only. Not MemoryDenyWriteExecute=: the JVM compiles code as
                # it runs.
                NoNewPrivileges=yes
                PrivateTmp=yes
                PrivateDevices=yes
                ProtectSystem=strict
                ProtectHome=read-only
                ReadWritePaths=%s
                ProtectKernelTunables=yes
                ProtectKernelModules=yes
                ProtectKernelLogs=yes
                ProtectControlGroups=yes
                ProtectClock=yes
                ProtectHostname=yes
                RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
                RestrictNamespaces=yes
                RestrictRealtime=yes
                RestrictSUIDSGID=yes
                LockPersonality=yes
                CapabilityBoundingSet=
                UMask=0077
                """.formatted(documentation(), user, String.join(" ", exec.stream().map(SystemdUnits::arg).toList()),
                CronLine.nonAscii(String.join(" ", exec)) ? " " + CronLine.UTF8_LOCALE : "",
                String.join(" ", writable));
    }

    /** The timer unit's text. */
    String timer() {
        return """
                # Starts crypto-pipeline-daily.service every day at 09:30 UTC.
                # Written by 'crypto-pipeline setup --systemd'.
                [Unit]
                Description=crypto-pipeline daily at 09:30 UTC, once BigQuery has finished the previous UTC day
                Documentation=%s

                [Timer]
                # BigQuery rewrites day D at about 08:00-08:30 UTC on D+1; UTC whatever the machine's time zone.
                OnCalendar=*-*-* 09:30:00 UTC
                # A run missed while the machine was off starts at boot; daily catches up every day it missed.
                Persistent=true

                [Install]
                WantedBy=timers.target
                """.formatted(documentation());
    }

    /** Each unit after a comment naming its file, then how to install, enable and watch them. */
    String instructions() {
        return "# " + UNIT_DIRECTORY.resolve(SERVICE) + "\n" + service()
                + "# " + UNIT_DIRECTORY.resolve(TIMER) + "\n" + timer()
                + "# To let systemd run daily (instead of cron): save the two units above as the files their first"
                + " lines name, then:\n"
                + "sudo systemctl daemon-reload && sudo systemctl enable --now " + TIMER + "\n"
                + "# Next run: systemctl list-timers " + TIMER + "    Run now: sudo systemctl start " + SERVICE + "\n"
                + "# Its output: journalctl -u " + SERVICE + " (-f to follow, -S today for today's run)\n";
    }

    /** The README beside the launcher: {@code <root>/bin/crypto-pipeline} or {@code <root>/target/<jar>}. */
    private String documentation() {
        Path tool = Path.of(launcher.get(launcher.size() - 1)).toAbsolutePath();
        Path root = tool.getParent().getParent() != null ? tool.getParent().getParent() : tool.getParent();
        return root.resolve("README.md").toUri().toString().replace("%", "%%");
    }

    /**
     * One word of a command line: systemd splits on spaces, honours double quotes with C escapes, and expands
     * {@code %} specifiers and {@code $} variables, so those are doubled.
     */
    static String arg(String s) {
        String escaped = s.replace("%", "%%").replace("$", "$$");
        return s.matches("[A-Za-z0-9_./:=@,+-]+") ? escaped : "\"" + escaped.replace("\\", "\\\\")
                .replace("\"", "\\\"") + "\"";
    }

    /** A path in a space-separated list: quoted if need be; {@code %} specifiers doubled (no variables there). */
    private static String path(Path p) {
        String s = p.toString();
        String escaped = s.replace("%", "%%");
        return s.matches("[A-Za-z0-9_./:=@,+-]+") ? escaped : "\"" + escaped.replace("\\", "\\\\")
                .replace("\"", "\\\"") + "\"";
    }
}
