package io.mds.client.mpaas;

import io.mds.client.MdsException;
import io.mds.client.upgrade.UpgradeCheck;
import java.io.File;

/**
 * The hooks of mPaaS {@code MPaaSCheckCallBack} for {@link MPaaSCheckVersionService#checkNewVersion}; each
 * is called on the service's callback executor. After {@link #startCheck} exactly one of the others is.
 */
public interface MPaaSCheckCallBack {
    /** The check begins. */
    void startCheck();

    /** A new version, and its verified package is on the device already (install it). */
    void alreadyDownloaded(UpgradeCheck check, File apk);

    /** A new version to offer now: show the dialog ({@link UpgradeDialog#of}). */
    void showUpgradeDialog(UpgradeCheck check);

    /** Up to date (resultStatus 201). */
    void noNewVersion(UpgradeCheck check);

    /** The check failed and there was no last good manifest to answer from. */
    void onException(MdsException error);

    /**
     * A new version exists, but it is not to be offered now: a single reminder (202) inside its silent
     * period, or a network the task does not allow ({@code needClientNetType}).
     */
    void onLimit(UpgradeCheck check);
}
