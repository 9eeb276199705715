package io.mds.client.engine;

/** The dimensions advanced rules compare, by their compiled names. */
enum RuleType {
    CITY("city"), MODEL("model"), NETWORK("network"), OS_VERSION("osVersion");

    private final String wire;

    RuleType(String wire) {
        this.wire = wire;
    }

    static RuleType of(String wire) {
        for (RuleType type : values()) if (type.wire.equals(wire)) return type;
        return null;
    }
}
