package io.mds.client;

import io.mds.client.engine.Text;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.json.JSONObject;

/** Serves a kit scenario step's CDN as an HTTP server would (ETag, 304, 404, transport errors) and the API's answer. */
final class KitNetwork implements Transport {
    JSONObject files = new JSONObject();
    JSONObject apiAnswer;
    final List<String> posts = new ArrayList<String>();
    /** The bodies of the dynamic check requests ({@code POST /client/v1/<product>/check}), in order. */
    final List<JSONObject> checks = new ArrayList<JSONObject>();

    static Response response(final int status, final byte[] body, final String etag) {
        return new Response() {
            @Override
            public int status() {
                return status;
            }

            @Override
            public String header(String name) {
                return name.equalsIgnoreCase("ETag") ? etag : null;
            }

            @Override
            public InputStream body() {
                return new ByteArrayInputStream(body);
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public Response send(String method, String url, Map<String, String> headers, byte[] body) throws IOException {
        URI uri = URI.create(url);
        if (uri.getHost().equals("api.kit")) {
            posts.add(uri.getPath());
            if (uri.getPath().equals("/client/v1/hotpatch/report")) return response(200, Text.utf8("{\"ok\":true}"), null);
            if (uri.getPath().endsWith("/check")) checks.add(Text.parseObject(Text.fromUtf8(body)));
            if (apiAnswer == null) throw new IOException("the scenario did not expect " + uri.getPath());
            return response(200, Text.utf8(apiAnswer.toString()), null);
        }
        JSONObject entry = files.optJSONObject(uri.getPath().substring(1));
        if (entry == null) return response(404, new byte[0], null);
        if (entry.has("error")) throw new IOException("kit: network down");
        String etag = entry.isNull("etag") ? null : entry.optString("etag");
        if (etag != null && etag.equals(headers.get("If-None-Match"))) return response(304, new byte[0], etag);
        byte[] content = entry.has("body64") ? Text.fromBase64(entry.optString("body64")) : Text.utf8(entry.optString("body", ""));
        return response(200, content, etag);
    }
}
