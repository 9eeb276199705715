package io.mds.client.mpaas;

import io.mds.client.MdsException;
import io.mds.client.engine.Device;
import io.mds.client.upgrade.ApkDownload;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeClient;
import io.mds.client.upgrade.UpgradeResult;
import java.io.File;
import java.util.concurrent.Executor;

/**
 * mPaaS {@code MPaaSCheckVersionService} over {@link UpgradeClient}: the check runs on {@code worker}, the
 * answer reaches the app on {@code callbacks} (on Android: {@code context.getMainExecutor()} or a
 * {@code Handler}-backed executor), so the app code of an mPaaS migration keeps its shape.
 */
public final class MPaaSCheckVersionService {
    /** What mPaaS {@code fastCheckHasNewVersion} gives, delivered asynchronously. */
    public interface FastCheckCallBack {
        void onResult(UpgradeResult result, UpgradeCheck check);
    }

    private final UpgradeClient upgrade;
    private final ApkDownload download;
    private final Executor worker;
    private final Executor callbacks;

    public MPaaSCheckVersionService(UpgradeClient upgrade, ApkDownload download, Executor worker, Executor callbacks) {
        this.upgrade = upgrade;
        this.download = download;
        this.worker = worker;
        this.callbacks = callbacks;
    }

    /** mPaaS {@code setIntervalTime}: the single reminder's silent period, in milliseconds. */
    public void setIntervalTime(long millis) {
        upgrade.setSilentPeriodSeconds(millis / 1000);
    }

    /** mPaaS {@code fastCheckNewVersion}: HAS_NEW_VERSION / HAS_NO_NEW_VERSION / HAS_SOME_ERROR and the answer, no UI. */
    public void fastCheckNewVersion(final Device device, final FastCheckCallBack callback) {
        worker.execute(new Runnable() {
            @Override
            public void run() {
                final UpgradeCheck check = upgrade.check(device);
                callbacks.execute(new Runnable() {
                    @Override
                    public void run() {
                        callback.onResult(check.result(), check);
                    }
                });
            }
        });
    }

    /** mPaaS {@code checkNewVersion}: the check, then one hook of {@code callback} (see {@link MPaaSCheckCallBack}). */
    public void checkNewVersion(final Device device, final MPaaSCheckCallBack callback) {
        callbacks.execute(new Runnable() {
            @Override
            public void run() {
                callback.startCheck();
            }
        });
        worker.execute(new Runnable() {
            @Override
            public void run() {
                final UpgradeCheck check = upgrade.check(device);
                File ready = null;
                MdsException failed = check.error();
                if (failed == null && check.result() == UpgradeResult.HAS_NEW_VERSION && check.prompt()) {
                    try {
                        ready = download.downloaded(check);
                    } catch (MdsException unreadable) {
                        failed = unreadable;
                    }
                }
                final File apk = ready;
                final MdsException error = failed;
                callbacks.execute(new Runnable() {
                    @Override
                    public void run() {
                        if (error != null) callback.onException(error);
                        else if (check.result() == UpgradeResult.HAS_NO_NEW_VERSION) callback.noNewVersion(check);
                        else if (!check.prompt()) callback.onLimit(check);
                        else if (apk != null) callback.alreadyDownloaded(check, apk);
                        else callback.showUpgradeDialog(check);
                    }
                });
            }
        });
    }
}
