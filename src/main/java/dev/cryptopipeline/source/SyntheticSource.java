package dev.cryptopipeline.source;

import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.lake.Fingerprint;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TransferColumn;
import java.io.BufferedWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deterministic generator of Ethereum-shaped token transfers: the same (day, rows per day, query limit) always gives
 * the same rows, byte for byte. Its rows carry the hard cases of the real data (DATA.md): 78-digit values, log index
 * 0, NULL metadata, an empty-string symbol, names with quotes, commas, newlines and non-ASCII letters. It writes the
 * lake files and manifest exactly as the BigQuery export does. A day is finished once it is over (UTC). Thread safe.
 */
public final class SyntheticSource implements Source {
    private static final Logger log = LoggerFactory.getLogger(SyntheticSource.class);

    /** The largest uint256: 78 digits. */
    static final BigInteger MAX_UINT256 = BigInteger.TWO.pow(256).subtract(BigInteger.ONE);
    private static final int BLOCKS_PER_DAY = 7200;
    private static final int SECONDS_PER_BLOCK = 12;
    private static final long GENESIS_EPOCH_DAY = LocalDate.of(2015, 7, 30).toEpochDay();
    private static final List<Token> TOKENS = tokens();
    /** Changes whenever the generator's output changes, so an export of an older generator is never reused. */
    private static final String GENERATOR_VERSION = "1";

    private final int rowsPerDay;
    private final int rowsPerFile;
    private final Clock clock;

    /**
     * @param rowsPerDay  rows generated per day before any query limit
     * @param rowsPerFile rows per lake file (the last file of a day may hold fewer)
     * @param clock       stamps the manifests' {@code created_at}
     */
    public SyntheticSource(int rowsPerDay, int rowsPerFile, Clock clock) {
        if (rowsPerDay <= 0 || rowsPerFile <= 0) {
            throw new IllegalArgumentException("rowsPerDay and rowsPerFile must be positive");
        }
        this.rowsPerDay = rowsPerDay;
        this.rowsPerFile = rowsPerFile;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "synthetic";
    }

    @Override
    public LocalDate lastFinishedDay(Instant now) {
        return LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(1);
    }

    @Override
    public List<Manifest> export(List<LocalDate> days, String runId, OptionalInt queryLimit, Lake lake) {
        List<Manifest> manifests = new ArrayList<>(days.size());
        export(days, new ExportRequest(runId, queryLimit, true), lake, manifests::add);
        return manifests;
    }

    /**
     * Generates each day in turn. A fresh request writes into {@code run=<runId>}; otherwise a finished export of the
     * same work (day, volume, limit) made the same UTC day is reused, so a rerun after a crash does not generate
     * again.
     */
    @Override
    public void export(List<LocalDate> days, ExportRequest request, Lake lake, Consumer<Manifest> exported) {
        for (LocalDate day : days) {
            if (Thread.currentThread().isInterrupted()) {
                throw new PipelineException.Interrupted("Interrupted while exporting " + day);
            }
            long started = System.nanoTime();
            try {
                String folder;
                String key = null;
                if (request.fresh()) {
                    folder = request.runId();
                } else {
                    key = LakeLayout.workKey(clock.instant(), name(), GENERATOR_VERSION, day.toString(),
                            Integer.toString(rowsPerDay), String.valueOf(request.queryLimit()), lake.location());
                    LakeLayout.Reuse reuse = LakeLayout.reusableExport(lake, day, key);
                    Optional<Manifest> done = reuse.manifest();
                    if (done.isPresent()) {
                        log.info("Reusing the export of {} already in {}/{} ({} rows)", day, lake.location(),
                                LakeLayout.runPrefix(day, done.get().runId()), done.get().rows());
                        exported.accept(done.get());
                        continue;
                    }
                    key = reuse.key();
                    folder = LakeLayout.newFolder(lake, day, key);
                }
                Manifest m;
                for (int attempt = 1; ; attempt++) {
                    try {
                        m = exportDay(day, folder, request.queryLimit(), lake);
                        break;
                    } catch (java.nio.file.FileAlreadyExistsException e) {
                        // Another run (a second schema on the same lake) chose the same folder a moment earlier:
                        // its copy stays whole, this run writes one of its own.
                        if (key == null || attempt == 3) {
                            throw e;
                        }
                        String taken = folder;
                        folder = LakeLayout.newFolder(lake, day, key);
                        log.info("Another run is exporting {} into {}/{} at the same time; writing {} instead", day,
                                lake.location(), LakeLayout.runPrefix(day, taken), LakeLayout.runPrefix(day, folder));
                    }
                }
                log.info("Exported {} rows for {} into {} files of {}/{} in {} ms", m.rows(), day, m.files().size(),
                        lake.location(), LakeLayout.runPrefix(day, folder), (System.nanoTime() - started) / 1_000_000);
                exported.accept(m);
            } catch (java.io.InterruptedIOException | java.nio.channels.ClosedByInterruptException e) {
                throw new PipelineException.Interrupted("Interrupted while exporting " + day);
            } catch (IOException e) {
                throw new PipelineException.Failed("Cannot write day " + day + " to the lake " + lake.location()
                        + " (" + e.getMessage() + "): free space or fix permissions, then run again", e);
            }
        }
    }

