package io.mds.client.mpaas;

import io.mds.client.MdsException;
import io.mds.client.config.ConfigChangeListener;
import io.mds.client.config.ConfigClient;
import io.mds.client.engine.Device;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * mPaaS {@code MPConfigService} over {@link ConfigClient}: the device context is fixed when it is built
 * (mPaaS reads it from the framework), loads run on {@code scheduler}; a load's result or typed failure
 * is in the returned {@link Future}, and the stored values stay when it fails.
 */
public final class MPConfigService {
    private final ConfigClient config;
    private final Device device;
    private final ScheduledExecutorService scheduler;

    public MPConfigService(ConfigClient config, Device device, ScheduledExecutorService scheduler) {
        this.config = config;
        this.device = device;
        this.scheduler = scheduler;
    }

    /** The delivered text, or null. */
    public String getConfig(String key) {
        return config.getConfig(key);
    }

    /** Calls {@code listener} when {@code key} changes (mPaaS listeners name their keys). */
    public void addConfigChangeListener(String key, ConfigChangeListener listener) {
        config.addConfigChangeListener(key, listener);
    }

    public void removeConfigChangeListener(ConfigChangeListener listener) {
        config.removeConfigChangeListener(listener);
    }

    /** Loads if the refresh interval passed (30 minutes, or {@code Load_Config_Interval}): the changed keys, or null. */
    public Future<List<String>> loadConfig() {
        return scheduler.submit(new Callable<List<String>>() {
            @Override
            public List<String> call() throws MdsException {
                return config.load(device);
            }
        });
    }

    /** Loads after {@code delayMillis}, whatever the interval: the changed keys. */
    public Future<List<String>> loadConfigImmediately(long delayMillis) {
        return scheduler.schedule(new Callable<List<String>>() {
            @Override
            public List<String> call() throws MdsException {
                return config.loadImmediately(device);
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
    }
}
