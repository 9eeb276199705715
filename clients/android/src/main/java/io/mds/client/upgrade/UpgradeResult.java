package io.mds.client.upgrade;

/** The mPaaS states of an upgrade check. */
public enum UpgradeResult {
    HAS_NEW_VERSION, HAS_NO_NEW_VERSION, HAS_SOME_ERROR
}
