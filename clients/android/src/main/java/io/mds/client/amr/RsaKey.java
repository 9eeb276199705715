package io.mds.client.amr;

import io.mds.client.MdsException;
import io.mds.client.engine.Text;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;

/**
 * An RSA public key from PEM (SubjectPublicKeyInfo {@code BEGIN PUBLIC KEY}, or PKCS#1
 * {@code BEGIN RSA PUBLIC KEY}) and RSASSA-PKCS1-v1_5 / SHA-256 verification with java.security —
 * the {@code .amr} and hotpatch signatures.
 */
public final class RsaKey {
    private final PublicKey key;

    private RsaKey(PublicKey key) {
        this.key = key;
    }

    public static RsaKey fromPem(String pem) throws MdsException {
        try {
            byte[] der = Text.fromBase64(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s+", ""));
            KeyFactory factory = KeyFactory.getInstance("RSA");
            if (pem.contains("BEGIN RSA PUBLIC KEY")) {
                int[] outer = header(der, 0);
                int[] modulus = header(der, outer[0]);
                int[] exponent = header(der, modulus[1]);
                return new RsaKey(factory.generatePublic(new RSAPublicKeySpec(integer(der, modulus), integer(der, exponent))));
            }
            return new RsaKey(factory.generatePublic(new X509EncodedKeySpec(der)));
        } catch (GeneralSecurityException | IllegalArgumentException | ArrayIndexOutOfBoundsException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "not an RSA public key PEM (" + error.getMessage() + ")", error);
        }
    }

    /** A DER element at {@code at}: {start of contents, end}. */
    private static int[] header(byte[] der, int at) {
        int length = der[at + 1] & 255;
        int start = at + 2;
        if ((length & 0x80) != 0) {
            int count = length & 0x7f;
            length = 0;
            for (int i = 0; i < count; i++) length = (length << 8) | (der[start + i] & 255);
            start += count;
        }
        if (start + length > der.length) throw new IllegalArgumentException("DER runs past its end");
        return new int[] {start, start + length};
    }

    private static BigInteger integer(byte[] der, int[] element) {
        byte[] bytes = new byte[element[1] - element[0]];
        System.arraycopy(der, element[0], bytes, 0, bytes.length);
        return new BigInteger(1, bytes);
    }

    /** Whether {@code signature} is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of {@code data}. */
    public boolean verifies(byte[] data, byte[] signature) {
        try {
            Signature verifier = Signature.getInstance("SHA256withRSA");
            verifier.initVerify(key);
            verifier.update(data);
            return verifier.verify(signature);
        } catch (GeneralSecurityException invalid) {
            return false;
        }
    }
}
