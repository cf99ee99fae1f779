package dev.cryptopipeline.source;

import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryError;
import com.google.cloud.bigquery.BigQueryException;
import com.google.cloud.bigquery.Job;
import com.google.cloud.bigquery.JobId;
import com.google.cloud.bigquery.JobInfo;
import com.google.cloud.bigquery.JobStatus;
import dev.cryptopipeline.Backoff;
import dev.cryptopipeline.PipelineException;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs BigQuery jobs the way a 3 a.m. cron job needs: deterministic job ids (inserting an id that exists returns
 * that job, so a retried or restarted run reattaches instead of paying twice), API calls retried with jittered
 * exponential backoff on HTTP 429/5xx and {@code rateLimitExceeded}/{@code backendError}, and jobs polled with
 * backoff and a bounded total wait (never the client's 12-hour {@code waitFor}). Thread safe.
 */
public final class BigQueryJobs {
    private static final Logger log = LoggerFactory.getLogger(BigQueryJobs.class);
    private static final Set<Integer> RETRYABLE_HTTP = Set.of(0, 429, 500, 502, 503, 504);
    private static final Set<String> RETRYABLE_REASONS = Set.of("rateLimitExceeded", "backendError",
            "internalError", "jobBackendError", "jobInternalError");

    /**
     * Timing of retries and polls.
     *
     * @param firstDelay   the first retry or poll delay
     * @param maxDelay     the longest delay between two tries or polls
     * @param maxAttempts  tries of one API call before giving up with exit 75
     * @param maxJobWait   how long to wait for one job to finish
     */
    public record Timing(Duration firstDelay, Duration maxDelay, int maxAttempts, Duration maxJobWait) {
        /** Production timing: 1 s doubling to 30 s, 6 tries, 6 hours per job. */
        public static Timing defaults() {
            return new Timing(Duration.ofSeconds(1), Duration.ofSeconds(30), 6, Duration.ofHours(6));
        }
    }

    /** A job that ended with an error BigQuery calls transient: worth a new job under a new id. */
    public static final class TransientJobFailure extends RuntimeException {
        TransientJobFailure(String message) {
            super(message);
        }
    }

    private final BigQuery bigquery;
    private final Timing timing;

    public BigQueryJobs(BigQuery bigquery, Timing timing) {
        this.bigquery = bigquery;
        this.timing = timing;
    }

    /**
     * Creates the job (or finds the one with its id) and waits until it is done.
     *
     * @throws TransientJobFailure       if it ended with a transient error
     * @throws PipelineException.Failed if it ended with any other error, naming the job and BigQuery's message
     */
    public Job run(JobInfo info, String what) {
        JobId id = info.getJobId();
        Job job = call("create " + what + " job " + id.getJob(), () -> bigquery.create(info));
        long deadline = System.nanoTime() + timing.maxJobWait().toNanos();
        Backoff polls = new Backoff(timing.firstDelay(), timing.maxDelay());
        while (job.getStatus() == null || job.getStatus().getState() != JobStatus.State.DONE) {
            if (System.nanoTime() > deadline) {
                throw new PipelineException.TryLater("BigQuery job " + id.getJob() + " (" + what + ") is still running"
                        + " after " + timing.maxJobWait() + "; a later run reattaches to it");
            }
            Backoff.sleep(polls.next());
            Job current = call("poll job " + id.getJob(), () -> bigquery.getJob(id));
            if (current == null) {
                throw new PipelineException.Failed("BigQuery job " + id.getJob() + " (" + what + ") disappeared");
            }
            job = current;
        }
        BigQueryError error = job.getStatus().getError();
        if (error != null) {
            String message = "BigQuery job " + id.getJob() + " (" + what + ") failed: " + error.getReason() + ": "
                    + error.getMessage();
            if (RETRYABLE_REASONS.contains(error.getReason())) {
                throw new TransientJobFailure(message);
            }
            throw new PipelineException.Failed(message + "; the old data is intact");
        }
        return job;
    }

    /** Calls the API, retrying transient failures with jittered exponential backoff. */
    public <T> T call(String what, Supplier<T> call) {
        Backoff backoff = new Backoff(timing.firstDelay(), timing.maxDelay());
        for (int attempt = 1; ; attempt++) {
            try {
                return call.get();
            } catch (BigQueryException e) {
                if (!retryable(e)) {
                    throw new PipelineException.Failed("BigQuery refused to " + what + " (" + describe(e)
                            + "); the old data is intact", e);
                }
                if (attempt >= timing.maxAttempts()) {
                    throw new PipelineException.TryLater("BigQuery kept failing to " + what + " after " + attempt
                            + " tries (" + describe(e) + "); try again later", e);
                }
                long wait = backoff.next();
                log.warn("BigQuery could not {} ({}); retry {} of {} in {} ms", what, describe(e), attempt,
                        timing.maxAttempts() - 1, wait);
                Backoff.sleep(wait);
            }
        }
    }

    static boolean retryable(BigQueryException e) {
        return RETRYABLE_HTTP.contains(e.getCode())
                || (e.getReason() != null && RETRYABLE_REASONS.contains(e.getReason()));
    }

    static String describe(BigQueryException e) {
        String m = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ');
        return "HTTP " + e.getCode() + (e.getReason() == null ? "" : " " + e.getReason()) + ": " + m;
    }

}
