package io.mds.client;

import io.mds.client.engine.PublicKeys;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/** Everything a client needs, built once with {@link #builder()}; immutable. */
public final class MdsOptions {
    private final String cdnUrl;
    private final String apiUrl;
    private final String appId;
    private final String workspaceId;
    private final PublicKeys publicKeys;
    private final Storage storage;
    private final Transport transport;
    private final Clock clock;
    private final NetworkType networkType;
    private final String h5PublicKeyPem;
    private final Map<String, String> patchKeys;

    private MdsOptions(Builder b) {
        cdnUrl = trim(b.cdnUrl);
        apiUrl = trim(b.apiUrl);
        appId = b.appId;
        workspaceId = b.workspaceId;
        publicKeys = PublicKeys.fromBase64(b.publicKeys);
        storage = b.storage;
        transport = b.transport;
        clock = b.clock;
        networkType = b.networkType;
        h5PublicKeyPem = b.h5PublicKeyPem;
        patchKeys = Collections.unmodifiableMap(new HashMap<String, String>(b.patchKeys));
    }

    private static String trim(String url) {
        String out = url;
        while (out.endsWith("/")) out = out.substring(0, out.length() - 1);
        return out;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String cdnUrl() {
        return cdnUrl;
    }

    public String apiUrl() {
        return apiUrl;
    }

    public String appId() {
        return appId;
    }

    public String workspaceId() {
        return workspaceId;
    }

    public PublicKeys publicKeys() {
        return publicKeys;
    }

    public Storage storage() {
        return storage;
    }

    public Transport transport() {
        return transport;
    }

    public Clock clock() {
        return clock;
    }

    public NetworkType networkType() {
        return networkType;
    }

    /** The app's H5 package RSA public key (PEM), or null when the app uses no H5 packages. */
    public String h5PublicKeyPem() {
        return h5PublicKeyPem;
    }

    /** Key ID → PEM of the hotpatch public keys the app pins. */
    public Map<String, String> patchKeys() {
        return patchKeys;
    }

    /** Required: cdnUrl, apiUrl, appId, workspaceId, publicKeys, storage. */
    public static final class Builder {
        private String cdnUrl;
        private String apiUrl;
        private String appId;
        private String workspaceId = "default";
        private final Map<String, String> publicKeys = new HashMap<String, String>();
        private Storage storage;
        private Transport transport = new HttpUrlTransport(15000);
        private Clock clock = Clock.SYSTEM;
        private NetworkType networkType = new NetworkType() {
            @Override
            public String current() {
                return "WIFI";
            }
        };
        private String h5PublicKeyPem;
        private final Map<String, String> patchKeys = new HashMap<String, String>();

        private Builder() {}

        public Builder cdnUrl(String value) {
            cdnUrl = value;
            return this;
        }

        public Builder apiUrl(String value) {
            apiUrl = value;
            return this;
        }

        public Builder appId(String value) {
            appId = value;
            return this;
        }

        public Builder workspaceId(String value) {
            workspaceId = value;
            return this;
        }

        /** A manifest key the app pins: its ID and the base64 raw Ed25519 key. */
        public Builder publicKey(String keyId, String base64) {
            publicKeys.put(keyId, base64);
            return this;
        }

        public Builder storage(Storage value) {
            storage = value;
            return this;
        }

        public Builder transport(Transport value) {
            transport = value;
            return this;
        }

        public Builder clock(Clock value) {
            clock = value;
            return this;
        }

        public Builder networkType(NetworkType value) {
            networkType = value;
            return this;
        }

        public Builder h5PublicKey(String pem) {
            h5PublicKeyPem = pem;
            return this;
        }

        public Builder patchKey(String keyId, String pem) {
            patchKeys.put(keyId, pem);
            return this;
        }

        public MdsOptions build() {
            String missing = cdnUrl == null ? "cdnUrl" : apiUrl == null ? "apiUrl" : appId == null ? "appId"
                    : publicKeys.isEmpty() ? "publicKey" : storage == null ? "storage" : null;
            if (missing != null) throw new IllegalStateException("MdsOptions needs " + missing);
            return new MdsOptions(this);
        }
    }
}
