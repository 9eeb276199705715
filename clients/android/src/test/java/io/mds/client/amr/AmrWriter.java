package io.mds.client.amr;

import io.mds.client.engine.Text;
import java.io.ByteArrayOutputStream;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;

/** Writes signed {@code .amr} packages the way {@code chalicelib/packaging/amr.py} does, with a test key (tests only). */
public final class AmrWriter {
    private final PrivateKey key;
    private final String publicPem;

    /** {@code privatePem}: a PKCS#8 RSA private key (clients/conformance/keys). */
    public AmrWriter(String privatePem) throws Exception {
        byte[] der = Text.fromBase64(privatePem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s+", ""));
        KeyFactory factory = KeyFactory.getInstance("RSA");
        RSAPrivateCrtKey rsa = (RSAPrivateCrtKey) factory.generatePrivate(new PKCS8EncodedKeySpec(der));
        key = rsa;
        byte[] spki = factory.generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent())).getEncoded();
        publicPem = "-----BEGIN PUBLIC KEY-----\n" + Text.toBase64(spki) + "\n-----END PUBLIC KEY-----\n";
    }

    public String publicPem() {
        return publicPem;
    }

    /** The package of {@code files} (path → content, in order) as version {@code version} of {@code h5Id}. */
    public byte[] write(String h5Id, String version, Map<String, byte[]> files) throws Exception {
        JSONArray list = new JSONArray();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            list.put(new JSONObject().put("path", file.getKey()).put("size", file.getValue().length)
                    .put("sha256", Text.hex(Text.sha256(file.getValue()))));
        }
        byte[] manifest = Text.utf8(new JSONObject().put("format", "mds-amr/1").put("h5Id", h5Id).put("version", version)
                .put("files", list).toString());
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(key);
        signer.update(manifest);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        member(out, "CERT.json", manifest);
        member(out, "CERT.json.sig", signer.sign());
        for (Map.Entry<String, byte[]> file : files.entrySet()) member(out, h5Id + "/" + file.getKey(), file.getValue());
        out.write(new byte[2 * TarHeader.BLOCK]);
        return out.toByteArray();
    }

    private static void member(ByteArrayOutputStream out, String name, byte[] content) throws Exception {
        out.write(TarHeader.canonical(name, content.length));
        out.write(content);
        out.write(new byte[(TarHeader.BLOCK - content.length % TarHeader.BLOCK) % TarHeader.BLOCK]);
    }
}
