package io.mds.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@link Storage} in memory (ephemeral: tests, previews). Thread-safe. */
public final class MemoryStorage implements Storage {
    private final Map<String, byte[]> values = new TreeMap<String, byte[]>();

    @Override
    public synchronized byte[] get(String key) {
        byte[] value = values.get(key);
        return value == null ? null : value.clone();
    }

    @Override
    public synchronized void put(String key, byte[] value) {
        values.put(key, value.clone());
    }

    @Override
    public synchronized void delete(String key) {
        values.remove(key);
    }

    @Override
    public synchronized List<String> keys(String prefix) {
        List<String> found = new ArrayList<String>();
        for (String key : values.keySet()) if (key.startsWith(prefix)) found.add(key);
        return found;
    }
}
