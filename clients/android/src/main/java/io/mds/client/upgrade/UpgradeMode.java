package io.mds.client.upgrade;

/** How insistently to offer it: resultStatus 202 single reminder, 204 multiple, 206 (and obsolete 203/205) forced. */
public enum UpgradeMode {
    SINGLE, MULTIPLE, FORCED;

    /** The mode of a resultStatus, or null (201 up to date, or unknown). */
    static UpgradeMode of(int resultStatus) {
        switch (resultStatus) {
            case 202:
                return SINGLE;
            case 204:
                return MULTIPLE;
            case 203:
            case 205:
            case 206:
                return FORCED;
            default:
                return null;
        }
    }
}
