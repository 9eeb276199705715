package io.mds.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mds.client.amr.AmrWriter;
import io.mds.client.engine.Text;
import io.mds.client.h5.H5Client;
import io.mds.client.h5.H5Resource;
import io.mds.client.h5.H5SyncResult;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The H5 client: streaming verification, atomic install, Wi-Fi only, install on open, asyncReqRate, the URL resolver. */
class H5Test {
    private static final String H5 = "12345678";
    private static final String PAGE = "https://" + H5 + ".h5app.com/www/index.html";

    /** Serves package bytes by URL; {@code cut} ends the next body early (reset: an IOException, else EOF). */
    static final class PackageServer implements Transport {
        final Map<String, byte[]> packages = new HashMap<String, byte[]>();
        final List<String> requests = new ArrayList<String>();
        int cut = -1;
        boolean reset;

        @Override
        public Response send(String method, String url, Map<String, String> headers, byte[] body) throws IOException {
            requests.add(url);
            byte[] found = packages.get(url);
            if (found == null) return KitNetwork.response(404, new byte[0], null);
            final int limit = cut;
            final boolean fails = reset;
            cut = -1;
            final InputStream whole = new ByteArrayInputStream(limit < 0 ? found : Arrays.copyOf(found, limit));
            final InputStream stream = !fails ? whole : new InputStream() {
                @Override
                public int read() throws IOException {
                    int next = whole.read();
                    if (next < 0) throw new IOException("connection reset");
                    return next;
                }
            };
            return new Response() {
                public int status() {
                    return 200;
                }

                public String header(String name) {
                    return null;
                }

                public InputStream body() {
                    return stream;
                }

                public void close() {}
            };
        }
    }

    private final PackageServer server = new PackageServer();
    private final MemoryStorage storage = new MemoryStorage();
    private final double[] now = {1800000000};
    private final String[] network = {"WIFI"};
    private AmrWriter writer;
    private H5Client h5;

    @BeforeEach
    void setUp() throws Exception {
        File keys = new File(System.getProperty("mds.kit", "../conformance/vectors"), "../keys");
        writer = new AmrWriter(Text.fromUtf8(new FileStorage(keys).get("rsa-h5-test.pem")));
        h5 = client(writer.publicPem());
    }

    private H5Client client(String publicPem) throws MdsException {
        MdsOptions options = MdsOptions.builder().cdnUrl("http://cdn.kit").apiUrl("http://api.kit").appId("A")
                .publicKey("k", Text.toBase64(new byte[32])).storage(storage).transport(server).h5PublicKey(publicPem)
                .clock(new Clock() {
                    @Override
                    public double now() {
                        return now[0];
                    }
                })
                .networkType(new NetworkType() {
                    @Override
                    public String current() {
                        return network[0];
                    }
                }).build();
        return new H5Client(new DeliveryClient(options));
    }

    private static byte[] page(String version) {
        return Text.utf8("<html>" + version + "</html>");
    }

