package dev.cryptopipeline.source;

import dev.cryptopipeline.lake.Lake;
import dev.cryptopipeline.lake.LocalLake;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * A local folder that calls itself {@code gs://}, because a BigQuery pipeline takes only a GCS lake; the Google Cloud
 * Storage client cannot run beside ZetaSQL's Protocol Buffers 3 (the GoogleSql*IT tests).
 */
record FolderNamedGs(LocalLake folder) implements Lake {
    @Override
    public String location() {
        return "gs://googlesql-test/lake";
    }

    @Override
    public boolean prepare() {
        return folder.prepare();
    }

    @Override
    public OutputStream create(String key) throws IOException {
        return folder.create(key);
    }

    @Override
    public InputStream open(String key) throws IOException {
        return folder.open(key);
    }

    @Override
    public List<LakeObject> list(String prefix) throws IOException {
        return folder.list(prefix);
    }
}
