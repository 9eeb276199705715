package io.mds.client;

/**
 * Every failure of the SDK: {@link #kind()} names what failed, {@link #field()} the input at fault
 * (validation) and {@link #status()} the HTTP status (server). The kinds are those of every MDS client
 * (docs/clients.md); {@link Kind#wire()} is the kit's name for each.
 */
public final class MdsException extends Exception {
    /** What failed. */
    public enum Kind {
        /** The CDN or API could not be reached. */
        NETWORK("network"),
        /** The server answered with an error. */
        SERVER("server"),
        /** A signature does not verify with the pinned key. */
        SIGNATURE("signature"),
        /** Signed by a key the app does not pin. */
        UNKNOWN_KEY("unknown-key"),
        /** Not the document or archive it should be. */
        FORMAT("format"),
        /** An index older than one already seen. */
        ROLLBACK("rollback"),
        /** Bytes differ from the SHA-256 / size they were published with. */
        DIGEST("digest"),
        /** A package or download ended early. */
        TRUNCATED("truncated"),
        /** A package holds more than its manifest lists. */
        EXTRA("extra"),
        /** Bad input from the app (a device context field). */
        VALIDATION("validation"),
        /** Not allowed on the current network (needClientNetType, Wi-Fi-only packages). */
        NETWORK_TYPE("network-type");

        private final String wire;

        Kind(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }
    }

    private static final long serialVersionUID = 1L;

    private final Kind kind;
    private final String field;
    private final int status;

    public MdsException(Kind kind, String message) {
        this(kind, message, null, 0, null);
    }

    public MdsException(Kind kind, String message, Throwable cause) {
        this(kind, message, null, 0, cause);
    }

    private MdsException(Kind kind, String message, String field, int status, Throwable cause) {
        super(kind.wire() + ": " + message, cause);
        this.kind = kind;
        this.field = field;
        this.status = status;
    }

    /** Bad input: {@code field} names it. */
    public static MdsException validation(String field, String rule) {
        return new MdsException(Kind.VALIDATION, field + " " + rule, field, 0, null);
    }

    /** The server answered {@code status}. */
    public static MdsException server(int status, String message) {
        return new MdsException(Kind.SERVER, message, null, status, null);
    }

    public Kind kind() {
        return kind;
    }

    /** The input field at fault, for {@link Kind#VALIDATION}; else null. */
    public String field() {
        return field;
    }

    /** The HTTP status, for {@link Kind#SERVER}; else 0. */
    public int status() {
        return status;
    }
}