    @Override
    public List<String> plan(List<LocalDate> days, OptionalInt queryLimit) {
        int rows = queryLimit.isPresent() ? Math.min(rowsPerDay, queryLimit.getAsInt()) : rowsPerDay;
        return List.of("synthetic source: " + days.size() + " day" + (days.size() == 1 ? "" : "s") + " of " + rows
                + " generated rows each, no cost");
    }

    /**
     * Generates each day again (deterministic: the same rows as its export with the same rows per day and limit) and
     * sums them as {@link Fingerprint} says. Free; writes nothing.
     */
    @Override
    public Map<LocalDate, Fingerprint.Day> fingerprints(List<LocalDate> days, OptionalInt queryLimit) {
        Map<LocalDate, Fingerprint.Day> out = new LinkedHashMap<>();
        int rows = queryLimit.isPresent() ? Math.min(rowsPerDay, queryLimit.getAsInt()) : rowsPerDay;
        for (LocalDate day : days) {
            if (Thread.currentThread().isInterrupted()) {
                throw new PipelineException.Interrupted("Interrupted while computing the fingerprint of " + day);
            }
            Generator gen = new Generator(day, rowsPerDay);
            Fingerprint.Accumulator sum = new Fingerprint.Accumulator();
            for (int i = 0; i < rows; i++) {
                sum.add(gen.next().values());
            }
            out.put(day, sum.day());
        }
        return out;
    }

    @Override
    public List<String> planFingerprints(List<LocalDate> days, OptionalInt queryLimit) {
        return List.of("synthetic source: would generate " + days.size() + " day" + (days.size() == 1 ? "" : "s")
                + " again to compute their fingerprints, no cost");
    }

    private Manifest exportDay(LocalDate day, String runId, OptionalInt queryLimit, Lake lake) throws IOException {
        int rows = queryLimit.isPresent() ? Math.min(rowsPerDay, queryLimit.getAsInt()) : rowsPerDay;
        String prefix = LakeLayout.runPrefix(day, runId);
        List<Manifest.DataFile> files = new ArrayList<>();
        Generator gen = new Generator(day, rowsPerDay);
        int written = 0;
        while (written < rows) {
            String name = LakeLayout.partName(files.size());
            int inFile = Math.min(rowsPerFile, rows - written);
            long bytes;
            try (CountingStream counted = new CountingStream(lake.create(prefix + name));
                 Writer w = new BufferedWriter(new OutputStreamWriter(
                         new FastGzip(counted), StandardCharsets.UTF_8), 1 << 16)) {
                CopyCsv csv = new CopyCsv(w);
                for (int i = 0; i < inFile; i++) {
                    gen.next().write(csv);
                }
                w.flush();
                w.close();
                bytes = counted.count;
            }
            files.add(new Manifest.DataFile(name, bytes));
            written += inFile;
        }
        Manifest manifest = new Manifest(day, runId, name(), written, TransferColumn.names(), files, List.of(),
                queryLimit.isPresent() ? queryLimit.getAsInt() : null, clock.instant());
        LakeLayout.writeManifest(lake, manifest);
        return manifest;
    }

    /** One generated transfer, already enriched with its token's metadata. */
    record Transfer(Instant timestamp, long blockNumber, byte[] blockHash, byte[] txHash, int logIndex, Token token,
                    byte[] from, byte[] to, BigInteger value) {
        void write(CopyCsv csv) throws IOException {
            csv.timestamp(timestamp).number(blockNumber).bytes(blockHash).bytes(txHash).number(logIndex)
                    .bytes(token.address).bytes(from).bytes(to).number(value)
                    .text(token.symbol).text(token.name).number(token.decimals).number(token.totalSupply)
                    .endRow();
        }

        /** The values in {@link TransferColumn} order, as {@link Fingerprint.Accumulator#add} takes them. */
        Object[] values() {
            return new Object[] {timestamp, blockNumber, blockHash, txHash, logIndex, token.address, from, to, value,
                    token.symbol, token.name, token.decimals, token.totalSupply};
        }
    }

    /** A token contract and its (possibly missing or odd) metadata. */
    record Token(byte[] address, String symbol, String name, Integer decimals, BigInteger totalSupply) {
    }

    /** Generates the transfers of one day in {@code (block_number, log_index)} order. */
    static final class Generator {
        private final SplittableRandom random;
        private final Instant dayStart;
        private final long firstBlock;
        private final int rows;
        private int row;
        private long block = -1;
        private byte[] blockHash;
        private byte[] txHash;
        private int logIndex;

