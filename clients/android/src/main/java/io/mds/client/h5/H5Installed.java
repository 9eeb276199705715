package io.mds.client.h5;

import io.mds.client.engine.Json;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;

/** A verified version of one H5 app in app storage: its files live under {@link #keyOf}. Immutable. */
final class H5Installed {
    final String h5Id;
    final String version;
    final String vhost;
    final String mainUrl;
    final List<String> files;
    final long asyncReqRate;

    H5Installed(String h5Id, String version, String vhost, String mainUrl, List<String> files, long asyncReqRate) {
        this.h5Id = h5Id;
        this.version = version;
        this.vhost = vhost;
        this.mainUrl = mainUrl;
        this.files = Collections.unmodifiableList(new ArrayList<String>(files));
        this.asyncReqRate = asyncReqRate;
    }

    /** The storage key of {@code path} of {@code version} of {@code h5Id}. */
    static String keyOf(String h5Id, String version, String path) {
        return "h5/" + h5Id + "/" + version + "/" + path;
    }

    String keyOf(String path) {
        return keyOf(h5Id, version, path);
    }

    JSONObject toJson() {
        JSONObject out = new JSONObject();
        Json.put(out, "version", version);
        Json.put(out, "vhost", vhost);
        Json.put(out, "mainUrl", mainUrl);
        Json.put(out, "files", new JSONArray(files));
        return Json.put(out, "asyncReqRate", asyncReqRate);
    }

    static H5Installed fromJson(String h5Id, JSONObject stored) {
        List<String> files = new ArrayList<String>();
        JSONArray list = stored.optJSONArray("files");
        for (int i = 0; list != null && i < list.length(); i++) files.add(list.optString(i));
        return new H5Installed(h5Id, stored.optString("version"), stored.optString("vhost"), stored.optString("mainUrl"), files,
                stored.optLong("asyncReqRate", 0));
    }
}
