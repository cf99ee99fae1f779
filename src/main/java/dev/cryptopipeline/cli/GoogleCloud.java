package dev.cryptopipeline.cli;

import com.google.auth.Credentials;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.NoCredentials;
import com.google.cloud.ServiceOptions;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryOptions;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import dev.cryptopipeline.PipelineException;
import dev.cryptopipeline.config.PipelineConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Builds the Google Cloud clients. Credentials are checked first, with a one-line error that says how to fix them:
 * the client libraries otherwise fail late and obscurely. An endpoint override (emulator, test fake) needs none.
 */
final class GoogleCloud {
    private GoogleCloud() {
    }

    /** The project from the flag or environment, else the one of the local gcloud credentials, if any. */
    static Optional<String> project(PipelineConfig.GcpConfig gcp) {
        if (gcp.project().isPresent()) {
            return gcp.project();
        }
        if (gcp.bigqueryEndpoint().isPresent()) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(ServiceOptions.getDefaultProjectId()).filter(p -> !p.isBlank());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    static String requireProject(PipelineConfig.GcpConfig gcp) {
        return project(gcp).orElseThrow(() -> new PipelineException.BadInput("No Google Cloud project: set"
                + " --gcp-project or GOOGLE_CLOUD_PROJECT (it runs the BigQuery jobs; the default lake is"
                + " gs://<project>-crypto-lake, or set --lake); to try the tool without a Google Cloud account, add"
                + " --source synthetic"));
    }

    static BigQuery bigquery(PipelineConfig.GcpConfig gcp) {
        BigQueryOptions.Builder b = BigQueryOptions.newBuilder()
                .setProjectId(requireProject(gcp))
                .setLocation(gcp.bqLocation())
                // Retries are ours (BigQueryJobs): the client's own do not cover 5xx on jobs.insert.
                .setRetrySettings(ServiceOptions.getNoRetrySettings());
        if (gcp.bigqueryEndpoint().isPresent()) {
            b.setHost(withScheme(gcp.bigqueryEndpoint().get())).setCredentials(NoCredentials.getInstance());
        } else {
            b.setCredentials(credentials(gcp));
        }
        return b.build().getService();
    }

    static Storage storage(PipelineConfig.GcpConfig gcp) {
        StorageOptions.Builder b = StorageOptions.newBuilder();
        project(gcp).ifPresent(b::setProjectId);
        if (gcp.gcsEndpoint().isPresent()) {
            b.setHost(withScheme(gcp.gcsEndpoint().get())).setCredentials(NoCredentials.getInstance());
            if (gcp.project().isEmpty()) {
                b.setProjectId("crypto-pipeline-local");
            }
        } else {
            b.setCredentials(credentials(gcp));
        }
        return b.build().getService();
    }

    /**
     * The key file given (flag, GOOGLE_APPLICATION_CREDENTIALS or the saved configuration), else Application Default
     * Credentials; or a one-line error saying what to do.
     */
    static Credentials credentials(PipelineConfig.GcpConfig gcp) {
        if (gcp.credentialsFile().isPresent()) {
            Path file = gcp.credentialsFile().get();
            try (InputStream in = Files.newInputStream(file)) {
                return GoogleCredentials.fromStream(in);
            } catch (IOException | RuntimeException e) {
                String why = e instanceof NoSuchFileException ? "no such file"
                        : e instanceof AccessDeniedException ? "not readable" : firstLine(e);
                throw new PipelineException.Failed("Cannot use the Google Cloud credentials file " + file + " (" + why
                        + "; from --google-credentials, GOOGLE_APPLICATION_CREDENTIALS or the saved configuration):"
                        + " give a service account key file, or run 'gcloud auth application-default login' and"
                        + " remove google-credentials from the configuration", e);
            }
        }
        try {
            return GoogleCredentials.getApplicationDefault();
        } catch (IOException | RuntimeException e) {
            throw new PipelineException.Failed("No usable Google Cloud credentials (" + firstLine(e) + "): run"
                    + " 'gcloud auth application-default login', or set GOOGLE_APPLICATION_CREDENTIALS to a service"
                    + " account key file", e);
        }
    }

    private static String firstLine(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
    }

    private static String withScheme(String endpoint) {
        return endpoint.startsWith("http://") || endpoint.startsWith("https://") ? endpoint : "http://" + endpoint;
    }
}
