package io.mds.client.config;

/** Called once per key that was added, changed or removed by a load ({@code value} null when removed). */
public interface ConfigChangeListener {
    void onChange(String key, Object value);
}