        Generator(LocalDate day, int rowsPerDay) {
            this.random = new SplittableRandom(day.toEpochDay() * 1_000_003L + rowsPerDay);
            this.dayStart = day.atStartOfDay(ZoneOffset.UTC).toInstant();
            this.firstBlock = Math.max(0, day.toEpochDay() - GENESIS_EPOCH_DAY) * BLOCKS_PER_DAY;
            this.rows = rowsPerDay;
        }

        Transfer next() {
            long blockOfDay = (long) row * BLOCKS_PER_DAY / rows;
            row++;
            if (blockOfDay != block) {
                block = blockOfDay;
                blockHash = randomBytes(32);
                txHash = randomBytes(32);
                // The first log of a block has index 0: the case a `log_index > 0` filter loses (trap 1).
                logIndex = random.nextInt(3) == 0 ? random.nextInt(1, 6) : 0;
            } else {
                logIndex += 1 + random.nextInt(3);
                if (random.nextInt(10) < 7) {
                    txHash = randomBytes(32);
                }
            }
            Token token = TOKENS.get(pickToken());
            byte[] from = random.nextInt(500) == 0 ? null : randomBytes(20);
            byte[] to = random.nextInt(700) == 0 ? null : randomBytes(20);
            return new Transfer(dayStart.plusSeconds(blockOfDay * SECONDS_PER_BLOCK), firstBlock + blockOfDay,
                    blockHash, txHash, logIndex, token, from, to, value());
        }

        private int pickToken() {
            // Skewed like real traffic: a few tokens carry most transfers, every token appears.
            int r = random.nextInt(100);
            return r < 60 ? random.nextInt(4) : random.nextInt(TOKENS.size());
        }

        private BigInteger value() {
            return switch (random.nextInt(20)) {
                case 0 -> MAX_UINT256.subtract(BigInteger.valueOf(random.nextInt(1000)));   // 78 digits
                case 1 -> new BigInteger(252, new java.util.Random(random.nextLong()));       // ERC-721 style id
                case 2 -> BigInteger.ZERO;
                default -> BigInteger.valueOf(random.nextLong(1, Long.MAX_VALUE))
                        .multiply(BigInteger.valueOf(random.nextInt(1, 1_000_000)));
            };
        }

        private byte[] randomBytes(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i += 8) {
                long v = random.nextLong();
                for (int j = 0; j < 8 && i + j < n; j++) {
                    b[i + j] = (byte) (v >>> (8 * j));
                }
            }
            return b;
        }
    }

    private static List<Token> tokens() {
        SplittableRandom r = new SplittableRandom(20150730L);
        List<Token> t = new ArrayList<>();
        BigInteger supply = new BigInteger("1000000000000000000000000000");
        t.add(token(r, "USDT", "Tether USD", 6, new BigInteger("96000000000000000")));
        t.add(token(r, "USDC", "USD Coin", 6, new BigInteger("25000000000000000")));
        t.add(token(r, "WETH", "Wrapped Ether", 18, new BigInteger("3000000000000000000000000")));
        t.add(token(r, null, null, null, null));                                          // no metadata at all
        t.add(token(r, "QUOTE", "Say \"hi\", friends\nToken", 18, supply));              // quote, comma, newline
        t.add(token(r, "ÜNI", "Ünïcødé Tøken ☃", 8, supply));                            // non-ASCII
        t.add(token(r, "円", "日本円トークン", 0, BigInteger.valueOf(1_000_000)));           // CJK, decimals 0
        t.add(token(r, "", "Empty symbol, not NULL", 18, supply));                       // empty string vs NULL
        t.add(token(r, "MAX", "Max supply", 255, MAX_UINT256));                          // 78-digit supply
        t.add(token(r, "NODEC", "No decimals", null, null));
        t.add(token(r, "ΔΡΧ", "Ελληνικό νόμισμα", 2, supply));
        for (int i = 0; i < 29; i++) {
            t.add(token(r, "TK" + i, "Token number " + i, 18, supply.add(BigInteger.valueOf(i))));
        }
        return List.copyOf(t);
    }

    private static Token token(SplittableRandom r, String symbol, String name, Integer decimals, BigInteger supply) {
        byte[] address = new byte[20];
        for (int i = 0; i < address.length; i++) {
            address[i] = (byte) r.nextInt(256);
        }
        return new Token(address, symbol, name, decimals, supply);
    }

    /**
     * gzip at its fastest level. The rows are mostly random hex, which the default level packs only 8% smaller (21.9
     * against 23.6 MB for a 200,000-row day) at three times the CPU (1.45 against 0.49 s), and its files also inflate
     * 22% slower at load; measured with Java's own zlib on this project's days.
     */
    private static final class FastGzip extends GZIPOutputStream {
        FastGzip(OutputStream out) throws IOException {
            super(out, 1 << 16);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }

    /** Counts the bytes that reach the lake (the compressed size the manifest records). */
    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
