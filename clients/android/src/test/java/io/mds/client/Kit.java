package io.mds.client;

import io.mds.client.engine.Text;
import java.io.File;
import java.io.IOException;
import org.json.JSONObject;

/** Loads the conformance vectors from clients/conformance/vectors (the directory in -Dmds.kit, else relative). */
final class Kit {
    private Kit() {}

    static JSONObject load(String group) throws IOException {
        File dir = new File(System.getProperty("mds.kit", "../conformance/vectors"));
        JSONObject data = Text.parseObject(Text.fromUtf8(new FileStorage(dir).get(group + ".json")));
        if (!"mds-conformance/1".equals(data.optString("schema")) || !group.equals(data.optString("group"))) {
            throw new IOException(group + ".json: unknown kit schema " + data.optString("schema"));
        }
        return data;
    }
}
