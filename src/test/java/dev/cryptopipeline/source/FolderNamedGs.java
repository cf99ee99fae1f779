package dev.cryptopipeline.source;

import dev.cryptopipeline.lake.ForwardingLake;
import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LocalLake;

/**
 * A local folder that calls itself {@code gs://}, because a BigQuery pipeline takes only a GCS lake; the Google Cloud
 * Storage client cannot run beside ZetaSQL's Protocol Buffers 3 (the GoogleSql*IT tests).
 */
final class FolderNamedGs extends ForwardingLake {
    private final LocalLake folder;

    FolderNamedGs(LocalLake folder) {
        this.folder = folder;
    }

    @Override
    protected Lake delegate() {
        return folder;
    }

    @Override
    public String location() {
        return "gs://googlesql-test/lake";
    }
}
