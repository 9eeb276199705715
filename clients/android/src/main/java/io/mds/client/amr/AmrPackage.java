package io.mds.client.amr;

import java.util.Collections;
import java.util.Map;
import org.json.JSONObject;

/** A verified {@code .amr}: its H5 ID and version, the manifest, path → SHA-256, and the package digest. */
public final class AmrPackage {
    private final String h5Id;
    private final String version;
    private final JSONObject manifest;
    private final Map<String, String> files;
    private final String sha256;
    private final long size;

    AmrPackage(String h5Id, String version, JSONObject manifest, Map<String, String> files, String sha256, long size) {
        this.h5Id = h5Id;
        this.version = version;
        this.manifest = manifest;
        this.files = Collections.unmodifiableMap(files);
        this.sha256 = sha256;
        this.size = size;
    }

    public String h5Id() {
        return h5Id;
    }

    public String version() {
        return version;
    }

    public JSONObject manifest() {
        return manifest;
    }

    /** path → SHA-256 (hex), in package order. */
    public Map<String, String> files() {
        return files;
    }

    public String sha256() {
        return sha256;
    }

    public long size() {
        return size;
    }
}