    /** Publishes {@code version} (its index page says the version) and answers it. */
    private JSONObject answer(String version, int installType, int downloadNetwork, long asyncReqRate) throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<String, byte[]>();
        files.put("www/app.js", Text.utf8("run('" + version + "')"));
        files.put("www/index.html", page(version));
        byte[] amr = writer.write(H5, version, files);
        String url = "http://cdn.kit/h5/" + version + ".amr";
        server.packages.put(url, amr);
        JSONObject item = new JSONObject().put("h5Id", H5).put("version", version).put("amrUrl", url)
                .put("sha256", Text.hex(Text.sha256(amr))).put("vhost", "h5app.com").put("mainUrl", "/www/index.html")
                .put("installType", installType).put("downloadNetwork", downloadNetwork)
                .put("extendInfo", new JSONObject().put("asyncReqRate", asyncReqRate));
        return new JSONObject().put("packages", new JSONArray().put(item));
    }

    private static H5SyncResult only(Map<String, H5SyncResult> results) {
        assertEquals(1, results.size());
        return results.get(H5);
    }

    private void assertOnly(String version) throws Exception {
        assertEquals(java.util.Collections.singletonMap(H5, version), h5.installed());
        assertArrayEquals(page(version), h5.read(PAGE));
        for (String key : storage.keys("h5/" + H5 + "/")) assertTrue(key.startsWith("h5/" + H5 + "/" + version + "/"), key);
    }

    @Test
    void preloadInstallsAndTheResolverAnswersInstalledFiles() throws Exception {
        H5SyncResult first = only(h5.applyAnswer(answer("1.0.0.1", 1, 1, 0)));
        assertEquals(H5SyncResult.Status.INSTALLED, first.status());
        assertOnly("1.0.0.1");
        H5Resource main = h5.resolve("https://" + H5 + ".h5app.com/");
        assertEquals("www/index.html", main.path());
        assertEquals("text/html", main.mimeType());
        assertEquals("h5/" + H5 + "/1.0.0.1/www/index.html", main.storageKey());
        assertEquals("application/javascript", h5.resolve("https://" + H5 + ".h5app.com/www/app.js?v=1").mimeType());
        assertNull(h5.resolve("https://" + H5 + ".h5app.com/www/missing.css")); // online
        assertNull(h5.resolve("https://" + H5 + ".other.com/www/index.html")); // another vhost: online
        assertNull(h5.resolve("https://example.com/www/index.html"));
        assertEquals(H5SyncResult.Status.CURRENT, only(h5.applyAnswer(answer("1.0.0.1", 1, 1, 0))).status());

        assertEquals(H5SyncResult.Status.INSTALLED, only(h5.applyAnswer(answer("1.0.0.2", 1, 1, 0))).status());
        assertOnly("1.0.0.2"); // the old version's files are gone
        h5.applyAnswer(new JSONObject().put("packages", new JSONArray()));
        assertTrue(h5.installed().isEmpty() && storage.keys("h5/" + H5 + "/").isEmpty()); // no longer delivered
    }

    @Test
    void aBadPackageNeverReplacesTheGoodOne() throws Exception {
        h5.applyAnswer(answer("1.0.0.1", 1, 1, 0));
        JSONObject bad = answer("1.0.0.2", 1, 1, 0);
        String url = bad.getJSONArray("packages").getJSONObject(0).getString("amrUrl");
        byte[] amr = server.packages.get(url);
        amr[amr.length - 1024 - 512 + 2] ^= 1; // a byte of the last file (index.html, under one block)
        H5SyncResult refused = only(h5.applyAnswer(bad));
        assertEquals(H5SyncResult.Status.FAILED, refused.status());
        assertEquals(MdsException.Kind.DIGEST, refused.error().kind());
        assertOnly("1.0.0.1"); // and nothing of 1.0.0.2 is left in storage

        H5Client otherKey = client(new AmrWriter(Text.fromUtf8(new FileStorage(new File(System.getProperty("mds.kit",
                "../conformance/vectors"), "../keys")).get("rsa-other-test.pem"))).publicPem());
        assertEquals(MdsException.Kind.SIGNATURE, only(otherKey.applyAnswer(answer("1.0.0.3", 1, 1, 0))).error().kind());
        assertOnly("1.0.0.1");

        JSONObject wrongVersion = answer("1.0.0.4", 1, 1, 0);
        JSONObject item = wrongVersion.getJSONArray("packages").getJSONObject(0);
        server.packages.put(item.getString("amrUrl"), server.packages.get("http://cdn.kit/h5/1.0.0.3.amr"));
        item.remove("sha256");
        assertEquals(MdsException.Kind.DIGEST, only(h5.applyAnswer(wrongVersion)).error().kind()); // 1.0.0.3 served as 1.0.0.4
        assertOnly("1.0.0.1");
    }

    @Test
    void aTruncatedOrBrokenDownloadKeepsTheLastGoodVersion() throws Exception {
        h5.applyAnswer(answer("1.0.0.1", 1, 1, 0));
        JSONObject next = answer("1.0.0.2", 1, 1, 0);
        server.cut = 1700; // inside the first file, after CERT.json and its signature
        assertEquals(MdsException.Kind.TRUNCATED, only(h5.applyAnswer(next)).error().kind());
        assertOnly("1.0.0.1");
        server.cut = 3000;
        server.reset = true;
        assertEquals(MdsException.Kind.NETWORK, only(h5.applyAnswer(next)).error().kind());
        assertOnly("1.0.0.1");
        server.reset = false;
        assertEquals(MdsException.Kind.SERVER, only(h5.applyAnswer(new JSONObject().put("packages", new JSONArray()
                .put(next.getJSONArray("packages").getJSONObject(0).put("amrUrl", "http://cdn.kit/gone.amr"))))).error().kind());
        assertOnly("1.0.0.1");
    }

    @Test
    void wifiOnlyPackagesWaitForWifi() throws Exception {
        network[0] = "4G";
        assertEquals(H5SyncResult.Status.WAITING_FOR_WIFI, only(h5.applyAnswer(answer("1.0.0.1", 1, 0, 0))).status());
        assertTrue(server.requests.isEmpty() && h5.installed().isEmpty());
        network[0] = "WLAN"; // a synonym of Wi-Fi
        assertEquals(H5SyncResult.Status.INSTALLED, only(h5.applyAnswer(answer("1.0.0.1", 1, 0, 0))).status());
    }

    @Test
    void installOnOpenStagesUntilTheAppOpensIt() throws Exception {
        assertEquals(H5SyncResult.Status.INSTALLED, only(h5.applyAnswer(answer("1.0.0.1", 0, 1, 0))).status()); // nothing to keep
        assertEquals(H5SyncResult.Status.STAGED, only(h5.applyAnswer(answer("1.0.0.2", 0, 1, 0))).status());
        assertEquals("1.0.0.1", h5.installed().get(H5));
        assertEquals(H5SyncResult.Status.STAGED, only(h5.applyAnswer(answer("1.0.0.2", 0, 1, 0))).status());
        assertArrayEquals(page("1.0.0.2"), h5.read(PAGE)); // opening the page switches first
        assertOnly("1.0.0.2");
        assertEquals("1.0.0.2", h5.open(H5));
    }

    @Test
    void asyncReqRateSpacesSyncsOut() throws Exception {
        h5.applyAnswer(answer("1.0.0.1", 1, 1, 600));
        assertNull(h5.sync(io.mds.client.engine.Device.builder().platform("android").build())); // 600 s not passed: no request
        assertEquals(1, server.requests.size());
    }
}
