package io.mds.client.engine;

import io.mds.client.MdsException;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * A signed manifest file: {@code {"v": 1, "keyId", "payload": base64url(JSON), "sig": base64url(Ed25519)}}.
 * The signature is checked over the exact payload bytes (BouncyCastle's lightweight Ed25519, strict
 * RFC 8032), then the payload is parsed; nothing is re-serialised.
 */
public final class Envelope {
    private static final int SIGNATURE_SIZE = 64;

    private final JSONObject document;
    private final byte[] payload;

    private Envelope(JSONObject document, byte[] payload) {
        this.document = document;
        this.payload = payload;
    }

    /** The signed document. */
    public JSONObject document() {
        return document;
    }

    /** The exact payload bytes that were verified (an index lists their SHA-256). */
    public byte[] payload() {
        return payload.clone();
    }

    /** Throws {@code format}, {@code unknown-key} or {@code signature}; {@code what} names the file in messages. */
    public static Envelope open(byte[] file, PublicKeys keys, String what) throws MdsException {
        String keyId;
        byte[] payload;
        byte[] signature;
        try {
            JSONObject data = new JSONObject(Text.fromUtf8(file));
            Object v = data.opt("v");
            if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() != 1) {
                throw new IllegalArgumentException("unsupported envelope version " + v);
            }
            Object id = data.opt("keyId");
            Object body = data.opt("payload");
            Object sig = data.opt("sig");
            if (!(id instanceof String && body instanceof String && sig instanceof String)) {
                throw new IllegalArgumentException("keyId, payload and sig must be strings");
            }
            keyId = (String) id;
            payload = Text.fromBase64((String) body);
            signature = Text.fromBase64((String) sig);
        } catch (JSONException | IllegalArgumentException error) {
            throw new MdsException(MdsException.Kind.FORMAT, what + " is not a manifest envelope (" + error.getMessage() + ")", error);
        }
        byte[] key = keys.get(keyId);
        if (key == null) {
            throw new MdsException(MdsException.Kind.UNKNOWN_KEY, what + " is signed by key " + keyId + ", which this app does not pin");
        }
        if (!verifies(key, payload, signature)) {
            throw new MdsException(MdsException.Kind.SIGNATURE, what + ": signature does not verify with the pinned key " + keyId);
        }
        try {
            return new Envelope(new JSONObject(Text.fromUtf8(payload)), payload);
        } catch (JSONException error) {
            throw new MdsException(MdsException.Kind.FORMAT, what + ": the signed payload is not a JSON object", error);
        }
    }

    private static boolean verifies(byte[] key, byte[] payload, byte[] signature) {
        if (key.length != Ed25519PublicKeyParameters.KEY_SIZE || signature.length != SIGNATURE_SIZE) return false;
        try {
            Ed25519Signer verifier = new Ed25519Signer();
            verifier.init(false, new Ed25519PublicKeyParameters(key, 0));
            verifier.update(payload, 0, payload.length);
            return verifier.verifySignature(signature);
        } catch (RuntimeException malformed) {
            return false;
        }
    }
}
