package io.mds.client.mpaas;

import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeMode;

/**
 * What the upgrade dialog shows for a check (the pure part of mPaaS's built-in dialog; the app's
 * {@code AlertDialog} renders it): the title names the version, the message is the task's prompt
 * ({@code guideMemo}), and a forced upgrade has no "later" button and cannot be dismissed. Immutable.
 */
public final class UpgradeDialog {
    private final String title;
    private final String message;
    private final boolean canDismiss;

    private UpgradeDialog(String title, String message, boolean canDismiss) {
        this.title = title;
        this.message = message;
        this.canDismiss = canDismiss;
    }

    /** The dialog for a HAS_NEW_VERSION check; throws IllegalArgumentException for any other. */
    public static UpgradeDialog of(UpgradeCheck check) {
        if (check.mode() == null) throw new IllegalArgumentException("only a HAS_NEW_VERSION check has an upgrade dialog, not " + check.result());
        String version = check.newestVersion().isEmpty() ? "A new version" : "Version " + check.newestVersion();
        String memo = check.guideMemo().trim();
        String message = memo.isEmpty() ? version + " is available." : memo;
        return new UpgradeDialog(version + " is available", message, check.mode() != UpgradeMode.FORCED);
    }

    public String title() {
        return title;
    }

    public String message() {
        return message;
    }

    /** A "later" button, back key and outside touch close it: false for a forced upgrade. */
    public boolean canDismiss() {
        return canDismiss;
    }
}
