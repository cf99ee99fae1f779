package dev.cryptopipeline.lake;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A lake that passes every call to {@link #delegate()}, for wrappers that change one or two of them (a lake built on
 * first use; in tests, one that stalls or tampers). Forwarding the default methods too keeps a wrapped lake's own
 * cleanup and retention.
 */
public abstract class ForwardingLake implements Lake {
    /** The lake the calls go to; asked on every call. */
    protected abstract Lake delegate();

    @Override
    public String location() {
        return delegate().location();
    }

    @Override
    public boolean prepare() {
        return delegate().prepare();
    }

    @Override
    public void prepareForRun() {
        delegate().prepareForRun();
    }

    @Override
    public List<String> prune(Duration maxAge, Set<String> keep) {
        return delegate().prune(maxAge, keep);
    }

    @Override
    public OutputStream create(String key) throws IOException {
        return delegate().create(key);
    }

    @Override
    public InputStream open(String key) throws IOException {
        return delegate().open(key);
    }

    @Override
    public int removeUnfinished() {
        return delegate().removeUnfinished();
    }

    @Override
    public String retention() {
        return delegate().retention();
    }

    @Override
    public List<LakeObject> list(String prefix) throws IOException {
        return delegate().list(prefix);
    }
}
