package io.mds.client;

import java.io.IOException;
import java.util.List;

/**
 * Where the SDK keeps manifests, state, config values and installed packages (app storage on Android:
 * {@link FileStorage} over {@code context.getFilesDir()}). Each {@link #put} replaces one value whole and
 * atomically; packages are installed by writing new keys first and switching one pointer last.
 */
public interface Storage {
    /** The value, or null. */
    byte[] get(String key) throws IOException;

    void put(String key, byte[] value) throws IOException;

    void delete(String key) throws IOException;

    /** Every key that starts with {@code prefix}. */
    List<String> keys(String prefix) throws IOException;
}
