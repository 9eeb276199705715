package io.mds.client.h5;

import io.mds.client.MdsException;

/** What one sync did for one H5 app. Immutable. */
public final class H5SyncResult {
    /** Where the H5 app stands after the sync. */
    public enum Status {
        /** The new version was verified and is in use now. */
        INSTALLED,
        /** Verified and kept; in use from the next time the app opens it (install on open). */
        STAGED,
        /** The device had this version already. */
        CURRENT,
        /** A Wi-Fi-only package, and the device is not on Wi-Fi. */
        WAITING_FOR_WIFI,
        /** Refused or not downloaded ({@link #error()}); the version in use stays. */
        FAILED
    }

    private final String version;
    private final Status status;
    private final MdsException error;
    private final String release;

    H5SyncResult(String version, Status status, MdsException error) {
        this(version, status, error, null);
    }

    private H5SyncResult(String version, Status status, MdsException error, String release) {
        this.version = version;
        this.status = status;
        this.error = error;
        this.release = release;
    }

    H5SyncResult withRelease(String candidate) {
        return new H5SyncResult(version, status, error, candidate);
    }

    /** The version the answer names. */
    public String version() {
        return version;
    }

    public Status status() {
        return status;
    }

    /** Why it failed (typed), else null. */
    public MdsException error() {
        return error;
    }

    /** The release that chose this version ({@code h5-task-<id>}, what events name), or null when unknown (a dynamic answer, {@code applyAnswer}). */
    public String release() {
        return release;
    }
}
