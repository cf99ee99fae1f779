package dev.cryptopipeline.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.lake.GcsLake;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LakeLayout;
import dev.cryptopipeline.lake.Manifest;
import dev.cryptopipeline.lake.TestStorage;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The BigQuery source, driven through the real client against a local fake of the BigQuery REST API. */
class BigQuerySourceIT {
    private static final Instant NOW = Instant.parse("2026-11-27T09:30:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final LocalDate D1 = LocalDate.of(2026, 11, 20);
    private static final List<LocalDate> DAYS = List.of(D1, D1.plusDays(1), D1.plusDays(2));

    FakeBigQuery fake;
    TestStorage gcs;
    Lake lake;

    @BeforeEach
    void start() throws Exception {
        fake = new FakeBigQuery();
        gcs = new TestStorage();
        lake = new GcsLake(gcs.storage, "gs://lake-bucket/prod", "US", 30);
        BigQueryExports.writeExtractsInto(fake, gcs);
        fake.sourceRows.put(D1, 120L);
        fake.sourceRows.put(D1.plusDays(1), 80L);
        fake.sourceRows.put(D1.plusDays(2), 1L);
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private BigQuerySource source() {
        return BigQueryExports.source(fake, Optional.empty(), CLOCK);
    }

    private List<JsonNode> realQueries() {
        return fake.jobInserts().stream().filter(b -> b.path("configuration").has("query"))
                .filter(b -> !b.path("configuration").path("dryRun").asBoolean())
                .filter(b -> b.path("configuration").path("query").has("destinationTable")).toList();
    }

    private List<JsonNode> extracts() {
        return fake.jobInserts().stream().filter(b -> b.path("configuration").has("extract")).toList();
    }

    @Test
    void a_range_costs_one_query_then_one_free_extract_per_day() throws Exception {
        // when
        List<Manifest> manifests = source().export(DAYS, "20261127T093000Z-abcd", OptionalInt.empty(), lake);
        // then: one estimate, one query for the whole range, three extracts
        List<JsonNode> queries = realQueries();
        assertThat(queries).hasSize(1);
        JsonNode q = queries.get(0).path("configuration");
        assertThat(q.path("query").path("query").asText()).isEqualTo(TransferQuery.sql(OptionalInt.empty()));
        assertThat(q.path("query").path("useLegacySql").asBoolean()).isFalse();
        assertThat(q.path("query").path("maximumBytesBilled").asLong()).isEqualTo(3 * 5L * (1 << 30) + 10L * (1 << 30));
        assertThat(q.path("query").path("timePartitioning").path("field").asText()).isEqualTo("block_timestamp");
        assertThat(q.path("query").path("destinationTable").path("datasetId").asText()).isEqualTo("staging");
        assertThat(q.path("labels").path("app").asText()).isEqualTo("crypto-pipeline");
        assertThat(q.path("labels").path("run").asText()).isEqualTo("20261127t093000z-abcd");
        assertThat(q.path("query").path("queryParameters").toString()).contains("\"first_day\"")
                .contains("\"2026-11-20\"").contains("\"2026-11-22\"");
        assertThat(fake.jobInserts()).anyMatch(b -> b.path("configuration").path("dryRun").asBoolean());
        String queryJobId = queries.get(0).path("jobReference").path("jobId").asText();
        assertThat(queryJobId).matches("crypto_pipeline_q_20261127_[0-9a-f]{10}_1");

        List<JsonNode> extracts = extracts();
        assertThat(extracts).hasSize(3);
        for (JsonNode x : extracts) {
            JsonNode e = x.path("configuration").path("extract");
            assertThat(e.path("printHeader").asBoolean(true)).isFalse();
            assertThat(e.path("compression").asText()).isEqualTo("GZIP");
            assertThat(e.path("destinationFormat").asText()).isEqualTo("CSV");
            assertThat(e.path("destinationUris").get(0).asText())
                    .matches("gs://lake-bucket/prod/token_transfers/day=2026-11-2[0-2]/run=20261127-[0-9a-f]{10}-[0-9a-f]{10}-1/"
                            + "part-\\*\\.csv\\.gz");
            assertThat(x.path("jobReference").path("jobId").asText()).startsWith(queryJobId.replace("_q_", "_x_"));
        }

        // and the manifests carry BigQuery's row counts and the files it wrote
        assertThat(manifests).extracting(Manifest::day).containsExactlyElementsOf(DAYS);
        assertThat(manifests).extracting(Manifest::rows).containsExactly(120L, 80L, 1L);
        assertThat(manifests.get(0).files()).hasSize(2);
        assertThat(manifests.get(0).sourceJobs()).hasSize(2).first().isEqualTo(queryJobId);
        Manifest onLake = LakeLayout.readManifest(lake, D1, manifests.get(0).runId());
        assertThat(onLake.rows()).isEqualTo(120);
        assertThat(LakeLayout.verifiedFiles(lake, onLake)).hasSize(2);
        try (InputStream in = new GZIPInputStream(lake.open(LakeLayout.verifiedFiles(lake, onLake).get(0)))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).startsWith("2026-11-20 00:00:00 UTC,");
        }
    }

    @Test
    void a_run_restarted_the_same_day_reuses_the_finished_export_without_new_jobs() {
        // given
        List<Manifest> first = source().export(DAYS, "run-1", OptionalInt.empty(), lake);
        int inserts = realQueries().size() + extracts().size();
        // when
        List<Manifest> second = source().export(DAYS, "run-2", OptionalInt.empty(), lake);
        // then
        assertThat(realQueries().size() + extracts().size()).isEqualTo(inserts);
        assertThat(second).isEqualTo(first);
    }

    @Test
    void a_reused_export_with_a_file_lost_from_the_lake_is_exported_anew_under_new_jobs() throws Exception {
        // given: a finished export, then one of D2's files lost from the bucket
        List<Manifest> first = source().export(DAYS, "run-1", OptionalInt.empty(), lake);
        Manifest d2 = first.get(1);
        gcs.storage.delete(com.google.cloud.storage.BlobId.of("lake-bucket",
                "prod/" + LakeLayout.verifiedFiles(lake, d2).get(0)));
        int queries = realQueries().size();
        int extracted = extracts().size();
        // when: the run is restarted the same day
        List<Manifest> second = source().export(DAYS, "run-2", OptionalInt.empty(), lake);
        // then: D1 and D3 are reused; D2 is queried and extracted again under new job ids (not reattached to the
        // jobs that wrote the damaged folder), into a folder of its own; the damaged one is marked
        assertThat(second.get(0)).isEqualTo(first.get(0));
        assertThat(second.get(2)).isEqualTo(first.get(2));
        assertThat(second.get(1).runId()).isNotEqualTo(d2.runId());
        assertThat(second.get(1).rows()).isEqualTo(80);
        assertThat(LakeLayout.verifiedFiles(lake, second.get(1))).isNotEmpty();
        assertThat(realQueries()).hasSize(queries + 1);
        assertThat(extracts()).hasSize(extracted + 1);
        assertThat(lake.list(LakeLayout.runPrefix(D1.plusDays(1), d2.runId()) + LakeLayout.DAMAGED)).hasSize(1);
        // and a third run reuses the new export, with no job
        assertThat(source().export(DAYS, "run-3", OptionalInt.empty(), lake)).isEqualTo(second);
        assertThat(realQueries()).hasSize(queries + 1);
        assertThat(extracts()).hasSize(extracted + 1);
    }

    @Test
    void a_job_left_running_by_a_killed_run_is_reattached_not_paid_twice() throws Exception {
        // given: a killed run had created the query job, still running; the fake learns its id from a first run
        source().export(List.of(D1), "probe", OptionalInt.empty(), lake);
        JsonNode queryInsert = realQueries().get(0);
        String jobId = queryInsert.path("jobReference").path("jobId").asText();
        fake.close();
        fake = new FakeBigQuery();
        BigQueryExports.writeExtractsInto(fake, gcs);
        fake.sourceRows.put(D1, 120L);
        fake.preexistingJob(BigQueryExports.PROJECT, jobId, queryInsert.path("configuration"), 3);
        // and the lake (same location, so the same job ids) lost that export, so it cannot simply be reused
        TestStorage emptyGcs = new TestStorage();
        BigQueryExports.writeExtractsInto(fake, emptyGcs);
        Lake emptyLake = new GcsLake(emptyGcs.storage, lake.location(), "US", 30);
        // when: the run restarts the same day
        List<Manifest> manifests = source().export(List.of(D1), "restarted", OptionalInt.empty(), emptyLake);
        // then: inserting the same job id met a 409, and the tool waited for the existing job instead of paying again
        long queryPosts = fake.requests.stream().filter(r -> r.method().equals("POST") && r.body().path("configuration")
                .path("query").has("destinationTable")).count();
        long polls = fake.requests.stream().filter(r -> r.method().equals("GET") && r.path().endsWith("/" + jobId))
                .count();
        assertThat(queryPosts).as("one insert, answered 409").isEqualTo(1);
        assertThat(polls).as("fetched, then polled while RUNNING").isGreaterThanOrEqualTo(3);
        assertThat(fake.jobs.keySet().stream().filter(id -> id.contains("_q_"))).containsExactly(jobId);
        assertThat(manifests.get(0).rows()).isEqualTo(120);
        assertThat(manifests.get(0).sourceJobs().get(0)).isEqualTo(jobId);
    }

    @Test
    void http_500_and_429_on_insert_are_retried() {
        // given
        fake.insertFailures.add(500);
        fake.insertFailures.add(429);
        fake.insertFailures.add(503);
        // when
        List<Manifest> manifests = source().export(List.of(D1), "r", OptionalInt.empty(), lake);
        // then
        assertThat(manifests.get(0).rows()).isEqualTo(120);
        assertThat(fake.insertFailures).isEmpty();
        assertThat(realQueries()).hasSize(4);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {400, 403, 404})
    void client_errors_fail_at_once_without_retries(int code) {
        fake.insertFailures.add(code);
        assertThatThrownBy(() -> source().export(List.of(D1), "r", OptionalInt.empty(), lake))
                .isInstanceOf(PipelineException.Failed.class).hasMessageContaining("HTTP " + code)
                .hasMessageContaining("BigQuery refused to create query 2026-11-20 job crypto_pipeline_q_");
        assertThat(realQueries()).hasSize(1);
    }

    @Test
    void a_403_saying_rate_limit_exceeded_is_retried() {
        fake.insertFailures.add(403);
        fake.failureReasons.put(403, "rateLimitExceeded");
        assertThat(source().export(List.of(D1), "r", OptionalInt.empty(), lake).get(0).rows()).isEqualTo(120);
        assertThat(realQueries()).hasSize(2);
    }

    @Test
    void a_lost_answer_to_a_job_insert_reattaches_to_the_job_it_created() {
        // given: the first insert creates the job, but its answer is a 500
        fake.failAfterCreating = true;
        fake.insertFailures.add(500);
        // when
        List<Manifest> manifests = source().export(List.of(D1), "r", OptionalInt.empty(), lake);
        // then: the retry met a 409 and took the existing job; one query job exists
        assertThat(manifests.get(0).rows()).isEqualTo(120);
        assertThat(realQueries()).hasSize(2);
        assertThat(fake.jobs.keySet().stream().filter(id -> id.contains("_q_"))).hasSize(1);
    }

    @Test
    void an_outage_that_outlasts_the_retries_exits_75() {
        for (int i = 0; i < 10; i++) {
            fake.insertFailures.add(503);
        }
        assertThatThrownBy(() -> source().export(List.of(D1), "r", OptionalInt.empty(), lake))
                .isInstanceOf(PipelineException.TryLater.class).hasMessageContaining("HTTP 503")
                .hasMessageContaining("try again later");
    }

    @Test
    void a_failed_job_ends_the_run_with_its_id_and_bigquery_message() {
        fake.jobErrors.put("crypto_pipeline_q_", new String[] {"invalidQuery", "Unrecognized name: blok_number"});
        assertThatThrownBy(() -> source().export(List.of(D1), "r", OptionalInt.empty(), lake))
                .isInstanceOf(PipelineException.Failed.class)
                .hasMessageMatching("BigQuery job crypto_pipeline_q_\\w+ \\(query 2026-11-20\\) failed: invalidQuery:"
                        + " Unrecognized name: blok_number; the old data is intact");
        assertThat(extracts()).isEmpty();
    }

    @Test
    void a_job_ending_in_backend_error_is_redone_under_new_ids() {
        fake.jobErrors.put("crypto_pipeline_q_", new String[] {"backendError", "Backend error"});
        List<Manifest> manifests = source().export(List.of(D1), "r", OptionalInt.empty(), lake);
        assertThat(manifests.get(0).runId()).endsWith("-2");
        assertThat(manifests.get(0).sourceJobs().get(0)).endsWith("_2");
    }

    @Test
    void a_query_limit_is_a_parameter_and_the_manifest_says_so() {
        List<Manifest> manifests = source().export(List.of(D1), "r", OptionalInt.of(50), lake);
        JsonNode q = realQueries().get(0).path("configuration").path("query");
        assertThat(q.path("query").asText()).isEqualTo(TransferQuery.sql(OptionalInt.of(50)));
        assertThat(q.path("queryParameters").toString()).contains("row_limit").contains("\"50\"");
        assertThat(manifests.get(0).rows()).isEqualTo(50);
        assertThat(manifests.get(0).queryLimit()).isEqualTo(50);
    }

    @Test
    void an_estimate_over_the_cap_stops_before_spending() {
        fake.dryRunBytes = 2_000_000_000L;
        BigQuerySource capped = BigQueryExports.source(fake, Optional.of(1_000_000_000L), CLOCK);
        assertThatThrownBy(() -> capped.export(List.of(D1), "r", OptionalInt.empty(), lake))
                .isInstanceOf(PipelineException.BadInput.class)
                .hasMessageContaining("would scan 2000000000 bytes, over the cap of 1000000000")
                .hasMessageContaining("nothing was spent");
        assertThat(realQueries()).isEmpty();
    }

    @Test
    void the_plan_shows_the_estimate_the_cost_and_the_sql() {
        List<String> plan = source().plan(DAYS, OptionalInt.empty());
        assertThat(String.join("\n", plan)).contains("one query job for 2026-11-20..2026-11-22 (3 days)")
                .contains("an estimated 987654321 bytes").contains("$").contains("3 free extract jobs")
                .contains("FROM `bigquery-public-data.crypto_ethereum.token_transfers`");
        assertThat(realQueries()).isEmpty();
        assertThat(extracts()).isEmpty();
    }

    @Test
    void setup_creates_the_staging_dataset_once() {
        assertThat(source().prepare()).containsExactly("BigQuery dataset test-project:staging: created in US"
                + " (tables expire after 3 days)");
        JsonNode created = fake.datasets.get("staging");
        assertThat(created.path("location").asText()).isEqualTo("US");
        assertThat(created.path("defaultTableExpirationMs").asLong()).isEqualTo(3 * 86_400_000L);
        assertThat(source().prepare()).containsExactly("BigQuery dataset test-project:staging: already exists (US)");
    }

    @Test
    void a_day_is_finished_once_the_source_rewrote_its_partition() {
        LocalDate yesterday = LocalDate.of(2026, 11, 26);
        fake.lastModified = Instant.parse("2026-11-27T08:21:00Z");
        assertThat(source().lastFinishedDay(NOW)).isEqualTo(yesterday);
        fake.lastModified = Instant.parse("2026-11-27T00:05:00Z");
        assertThat(source().lastFinishedDay(NOW)).isEqualTo(yesterday.minusDays(1));
    }

    @Test
    void a_day_is_finished_once_load_metadata_has_its_row_whether_or_not_the_partitions_view_answers() {
        LocalDate yesterday = LocalDate.of(2026, 11, 26);
        // given: the partition not rewritten yet by the view, but the load says it finished
        fake.lastModified = Instant.parse("2026-11-27T00:05:00Z");
        fake.loadMetadata.put(yesterday, Instant.parse("2026-11-27T08:40:00Z"));
        assertThat(source().lastFinishedDay(NOW)).isEqualTo(yesterday);
        // given: a fake or a project where the partitions view cannot be read
        fake.jobErrors.put("crypto_pipeline_c_", new String[] {"invalidQuery", "Not found: INFORMATION_SCHEMA"});
        assertThat(source().lastFinishedDay(NOW)).isEqualTo(yesterday);
        // given: a row written before the day ended is no evidence, and no row neither
        fake.loadMetadata.put(yesterday, Instant.parse("2026-11-26T23:59:00Z"));
        assertThat(source().lastFinishedDay(NOW)).isEqualTo(yesterday.minusDays(1));
        fake.loadMetadata.clear();
        fake.jobErrors.put("crypto_pipeline_m_", new String[] {"invalidQuery", "Not found: load_metadata"});
        fake.jobErrors.put("crypto_pipeline_c_", new String[] {"invalidQuery", "Not found: INFORMATION_SCHEMA"});
        assertThat(source().lastFinishedDay(NOW)).isEqualTo(yesterday.minusDays(1));
        // then: the load metadata was asked only when the partitions view did not say finished
        fake.lastModified = Instant.parse("2026-11-27T08:21:00Z");
        fake.requests.clear();
        assertThat(source().lastFinishedDay(NOW)).isEqualTo(yesterday);
        assertThat(fake.jobInserts()).hasSize(1);
    }

    @Test
    void a_resumed_run_that_starts_later_reuses_the_days_already_exported_and_pays_only_for_the_rest() {
        // given: a run exported D1..D2, then died before loading D2
        source().export(List.of(D1, D1.plusDays(1)), "run-1", OptionalInt.empty(), lake);
        int queries = realQueries().size();
        // when: the resumed backfill asks for D2..D3 (D1 was loaded meanwhile)
        List<Manifest> resumed = source().export(List.of(D1.plusDays(1), D1.plusDays(2)), "run-2",
                OptionalInt.empty(), lake);
        // then: D2 is reused, and the one new query covers D3 alone
        assertThat(resumed).extracting(Manifest::day).containsExactly(D1.plusDays(1), D1.plusDays(2));
        List<JsonNode> all = realQueries();
        assertThat(all).hasSize(queries + 1);
        assertThat(all.get(all.size() - 1).path("configuration").path("query").path("queryParameters").toString())
                .contains("\"first_day\"").contains("\"2026-11-22\"").doesNotContain("\"2026-11-21\"");
    }

    @Test
    void a_fresh_export_never_reuses_and_makes_new_jobs() throws Exception {
        source().export(List.of(D1), "run-1", OptionalInt.empty(), lake);
        List<Manifest> again = new java.util.ArrayList<>();
        source().export(List.of(D1), new Source.ExportRequest("20261127T100000Z-beef", OptionalInt.empty(), true),
                lake, again::add);
        assertThat(realQueries()).hasSize(2);
        assertThat(LakeLayout.finishedRuns(lake, D1)).hasSize(2).contains(again.get(0).runId());
    }

    @Test
    void day_counts_are_counted_over_the_staging_table_and_every_job_carries_the_cap() {
        // when
        BigQuerySource capped = BigQueryExports.source(fake, Optional.of(3_000_000_000L), CLOCK);
        List<Manifest> manifests = capped.export(DAYS, "r", OptionalInt.empty(), lake);
        fake.lastModified = Instant.parse("2026-11-27T00:05:00Z");
        capped.lastFinishedDay(NOW);
        // then: one count over the run's own staging table, and no job ran without the cap
        List<JsonNode> jobs = fake.jobInserts().stream().filter(b -> b.path("configuration").has("query")).toList();
        String table = realQueries().get(0).path("configuration").path("query").path("destinationTable")
                .path("tableId").asText();
        assertThat(jobs).filteredOn(b -> b.path("configuration").path("query").path("query").asText()
                .equals(TransferQuery.stagingCountsSql(BigQueryExports.PROJECT, new dev.cryptopipeline.config
                        .Identifier("staging"), table))).hasSize(1);
        assertThat(manifests).extracting(Manifest::rows).containsExactly(120L, 80L, 1L);
        assertThat(jobs).anyMatch(b -> b.path("configuration").path("query").path("query").asText()
                .equals(TransferQuery.completenessSql()));
        assertThat(jobs).anyMatch(b -> b.path("configuration").path("query").path("query").asText()
                .equals(TransferQuery.loadMetadataSql()));
        assertThat(jobs).allSatisfy(b -> assertThat(b.path("configuration").path("query")
                .path("maximumBytesBilled").asLong()).isEqualTo(3_000_000_000L));
    }

    /** The lake, where another run writes each manifest (as {@code theirs} makes it) just before this one does. */
    private static Lake withAnotherRunFirst(Lake lake, java.util.function.UnaryOperator<String> theirs) {
        return new dev.cryptopipeline.lake.ForwardingLake() {
            @Override
            protected Lake delegate() {
                return lake;
            }

            @Override
            public java.io.OutputStream create(String key) throws java.io.IOException {
                if (!key.endsWith(LakeLayout.MANIFEST)) {
                    return lake.create(key);
                }
                return new java.io.ByteArrayOutputStream() {
                    @Override
                    public void close() throws java.io.IOException {
                        try (java.io.OutputStream other = lake.create(key)) {
                            other.write(theirs.apply(toString(StandardCharsets.UTF_8))
                                    .getBytes(StandardCharsets.UTF_8));
                        }
                        try (java.io.OutputStream mine = lake.create(key)) {
                            mine.write(toByteArray());
                        }
                    }
                };
            }
        };
    }

    @Test
    void a_manifest_another_run_of_the_same_work_wrote_first_is_used_when_it_says_the_same() throws Exception {
        // given: Cloud Storage over HTTP (its 412 for an object that exists), and a second schema's run on the same
        // lake, reattached to the same jobs, that wins each manifest
        try (dev.cryptopipeline.lake.FakeGcs http = new dev.cryptopipeline.lake.FakeGcs();
             com.google.cloud.storage.Storage storage = com.google.cloud.storage.StorageOptions.newBuilder()
                     .setHost(http.endpoint()).setProjectId("p")
                     .setCredentials(com.google.cloud.NoCredentials.getInstance()).build().getService()) {
            GcsLake shared = new GcsLake(storage, "gs://lake-bucket/prod", "US", 30);
            shared.prepare();
            BigQueryExports.writeExtractsInto(fake, http);
            // when
            List<Manifest> manifests = source().export(DAYS, "r", OptionalInt.empty(),
                    withAnotherRunFirst(shared, m -> m));
            // then
            assertThat(manifests).extracting(Manifest::rows).containsExactly(120L, 80L, 1L);
            // and one that says otherwise is a failed data check
            fake.sourceRows.put(D1.plusDays(5), 7L);
            assertThatThrownBy(() -> source().export(List.of(D1.plusDays(5)), "r", OptionalInt.empty(),
                    withAnotherRunFirst(shared, m -> m.replace("\"rows\" : 7", "\"rows\" : 8"))))
                    .isInstanceOf(PipelineException.DataCheck.class)
                    .hasMessageContaining("already has a manifest that says 8 rows in 2 files, not 7 in 2");
        }
    }

    @Test
    void a_cap_below_the_minimum_charge_is_refused_before_any_job() {
        BigQuerySource capped = BigQueryExports.source(fake, Optional.of(1000L), CLOCK);
        assertThatThrownBy(() -> capped.checkCost(DAYS, OptionalInt.empty()))
                .isInstanceOf(PipelineException.BadInput.class).hasMessageContaining("--max-bytes-billed 1000")
                .hasMessageContaining("nothing was spent");
        assertThat(fake.jobInserts()).isEmpty();
    }

    @Test
    void unreadable_day_counts_are_a_failed_data_check_never_zero_rows() {
        fake.garbledCounts = true;
        assertThatThrownBy(() -> source().export(List.of(D1), "r", OptionalInt.empty(), lake))
                .isInstanceOf(PipelineException.DataCheck.class)
                .hasMessageContaining("answered the row counts of staging.token_transfers_")
                .hasMessageContaining("the old data was kept");
        assertThat(extracts()).isEmpty();
    }

    @Test
    void staged_rows_of_no_day_asked_for_are_a_failed_data_check() {
        fake.strayCount = true;
        assertThatThrownBy(() -> source().export(List.of(D1), "r", OptionalInt.empty(), lake))
                .isInstanceOf(PipelineException.DataCheck.class)
                .hasMessageContaining("has 3 rows of no day, outside the days " + D1);
        assertThat(extracts()).isEmpty();
    }

    @Test
    void a_day_the_source_has_no_rows_for_is_exported_as_an_empty_day() {
        // given: D2 has no transfers at all
        fake.sourceRows.remove(D1.plusDays(1));
        // when
        List<Manifest> manifests = source().export(DAYS, "r", OptionalInt.empty(), lake);
        // then
        assertThat(manifests).extracting(Manifest::rows).containsExactly(120L, 0L, 1L);
        assertThat(manifests.get(1).files()).isEmpty();
        assertThat(extracts()).hasSize(2);
    }

    @Test
    void days_with_holes_are_exported_as_runs_of_consecutive_days() {
        assertThat(BigQuerySource.segments(List.of(D1, D1.plusDays(1), D1.plusDays(5))))
                .containsExactly(List.of(D1, D1.plusDays(1)), List.of(D1.plusDays(5)));
    }
}
